/// What one op does to the globals and to control flow, with a call's helper
/// flags taken into account. Every pass asks these rather than the raw table.
extension IROp {
    var helperFlags: HelperFlags { HelperFlags(rawValue: aux) }

    /// May leave the block through a guest exception.
    var mayFault: Bool {
        guard opcode.properties.mayFault else { return false }
        return opcode != .call || !helperFlags.contains(.noFault)
    }

    /// May read or write any global through the CPU state.
    var accessesGlobals: Bool {
        guard opcode.properties.touchesState else { return false }
        return opcode != .call || !helperFlags.contains(.noState)
    }

    /// Every global must hold its architectural value here: the op reads the
    /// state, may fault, or leaves the block.
    var observesGlobals: Bool { accessesGlobals || mayFault || opcode.properties.endsBlock }

    /// May be deleted when its output is unused.
    var isRemovableWhenUnused: Bool {
        if opcode == .call { return helperFlags.contains([.noFault, .noSideEffects]) }
        return !opcode.properties.sideEffects
    }

    /// The temp this op writes, or `.none`.
    var writtenTemp: Temp { opcode.properties.outputs > 0 ? output : .none }

    /// A `br`/`brcond`'s target.
    var isBranch: Bool { opcode == .br || opcode == .brcond }
}

extension IRBlock {
    /// Keeps the ops whose flag is true, in order.
    func keepOps(_ keep: [Bool]) {
        var kept = 0
        for index in ops.indices where keep[index] {
            if kept != index { ops[kept] = ops[index] }
            kept += 1
        }
        ops.removeLast(ops.count - kept)
    }
}

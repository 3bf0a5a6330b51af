/// Removes a state store when a later one writes the same field (same
/// offset and width) with nothing in between that could see the first:
/// no state read, helper, possible fault, exit or control flow, and no host
/// x87 instruction with a memory operand (a state field) or a flags store. The x87
/// instructions record their opcode and address this way, one store each,
/// and only the last of a run of them is ever seen.
public struct DeadStateStores: IRPass {
    public init() {}
    public var name: String { "dead state stores" }

    public func run(on block: IRBlock) -> Bool {
        // Fields some later store overwrites, since the last op that could look.
        var overwritten: [Field] = []
        var keep: [Bool] = []
        var removed = false
        for index in block.ops.indices.reversed() {
            let op = block.ops[index]
            if op.opcode == .storeState {
                let field = Field(offset: op.constant, access: op.aux)
                if overwritten.contains(field) {
                    if keep.isEmpty { keep = Array(repeating: true, count: block.ops.count) }
                    keep[index] = false
                    removed = true
                } else {
                    overwritten.append(field)
                }
                continue
            }
            let hostX87UsesState = op.opcode == .hostX87
                && (HostX87Instruction(rawValue: op.constant).isMemoryForm || HostX87Instruction(rawValue: op.constant).storesFlags)
            if op.observesGlobals || op.opcode == .label || op.isBranch || hostX87UsesState {
                overwritten.removeAll(keepingCapacity: true)
            }
        }
        if removed { block.keepOps(keep) }
        return removed
    }

    private struct Field: Equatable {
        var offset: UInt64
        var access: UInt8
    }
}

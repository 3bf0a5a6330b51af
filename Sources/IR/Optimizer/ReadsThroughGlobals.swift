/// After `mov g, t` (a global given a local's value), later reads of `t`
/// read `g` instead, while both still hold that value. Copy propagation
/// points reads the other way (at the local, so the global's write may die);
/// once dead writes are gone, this turns the surviving copies around: the
/// local then usually dies at the move, which the register allocator makes
/// a rename, where reads kept it alive beside the global in a second register.
///
/// A pairing ends at a write to either temp, at a label, and at an op that
/// may change globals behind the IR's back (a guest access only reads them
/// or leaves the block through a fault, so it ends nothing).
public struct ReadsThroughGlobals: IRPass {
    private let workspace = PassWorkspace()

    public init() {}
    public var name: String { "reads through globals" }

    public func run(on block: IRBlock) -> Bool {
        let count = block.tempCount
        // Per local: the global holding its value; per global: that local.
        var globalOf: [Temp] = [], localOf: [Temp] = []
        // Locals given a constant: the backend uses those as immediates.
        var isConstant: [Bool] = []
        var paired: [Temp] = []
        swap(&globalOf, &workspace.temps)
        swap(&localOf, &workspace.globalTemps)
        swap(&isConstant, &workspace.flags)
        swap(&paired, &workspace.pairedTemps)
        defer {
            swap(&globalOf, &workspace.temps)
            swap(&localOf, &workspace.globalTemps)
            swap(&isConstant, &workspace.flags)
            swap(&paired, &workspace.pairedTemps)
        }
        globalOf.resetAll(to: .none, count: count)
        localOf.resetAll(to: .none, count: block.globalCount)
        isConstant.resetAll(to: false, count: count)
        paired.removeAll(keepingCapacity: true)
        var changed = false

        func unpairAll() {
            for local in paired where !globalOf[Int(local.index)].isNone {
                localOf[Int(globalOf[Int(local.index)].index)] = .none
                globalOf[Int(local.index)] = .none
            }
            paired.removeAll(keepingCapacity: true)
        }

        for index in block.ops.indices {
            var op = block.ops[index]
            if op.opcode == .label { unpairAll() }
            var rewritten = false
            for position in 0..<op.opcode.properties.inputs {
                let input = op.input(position)
                guard !input.isNone, !block.isGlobal(input) else { continue }
                let global = globalOf[Int(input.index)]
                if !global.isNone {
                    op.setInput(position, global)
                    rewritten = true
                }
            }
            if rewritten {
                block.ops[index] = op
                changed = true
            }

            let clobbers = op.opcode != .loadGuest && op.opcode != .storeGuest && op.accessesGlobals
            if clobbers { unpairAll() }
            let out = op.writtenTemp
            guard !out.isNone else { continue }
            if block.isGlobal(out) {
                let local = localOf[Int(out.index)]
                if !local.isNone {
                    globalOf[Int(local.index)] = .none
                    localOf[Int(out.index)] = .none
                }
                let source = op.inputs.0
                if op.opcode == .mov, !source.isNone, !block.isGlobal(source), !isConstant[Int(source.index)],
                   block.info(source).type == block.info(out).type, globalOf[Int(source.index)].isNone {
                    globalOf[Int(source.index)] = out
                    localOf[Int(out.index)] = source
                    paired.append(source)
                }
            } else {
                let global = globalOf[Int(out.index)]
                if !global.isNone {
                    localOf[Int(global.index)] = .none
                    globalOf[Int(out.index)] = .none
                }
                isConstant[Int(out.index)] = op.opcode == .movi
            }
        }
        return changed
    }
}

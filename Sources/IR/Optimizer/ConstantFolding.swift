/// Constant folding and propagation in one forward pass: ops whose inputs
/// are all known become `movi`, algebraic identities become `mov` or `movi`,
/// branches with a known outcome become `br` or disappear, and moves of a
/// value already in place are dropped. Facts are per basic block: dropped at
/// labels, and for globals at every op that may change the CPU state.
public struct ConstantFolding: IRPass {
    private let workspace = PassWorkspace()

    public init() {}
    public var name: String { "constant folding" }

    public func run(on block: IRBlock) -> Bool {
        var facts = TempFacts()
        swap(&facts, &workspace.facts)
        facts.reset(for: block)
        var keep = workspace.takeKeep(block)
        defer {
            swap(&facts, &workspace.facts)
            swap(&keep, &workspace.keep)
        }
        var changed = false
        for index in block.ops.indices {
            var op = block.ops[index]
            if op.opcode == .label { facts.forgetAll() }
            switch facts.rewrite(op, in: block) {
            case .unchanged:
                break
            case .replaced(let replacement):
                op = replacement
                block.ops[index] = op
                changed = true
            case .removed:
                keep[index] = false
                changed = true
                continue
            }
            facts.record(op)
        }
        if changed { block.keepOps(keep) }
        return changed
    }
}

extension TempFacts {
    /// Updates the facts for `op` having run.
    mutating func record(_ op: IROp) {
        if op.accessesGlobals { clobberGlobals() }
        let out = op.writtenTemp
        if !out.isNone {
            switch op.opcode {
            case .movi: setConstant(out, op.constant)
            case .mov: setCopy(out, of: op.input(0))
            default: setUnknown(out)
            }
        }
        // Code after an exit or a jump is reached, if at all, from a branch.
        if op.opcode.properties.endsBlock { forgetAll() }
    }
}

/// Replaces each read of a copy by a read of the temp it was copied from,
/// while both still hold the same value: never across a later write to the
/// source, a label, or (for a global source) an op that may change the CPU
/// state. The copies themselves are then often dead.
public struct CopyPropagation: IRPass {
    private let workspace = PassWorkspace()

    public init() {}
    public var name: String { "copy propagation" }

    public func run(on block: IRBlock) -> Bool {
        var facts = TempFacts()
        swap(&facts, &workspace.facts)
        facts.reset(for: block)
        defer { swap(&facts, &workspace.facts) }
        var changed = false
        for index in block.ops.indices {
            var op = block.ops[index]
            if op.opcode == .label { facts.forgetAll() }
            var rewritten = false
            for position in 0..<op.opcode.properties.inputs {
                let input = op.input(position)
                guard !input.isNone else { continue }
                let source = facts.representative(input)
                if source != input {
                    op.setInput(position, source)
                    rewritten = true
                }
            }
            // Written back only when changed: each write checks the array's uniqueness.
            if rewritten {
                block.ops[index] = op
                changed = true
            }
            facts.record(op)
        }
        return changed
    }
}

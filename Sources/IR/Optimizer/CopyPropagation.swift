/// Replaces each read of a copy by a read of the temp it was copied from,
/// while both still hold the same value: never across a later write to the
/// source, a label, or (for a global source) an op that may change the CPU
/// state. The copies themselves are then often dead.
public struct CopyPropagation: IRPass {
    public init() {}
    public var name: String { "copy propagation" }

    public func run(on block: IRBlock) -> Bool {
        var facts = TempFacts(block)
        var changed = false
        for index in block.ops.indices {
            var op = block.ops[index]
            if op.opcode == .label { facts.forgetAll() }
            for position in 0..<op.opcode.properties.inputs {
                let input = op.input(position)
                guard !input.isNone else { continue }
                let source = facts.representative(input)
                if source != input {
                    op.setInput(position, source)
                    changed = true
                }
            }
            block.ops[index] = op
            facts.record(op)
        }
        return changed
    }
}

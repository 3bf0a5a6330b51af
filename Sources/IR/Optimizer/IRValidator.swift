/// One problem found in a block, with the op it was found at.
public struct IRValidationError: Error, Equatable, CustomStringConvertible {
    /// The op's position in `IRBlock.ops`, or nil for a problem of the whole block.
    public let opIndex: Int?
    public let message: String

    public var description: String {
        opIndex.map { "op \($0): \(message)" } ?? message
    }
}

/// Invalid IR met by `PassManager` while validating: which pass produced it,
/// what is wrong, and the IR itself.
public struct IRValidationFailure: Error, CustomStringConvertible {
    public let pass: String?
    public let errors: [IRValidationError]
    public let ir: String

    public var description: String {
        let stage = pass.map { "after \($0)" } ?? "before optimization"
        return "invalid IR \(stage):\n" + errors.map { "  \($0)" }.joined(separator: "\n") + "\nIR:\n" + ir
    }
}

/// Checks that a block is well formed: operand counts and types per opcode,
/// immediate fields in range, every label set once and every branch target
/// set, and every local temp written before it is read on every path.
public enum IRValidator {
    public static func validate(_ block: IRBlock) -> [IRValidationError] {
        var errors: [IRValidationError] = []
        for index in block.ops.indices {
            OpChecker(block: block, index: index).check(into: &errors)
        }
        checkLabels(block, into: &errors)
        // Definedness needs sound temps and labels; report those first.
        if errors.isEmpty { checkDefinedBeforeUse(block, into: &errors) }
        return errors
    }

    /// Throws the validator's findings, if any.
    public static func check(_ block: IRBlock) throws {
        let errors = validate(block)
        if !errors.isEmpty { throw IRValidationFailure(pass: nil, errors: errors, ir: block.description) }
    }

    private static func checkLabels(_ block: IRBlock, into errors: inout [IRValidationError]) {
        let count = Int(block.labelCount)
        var setAt = Array(repeating: -1, count: count)
        for (index, op) in block.ops.enumerated() where op.opcode == .label && op.constant < UInt64(count) {
            let id = Int(op.constant)
            if setAt[id] >= 0 {
                errors.append(IRValidationError(opIndex: index, message: "label L\(id) is already set at op \(setAt[id])"))
            } else {
                setAt[id] = index
            }
        }
        for (index, op) in block.ops.enumerated() where op.isBranch && op.constant < UInt64(count) {
            if setAt[Int(op.constant)] < 0 {
                errors.append(IRValidationError(opIndex: index,
                                                message: "`\(block.describe(op))` branches to L\(op.constant), which is never set"))
            }
        }
    }

    /// A forward must-analysis over the basic blocks: a temp is defined at a
    /// point when every path from the entry writes it first. Globals always are.
    private static func checkDefinedBeforeUse(_ block: IRBlock, into errors: inout [IRValidationError]) {
        let graph = ControlFlowGraph(block)
        let predecessors = graph.predecessors()
        let count = block.tempCount
        var entry = TempSet(count: count)
        entry.insertFirst(block.globalCount)

        func transfer(_ node: ControlFlowGraph.Node, _ defined: TempSet) -> TempSet {
            var defined = defined
            for index in node.ops {
                let out = block.ops[index].writtenTemp
                if !out.isNone { defined.insert(out) }
            }
            return defined
        }

        // Start from "everything defined" and shrink to the fixed point.
        var definedOut = Array(repeating: TempSet(count: count, full: true), count: graph.nodes.count)
        var definedIn = definedOut
        var changed = true
        while changed {
            changed = false
            for index in graph.nodes.indices {
                var inSet = index == 0 ? entry : TempSet(count: count, full: true)
                for predecessor in predecessors[index] { inSet.formIntersection(definedOut[predecessor]) }
                let outSet = transfer(graph.nodes[index], inSet)
                if outSet != definedOut[index] || inSet != definedIn[index] {
                    definedIn[index] = inSet
                    definedOut[index] = outSet
                    changed = true
                }
            }
        }

        for (nodeIndex, node) in graph.nodes.enumerated() {
            var defined = definedIn[nodeIndex]
            for index in node.ops {
                let op = block.ops[index]
                for input in op.presentInputs where !defined.contains(input) {
                    let name = block.name(of: input) ?? input.description
                    errors.append(IRValidationError(
                        opIndex: index, message: "`\(block.describe(op))` reads \(name) before it is written on some path"))
                }
                let out = op.writtenTemp
                if !out.isNone { defined.insert(out) }
            }
        }
    }
}

/// Removes code no path reaches (after a `br` or an exit, up to a label some
/// reachable branch targets), branches to the label that follows them anyway,
/// and labels no branch targets, so that neighbouring code merges into one
/// basic block for the next passes.
public struct UnreachableCode: IRPass {
    private let workspace = PassWorkspace()

    public init() {}
    public var name: String { "unreachable code" }

    public func run(on block: IRBlock) -> Bool {
        if !block.ops.contains(where: { $0.opcode == .label || $0.isBranch }) { return cutAfterFirstExit(block) }
        var changed = removeUnreachable(block)
        changed = removeBranchesToNext(block) || changed
        changed = removeUntargetedLabels(block) || changed
        return changed
    }

    /// Straight-line code (no labels, no branches): only what follows the
    /// first exit is unreachable.
    private func cutAfterFirstExit(_ block: IRBlock) -> Bool {
        guard let exit = block.ops.firstIndex(where: { $0.opcode.properties.endsBlock }),
              exit + 1 < block.ops.count else { return false }
        block.ops.removeLast(block.ops.count - exit - 1)
        return true
    }

    private func removeUnreachable(_ block: IRBlock) -> Bool {
        var graph = ControlFlowGraph()
        swap(&graph, &workspace.graph)
        defer { swap(&graph, &workspace.graph) }
        graph.build(block)
        var reachable: [Bool] = [], work: [Int] = []
        swap(&reachable, &workspace.flags)
        swap(&work, &workspace.nodes)
        defer {
            swap(&reachable, &workspace.flags)
            swap(&work, &workspace.nodes)
        }
        graph.reachable(into: &reachable, work: &work)
        guard reachable.contains(false) else { return false }
        var keep = workspace.takeKeep(block)
        defer { swap(&keep, &workspace.keep) }
        for (index, node) in graph.nodes.enumerated() where !reachable[index] {
            for op in node.ops { keep[op] = false }
        }
        block.keepOps(keep)
        return true
    }

    /// `br L` or `brcond …, L` directly followed (labels aside) by `label L`
    /// goes where control would go anyway.
    private func removeBranchesToNext(_ block: IRBlock) -> Bool {
        var keep = workspace.takeKeep(block)
        defer { swap(&keep, &workspace.keep) }
        var changed = false
        for index in block.ops.indices where block.ops[index].isBranch {
            var next = index + 1
            while next < block.ops.count, block.ops[next].opcode == .label {
                if block.ops[next].constant == block.ops[index].constant {
                    keep[index] = false
                    changed = true
                    break
                }
                next += 1
            }
        }
        if changed { block.keepOps(keep) }
        return changed
    }

    private func removeUntargetedLabels(_ block: IRBlock) -> Bool {
        var targeted: [Bool] = []
        swap(&targeted, &workspace.flags)
        defer { swap(&targeted, &workspace.flags) }
        targeted.resetAll(to: false, count: Int(block.labelCount))
        for op in block.ops where op.isBranch && op.constant < UInt64(targeted.count) {
            targeted[Int(op.constant)] = true
        }
        var keep = workspace.takeKeep(block)
        defer { swap(&keep, &workspace.keep) }
        var changed = false
        for (index, op) in block.ops.enumerated()
        where op.opcode == .label && op.constant < UInt64(targeted.count) && !targeted[Int(op.constant)] {
            keep[index] = false
            changed = true
        }
        if changed { block.keepOps(keep) }
        return changed
    }
}

/// Deletes removable ops whose output is dead, for the outputs `eligible`
/// accepts; shared by dead code elimination (locals) and dead global stores.
/// Returns whether anything was removed.
///
/// When every branch goes forward (the usual block: straight-line code, or
/// a conditional jump's two exits), one walk over the nodes from last to
/// first is exact: each node's live-out is made from its successors' live-in
/// as the walk left them, after their removals. Otherwise liveness is solved
/// first, and a removal can leave more to remove for another call.
func removeDeadWrites(_ block: IRBlock, eligible: (Temp) -> Bool) -> Bool {
    var exact = false
    return removeDeadWrites(block, exact: &exact, workspace: PassWorkspace(), eligible: eligible)
}

/// The same; `exact` says whether another call would find nothing more.
/// The graph and sets are built in `workspace`'s storage.
func removeDeadWrites(_ block: IRBlock, exact: inout Bool, workspace: PassWorkspace,
                      eligible: (Temp) -> Bool) -> Bool {
    var graph = ControlFlowGraph()
    swap(&graph, &workspace.graph)
    defer { swap(&graph, &workspace.graph) }
    graph.build(block)
    exact = graph.branchesOnlyForward
    var keep = workspace.takeKeep(block)
    defer { swap(&keep, &workspace.keep) }
    if exact { return removeDeadWritesForward(block, graph, &keep, workspace, eligible: eligible) }
    let liveness = Liveness(block, graph)
    var removed = false
    for nodeIndex in liveness.graph.nodes.indices {
        var live = liveness.liveOut(nodeIndex)
        removeDeadWrites(in: liveness.graph.nodes[nodeIndex], block, &live, &keep, &removed, eligible: eligible)
    }
    if removed { block.keepOps(keep) }
    return removed
}

private func removeDeadWritesForward(_ block: IRBlock, _ graph: ControlFlowGraph, _ keep: inout [Bool],
                                     _ workspace: PassWorkspace, eligible: (Temp) -> Bool) -> Bool {
    let count = block.tempCount
    var exitLive = TempSet(count: count)
    exitLive.insertFirst(block.globalCount)
    var liveIn: [TempSet] = []
    swap(&liveIn, &workspace.liveIn)
    defer { swap(&liveIn, &workspace.liveIn) }
    liveIn.resetAll(to: TempSet(count: 0), count: graph.nodes.count)
    var removed = false
    for nodeIndex in graph.nodes.indices.reversed() {
        let node = graph.nodes[nodeIndex]
        var live = node.exits ? exitLive : TempSet(count: count)
        for next in node.successors { live.formUnion(liveIn[next]) }
        removeDeadWrites(in: node, block, &live, &keep, &removed, eligible: eligible)
        liveIn[nodeIndex] = live
    }
    if removed { block.keepOps(keep) }
    return removed
}

/// The backward walk over one node, from `live` at its end.
@inline(__always)
private func removeDeadWrites(in node: ControlFlowGraph.Node, _ block: IRBlock, _ live: inout TempSet,
                              _ keep: inout [Bool], _ removed: inout Bool, eligible: (Temp) -> Bool) {
    for index in node.ops.reversed() {
        let op = block.ops[index]
        let out = op.writtenTemp
        // `eligible` sees `.none` too: a pure call without a result is
        // dead code (the locals' pass), not a dead global store.
        if op.isRemovableWhenUnused, eligible(out), out.isNone || !live.contains(out) {
            keep[index] = false
            removed = true
            continue
        }
        Liveness.step(op, &live, globals: block.globalCount)
    }
}

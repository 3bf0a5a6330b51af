/// Deletes removable ops whose output is dead, for the outputs `eligible`
/// accepts; shared by dead code elimination (locals) and dead global stores.
/// Returns whether anything was removed.
func removeDeadWrites(_ block: IRBlock, eligible: (Temp) -> Bool) -> Bool {
    let liveness = Liveness(block)
    var keep = Array(repeating: true, count: block.ops.count)
    var removed = false
    for nodeIndex in liveness.graph.nodes.indices {
        let node = liveness.graph.nodes[nodeIndex]
        var live = liveness.liveOut(nodeIndex)
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
    if removed { block.keepOps(keep) }
    return removed
}

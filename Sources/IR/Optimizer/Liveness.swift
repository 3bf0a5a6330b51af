/// Backward liveness of every temp, globals included: a temp is live where
/// its current value may still be read. Globals count as read at every op
/// that observes them (state access, possible fault, exit) and wherever
/// control leaves the block; locals die at every exit.
struct Liveness {
    let graph: ControlFlowGraph
    /// Temps live at the end of each node.
    private(set) var liveOut: [TempSet]

    init(_ block: IRBlock) {
        graph = ControlFlowGraph(block)
        let count = block.tempCount
        var exitLive = TempSet(count: count)
        exitLive.insertFirst(block.globalCount)

        // Each node's summary: temps read before written (gen) and written (kill).
        var gen: [TempSet] = [], kill: [TempSet] = []
        for node in graph.nodes {
            var live = TempSet(count: count), written = TempSet(count: count)
            for index in node.ops.reversed() {
                Liveness.step(block.ops[index], &live, globals: block.globalCount)
                let out = block.ops[index].writtenTemp
                if !out.isNone { written.insert(out) }
            }
            gen.append(live)
            kill.append(written)
        }

        liveOut = Array(repeating: TempSet(count: count), count: graph.nodes.count)
        var liveIn = liveOut
        // Reverse order converges in one sweep for forward branches.
        var changed = true
        while changed {
            changed = false
            for index in graph.nodes.indices.reversed() {
                var out = graph.nodes[index].exits ? exitLive : TempSet(count: count)
                for next in graph.nodes[index].successors { out.formUnion(liveIn[next]) }
                var inSet = out
                // in = gen ∪ (out − kill)
                for word in 0..<inSet.words.count {
                    inSet.words[word] = gen[index].words[word] | (out.words[word] & ~kill[index].words[word])
                }
                if out != liveOut[index] || inSet != liveIn[index] {
                    liveOut[index] = out
                    liveIn[index] = inSet
                    changed = true
                }
            }
        }
    }

    /// Moves `live` from after `op` to before it.
    @inline(__always)
    static func step(_ op: IROp, _ live: inout TempSet, globals: Int) {
        let out = op.writtenTemp
        if !out.isNone { live.remove(out) }
        if op.observesGlobals { live.insertFirst(globals) }
        for index in 0..<op.opcode.properties.inputs {
            let input = op.input(index)
            if !input.isNone { live.insert(input) }
        }
    }
}

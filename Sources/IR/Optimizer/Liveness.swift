/// Backward liveness of every temp, globals included: a temp is live where
/// its current value may still be read. Globals count as read at every op
/// that observes them (state access, possible fault, exit) and wherever
/// control leaves the block; locals die at every exit.
struct Liveness {
    let graph: ControlFlowGraph
    /// Words per temp set.
    private let words: Int
    /// Temps live at the end of each node, `words` words a node.
    private var liveOutWords: [UInt64]

    /// Temps live at the end of node `node`.
    func liveOut(_ node: Int) -> TempSet {
        TempSet(words: liveOutWords[node * words ..< (node + 1) * words])
    }

    init(_ block: IRBlock, _ graph: ControlFlowGraph) {
        self.graph = graph
        let count = block.tempCount
        let words = (count + 63) / 64
        let nodeCount = graph.nodes.count
        self.words = words
        var exitLive = TempSet(count: count)
        exitLive.insertFirst(block.globalCount)
        liveOutWords = [UInt64](repeating: 0, count: nodeCount * words)

        // Each node's summary: temps read before written (gen) and written (kill).
        var gen = [UInt64](repeating: 0, count: nodeCount * words)
        var kill = gen
        for nodeIndex in 0..<nodeCount {
            var live = TempSet(count: count), written = TempSet(count: count)
            for index in graph.nodes[nodeIndex].ops.reversed() {
                Liveness.step(block.ops[index], &live, globals: block.globalCount)
                let out = block.ops[index].writtenTemp
                if !out.isNone { written.insert(out) }
            }
            for word in 0..<words {
                gen[nodeIndex * words + word] = live.word(word)
                kill[nodeIndex * words + word] = written.word(word)
            }
        }

        var liveIn = [UInt64](repeating: 0, count: nodeCount * words)
        // Reverse order converges in one sweep for forward branches.
        var changed = true
        while changed {
            changed = false
            for index in graph.nodes.indices.reversed() {
                let node = graph.nodes[index]
                let base = index * words
                for word in 0..<words {
                    var out: UInt64 = node.exits ? exitLive.word(word) : 0
                    for next in node.successors { out |= liveIn[next * words + word] }
                    // in = gen ∪ (out − kill)
                    let inWord = gen[base + word] | (out & ~kill[base + word])
                    if out != liveOutWords[base + word] || inWord != liveIn[base + word] {
                        liveOutWords[base + word] = out
                        liveIn[base + word] = inWord
                        changed = true
                    }
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

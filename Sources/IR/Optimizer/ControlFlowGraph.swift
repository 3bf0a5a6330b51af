/// The basic blocks of one IR block: maximal op ranges entered only at their
/// first op (a label, or the op after a branch or exit) and left only at
/// their last. Branch targets are resolved through a label-to-block table.
struct ControlFlowGraph {
    /// At most two: a branch's target and the fall-through. Kept inline,
    /// since graphs are built for every block by several passes.
    struct Successors: Sequence {
        private var first = -1, second = -1

        mutating func append(_ node: Int) {
            if first < 0 { first = node } else { second = node }
        }

        struct Iterator: IteratorProtocol {
            var rest: (Int, Int)
            mutating func next() -> Int? {
                guard rest.0 >= 0 else { return nil }
                defer { rest = (rest.1, -1) }
                return rest.0
            }
        }

        func makeIterator() -> Iterator { Iterator(rest: (first, second)) }
    }

    struct Node {
        var ops: Range<Int>
        /// Indices of the blocks control may pass to next.
        var successors = Successors()
        /// Control may leave the whole IR block from its end (an exit op, or
        /// falling off the last op).
        var exits = false
    }

    var nodes: [Node] = []
    /// Node index per label id; -1 for labels that are never set.
    var labelNode: [Int] = []

    /// No nodes (a workspace's graph before its first block).
    init() {}

    init(_ block: IRBlock) {
        nodes.reserveCapacity(8)
        build(block)
    }

    /// Makes this the graph of `block`, in the storage of the previous one.
    mutating func build(_ block: IRBlock) {
        let ops = block.ops
        labelNode.resetAll(to: -1, count: Int(block.labelCount))
        nodes.removeAll(keepingCapacity: true)
        var start = 0
        for index in ops.indices {
            let op = ops[index]
            // A label begins a new node unless it already starts one.
            if op.opcode == .label {
                if index > start { nodes.append(Node(ops: start..<index)); start = index }
                let id = Int(op.constant)
                if id < labelNode.count, labelNode[id] < 0 { labelNode[id] = nodes.count }
            }
            if op.opcode.properties.endsBlock || op.opcode == .brcond {
                nodes.append(Node(ops: start..<(index + 1)))
                start = index + 1
            }
        }
        if start < ops.count || nodes.isEmpty { nodes.append(Node(ops: start..<ops.count)) }

        for index in nodes.indices {
            let range = nodes[index].ops
            let fallThrough = index + 1 < nodes.count ? index + 1 : nil
            guard let last = range.last.map({ ops[$0] }) else {
                nodes[index].exits = fallThrough == nil
                if let next = fallThrough { nodes[index].successors.append(next) }
                continue
            }
            var successors = Successors()
            switch last.opcode {
            case .br:
                if let target = target(of: last) { successors.append(target) }
            case .exitBlock, .gotoBlock:
                nodes[index].exits = true
            case .brcond:
                if let target = target(of: last) { successors.append(target) }
                if let next = fallThrough { successors.append(next) } else { nodes[index].exits = true }
            default:
                if let next = fallThrough { successors.append(next) } else { nodes[index].exits = true }
            }
            nodes[index].successors = successors
        }
    }

    /// Every edge goes to a later node (no loops): one backward sweep over
    /// the nodes solves a backward data-flow problem.
    var branchesOnlyForward: Bool {
        nodes.indices.allSatisfy { index in nodes[index].successors.allSatisfy { $0 > index } }
    }

    func target(of op: IROp) -> Int? {
        let id = Int(op.constant)
        guard id < labelNode.count, labelNode[id] >= 0 else { return nil }
        return labelNode[id]
    }

    /// Marks in `seen` the nodes reachable from the entry; `work` is the
    /// walk's stack (both arrays are the caller's, reused from block to block).
    func reachable(into seen: inout [Bool], work: inout [Int]) {
        seen.resetAll(to: false, count: nodes.count)
        work.removeAll(keepingCapacity: true)
        guard !nodes.isEmpty else { return }
        work.append(0)
        seen[0] = true
        while let node = work.popLast() {
            for next in nodes[node].successors where !seen[next] {
                seen[next] = true
                work.append(next)
            }
        }
    }

    /// For each node, the nodes that may pass control to it.
    func predecessors() -> [[Int]] {
        var result = Array(repeating: [Int](), count: nodes.count)
        for (index, node) in nodes.enumerated() {
            for next in node.successors { result[next].append(index) }
        }
        return result
    }
}

import IR

/// What the register allocator needs to know about a block before code is
/// generated: its basic blocks, and which locals live only inside one of
/// them (those die after their last use there and are never stored).
struct BlockAnalysis {
    /// The basic block of each op: a label starts one, br/brcond and exits end one.
    private(set) var basicBlock: [Int] = []
    /// Per temp: referenced in more than one basic block, so its value must
    /// be in its memory slot at every basic-block boundary. Globals always are.
    private(set) var crossesBlocks: [Bool] = []
    /// Per temp: the op of its last reference, for locals that stay in one
    /// basic block (they die there); -1 for every other temp.
    private var lastUse: [Int] = []
    /// Per temp: the basic block of its first reference (working space).
    private var firstBlock: [Int] = []

    init() {}

    init(_ block: IRBlock) { analyse(block) }

    /// Analyses `block`, reusing the arrays of the previous one (the code
    /// generator is kept from block to block, so this allocates nothing).
    mutating func analyse(_ block: IRBlock) {
        let ops = block.ops
        basicBlock.reset(to: 0, count: ops.count)
        var current = 0
        for index in ops.indices {
            let op = ops[index]
            if op.opcode == .label && index > 0 && !BlockAnalysis.endsBasicBlock(ops[index - 1]) { current += 1 }
            basicBlock[index] = current
            if BlockAnalysis.endsBasicBlock(op) { current += 1 }
        }
        firstBlock.reset(to: -1, count: block.tempCount)
        crossesBlocks.reset(to: false, count: block.tempCount)
        lastUse.reset(to: -1, count: block.tempCount)
        for index in 0..<block.globalCount { crossesBlocks[index] = true }
        for index in ops.indices {
            BlockAnalysis.forEachReference(ops[index]) { temp in
                let slot = Int(temp.index)
                if firstBlock[slot] < 0 { firstBlock[slot] = basicBlock[index] }
                else if firstBlock[slot] != basicBlock[index] { crossesBlocks[slot] = true }
                lastUse[slot] = index
            }
        }
        for slot in lastUse.indices where crossesBlocks[slot] { lastUse[slot] = -1 }
    }

    /// Whether `temp` is a local whose last reference is op `index`.
    @inline(__always)
    func dies(_ temp: Temp, at index: Int) -> Bool { lastUse[Int(temp.index)] == index }

    /// Control leaves or may leave the straight line after this op.
    static func endsBasicBlock(_ op: IROp) -> Bool {
        op.opcode == .brcond || op.opcode.properties.endsBlock
    }

    /// Calls `body` with each temp an op reads or writes.
    @inline(__always)
    static func forEachReference(_ op: IROp, _ body: (Temp) -> Void) {
        let inputs = op.opcode.properties.inputs
        for index in 0..<inputs {
            let input = op.input(index)
            if !input.isNone { body(input) }
        }
        if op.opcode.properties.outputs > 0 && !op.output.isNone { body(op.output) }
    }

    /// The index of the next op at or after `start` in the same basic block
    /// that reads `temp`, or nil.
    func nextRead(of temp: Temp, from start: Int, in ops: [IROp]) -> Int? {
        guard start < ops.count else { return nil }
        let block = basicBlock[start]
        var index = start
        while index < ops.count && basicBlock[index] == block {
            let op = ops[index]
            for input in 0..<op.opcode.properties.inputs where op.input(input) == temp { return index }
            if op.opcode.properties.outputs > 0 && op.output == temp { return nil }
            index += 1
        }
        return nil
    }
}

extension Array {
    /// Makes the array `count` copies of `value`, in the storage it has
    /// when that is large enough.
    @inline(__always)
    mutating func reset(to value: Element, count: Int) {
        // Appending one by one would check the storage's uniqueness per element.
        if self.count > count {
            removeLast(self.count - count)
        } else if self.count < count {
            append(contentsOf: repeatElement(value, count: count - self.count))
        }
        withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    }
}

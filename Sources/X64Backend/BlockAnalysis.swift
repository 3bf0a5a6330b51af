import IR

/// What the register allocator needs to know about a block before code is
/// generated: its basic blocks, and which locals live only inside one of
/// them (those die after their last use there and are never stored).
struct BlockAnalysis {
    /// The basic block of each op: a label starts one, br/brcond and exits end one.
    let basicBlock: [Int]
    /// Per temp: referenced in more than one basic block, so its value must
    /// be in its memory slot at every basic-block boundary. Globals always are.
    let crossesBlocks: [Bool]
    /// Per op: the block-local temps whose last reference is this op.
    let dying: [[Temp]]

    init(_ block: IRBlock) {
        let ops = block.ops
        var basicBlock = [Int](repeating: 0, count: ops.count)
        var current = 0
        for (index, op) in ops.enumerated() {
            if op.opcode == .label && index > 0 && !BlockAnalysis.endsBasicBlock(ops[index - 1]) { current += 1 }
            basicBlock[index] = current
            if BlockAnalysis.endsBasicBlock(op) { current += 1 }
        }
        var firstBlock = [Int](repeating: -1, count: block.tempCount)
        var crosses = [Bool](repeating: false, count: block.tempCount)
        var lastUse = [Int](repeating: -1, count: block.tempCount)
        for index in 0..<block.globalCount { crosses[index] = true }
        for (index, op) in ops.enumerated() {
            for temp in BlockAnalysis.references(op) {
                let slot = Int(temp.index)
                if firstBlock[slot] < 0 { firstBlock[slot] = basicBlock[index] }
                else if firstBlock[slot] != basicBlock[index] { crosses[slot] = true }
                lastUse[slot] = index
            }
        }
        var dying = [[Temp]](repeating: [], count: ops.count)
        for slot in block.globalCount..<block.tempCount where !crosses[slot] && lastUse[slot] >= 0 {
            dying[lastUse[slot]].append(Temp(UInt16(slot)))
        }
        self.basicBlock = basicBlock
        self.crossesBlocks = crosses
        self.dying = dying
    }

    /// Control leaves or may leave the straight line after this op.
    static func endsBasicBlock(_ op: IROp) -> Bool {
        op.opcode == .brcond || op.opcode.properties.endsBlock
    }

    /// The temps an op reads or writes.
    static func references(_ op: IROp) -> [Temp] {
        var temps = op.presentInputs
        if op.opcode.properties.outputs > 0 && !op.output.isNone { temps.append(op.output) }
        return temps
    }

    /// The index of the next op at or after `start` in the same basic block
    /// that reads `temp`, or nil.
    func nextRead(of temp: Temp, from start: Int, in ops: [IROp]) -> Int? {
        guard start < ops.count else { return nil }
        let block = basicBlock[start]
        var index = start
        while index < ops.count && basicBlock[index] == block {
            if ops[index].presentInputs.contains(temp) { return index }
            if ops[index].opcode.properties.outputs > 0 && ops[index].output == temp { return nil }
            index += 1
        }
        return nil
    }
}

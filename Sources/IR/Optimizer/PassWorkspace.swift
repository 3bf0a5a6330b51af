/// Arrays a pass keeps from one block to the next: the optimizer runs on
/// every block the translator makes, and allocating its tables per block
/// (with the generic metadata lookups that come with each new array) cost
/// about as much as the work done in them. A pass owns one workspace; its
/// `run` moves the arrays out (so they stay uniquely referenced and are
/// written in place) and puts them back when done.
final class PassWorkspace {
    var facts = TempFacts()
    var keep: [Bool] = []
    var graph = ControlFlowGraph()
    var liveIn: [TempSet] = []
    var temps: [Temp] = []
    var globalTemps: [Temp] = []
    var pairedTemps: [Temp] = []
    var flags: [Bool] = []
    var nodes: [Int] = []

    init() {}

    /// `keep`, one `true` per op of `block`.
    func takeKeep(_ block: IRBlock) -> [Bool] {
        var keep: [Bool] = []
        swap(&keep, &self.keep)
        keep.resetAll(to: true, count: block.ops.count)
        return keep
    }
}

extension Array {
    /// Makes the array `count` copies of `value`, in the storage it has
    /// when that is large enough.
    @inline(__always)
    mutating func resetAll(to value: Element, count: Int) {
        // Appending one by one would check the storage's uniqueness per element.
        if self.count > count {
            removeLast(self.count - count)
        } else if self.count < count {
            append(contentsOf: repeatElement(value, count: count - self.count))
        }
        withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    }
}

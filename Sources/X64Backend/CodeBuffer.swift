/// The bytes an assembler emits: a growable buffer owned by a class, so
/// that appending through `X64Assembler` (a struct kept in the code
/// generator, a class) costs a capacity check and a store, where an array
/// would check its storage's uniqueness on every byte.
final class CodeBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 4096) {
        base = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    deinit { base.deallocate() }

    @inline(__always)
    func append(_ value: UInt8) {
        if count == capacity { grow() }
        base[count] = value
        count += 1
    }

    @inline(never)
    private func grow() {
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        larger.update(from: base, count: count)
        base.deallocate()
        base = larger
        capacity *= 2
    }

    /// A byte already emitted.
    subscript(index: Int) -> UInt8 {
        get {
            precondition(index >= 0 && index < count, "code buffer index out of range")
            return base[index]
        }
        set {
            precondition(index >= 0 && index < count, "code buffer index out of range")
            base[index] = newValue
        }
    }

    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// The bytes emitted so far, valid until the next append or reset.
    var emitted: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Empties the buffer for the next block, keeping its memory.
    func removeAll() { count = 0 }
}

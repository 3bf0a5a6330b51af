/// One bit per 4 MiB of linear space (the reach of a 4 MiB page, and of two
/// 2 MiB PAE pages): where something was cached through a large page, so an
/// INVLPG anywhere in that region must look for it and one elsewhere need not.
final class LargePageRegions {
    private let words: UnsafeMutablePointer<UInt64>
    private static let wordCount = 1024 / 64

    init() {
        words = .allocate(capacity: LargePageRegions.wordCount)
        words.initialize(repeating: 0, count: LargePageRegions.wordCount)
    }

    deinit { words.deallocate() }

    @inline(__always)
    func mark(_ linear: UInt32) { words[Int(linear >> 28)] |= 1 << UInt64((linear >> 22) & 63) }

    @inline(__always)
    func contains(_ linear: UInt32) -> Bool { words[Int(linear >> 28)] & (1 << UInt64((linear >> 22) & 63)) != 0 }

    func clear() { words.update(repeating: 0, count: LargePageRegions.wordCount) }
}

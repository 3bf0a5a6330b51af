import X86State

/// One bit per 4 MiB of linear space (the reach of a 4 MiB page, and of two
/// 2 MiB PAE pages): where something was cached through a large page, so an
/// INVLPG anywhere in that region must look for it and one elsewhere need not.
/// Linear addresses above 4 GiB fold onto the same bits: a false hit only
/// makes an INVLPG look further.
final class LargePageRegions {
    private let words: UnsafeMutablePointer<UInt64>
    private static let wordCount = 1024 / 64

    init() {
        words = .allocate(capacity: LargePageRegions.wordCount)
        words.initialize(repeating: 0, count: LargePageRegions.wordCount)
    }

    deinit { words.deallocate() }

    @inline(__always)
    func mark(_ linear: LinearAddress) { words[LargePageRegions.word(linear)] |= LargePageRegions.bit(linear) }

    @inline(__always)
    func contains(_ linear: LinearAddress) -> Bool { words[LargePageRegions.word(linear)] & LargePageRegions.bit(linear) != 0 }

    @inline(__always)
    private static func word(_ linear: LinearAddress) -> Int { Int(truncatingIfNeeded: linear >> 28) & (wordCount - 1) }

    @inline(__always)
    private static func bit(_ linear: LinearAddress) -> UInt64 { 1 << ((linear >> 22) & 63) }

    func clear() { words.update(repeating: 0, count: LargePageRegions.wordCount) }
}

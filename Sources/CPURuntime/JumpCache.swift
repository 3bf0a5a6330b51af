/// A direct-mapped cache from a block's linear PC (with CS base and mode) to
/// the block, consulted before the translation cache's dictionary. It holds
/// no references of its own: the translation cache keeps blocks alive, and
/// the jump cache is cleared whenever a block may die or the linear-to-
/// physical mapping may change (TLB flushes), so an entry is never stale.
final class JumpCache {
    static let size = 4096
    private let entries: UnsafeMutablePointer<Unmanaged<TranslatedBlock>?>

    init() {
        entries = .allocate(capacity: JumpCache.size)
        entries.initialize(repeating: nil, count: JumpCache.size)
    }

    deinit { entries.deallocate() }

    @inline(__always)
    private func slot(_ linearPC: UInt32) -> Int {
        Int((linearPC ^ (linearPC >> 12)) & UInt32(JumpCache.size - 1))
    }

    /// The block, unretained: valid while the translation cache holds it.
    @inline(__always)
    func lookupHandle(linearPC: UInt32, codeSegmentBase: UInt32, flags: UInt32) -> Unmanaged<TranslatedBlock>? {
        guard let entry = entries[slot(linearPC)] else { return nil }
        let matches = entry._withUnsafeGuaranteedRef { block in
            block.key.linearPC == linearPC && block.key.codeSegmentBase == codeSegmentBase && block.key.flags == flags
        }
        return matches ? entry : nil
    }

    func insert(_ block: TranslatedBlock) {
        entries[slot(block.key.linearPC)] = Unmanaged.passUnretained(block)
    }

    func clear() {
        entries.update(repeating: nil, count: JumpCache.size)
    }
}

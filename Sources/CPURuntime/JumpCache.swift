import X64Backend
import X86State

/// A two-way set-associative cache from a block's linear PC (with CS base
/// and mode) to the block, consulted before the translation cache.
/// Generated code probes it inline when it leaves with exit code 0
/// (`JumpCacheLayout`), so each entry holds its key and the block's body
/// address in plain memory; the block itself is unretained: the translation
/// cache keeps blocks alive, and an entry is removed before its block may
/// die or when the linear-to-physical mapping it was found through may
/// change (TLB flushes).
///
/// The memory starts with a header whose first word, the bypass word, tells
/// generated code to ask the runtime instead (nonzero while the run loop must
/// look at something first: HLT, a stop, a raised interrupt line while
/// interrupts are enabled).
///
/// A set's two entries share a cache line. A new block goes in the first
/// way, and the block it pushes out moves to the second, so two hot blocks
/// whose linear PCs fall in one set (a call and its return in distant pages)
/// both stay.
///
/// Emptying it is O(1): an entry counts only while its generation equals the
/// header's current one for its kind. Entries found through global pages
/// (or without paging) have odd generations, the others even, and a CR3
/// write, which keeps global TLB entries, moves on only the even one.
final class JumpCache {
    /// Sets: the idle guest's timer tick alone runs a few hundred blocks,
    /// and pairs of them sharing a slot missed on every tick with 4096
    /// direct-mapped entries.
    static let size = 16384
    static let ways = JumpCacheLayout.ways
    static let entryTotal = size * ways
    /// One entry: key (linear PC, CS base, flags), generation, body address;
    /// 32 bytes, two to a set's cache line. The block itself is in `blocks`
    /// at the same index.
    struct Entry {
        var linearPC: LinearAddress = 0
        var codeSegmentBase: UInt32 = 0
        /// ~0 in an empty entry: no mode has every bit set (CPL 3 with real mode is impossible).
        var flags: UInt32 = JumpCache.noFlags
        var generation: UInt32 = 0
        var reserved: UInt32 = 0
        var body: UInt64 = 0
    }

    static let noFlags: UInt32 = ~0
    static let headerBytes = 64
    /// Header offsets of the current generations: non-global (even), global (odd).
    static let generationsOffset = 4
    private let memory: UnsafeMutableRawPointer
    private let entries: UnsafeMutablePointer<Entry>
    /// Per entry, its block (nil in an empty entry).
    private let blocks: UnsafeMutablePointer<Unmanaged<TranslatedBlock>?>
    /// Per entry, the linear pages of its block's first and last bytes, so
    /// INVLPG drops only the entries of the page it names.
    private let firstPages: UnsafeMutablePointer<LinearAddress>
    private let lastPages: UnsafeMutablePointer<LinearAddress>
    /// One bit per 4 MiB of linear space holding an entry found through a
    /// large page, since the last full clear: INVLPG anywhere in a large page
    /// drops all of it, so there it empties the whole cache.
    private let largeRegions = LargePageRegions()
    /// One bit per (linear page mod 65536) that some entry's first or last
    /// byte has lain in since the last full clear: INVLPG of a page whose bit
    /// is clear has nothing to drop and skips the scan.
    private let pageFilter: UnsafeMutablePointer<UInt64>
    static let pageFilterWords = 65536 / 64

    /// What generated code needs to probe the cache.
    var layout: JumpCacheLayout {
        JumpCacheLayout(address: UInt64(UInt(bitPattern: memory)), entriesOffset: JumpCache.headerBytes,
                        entryCount: JumpCache.size, entryBytes: MemoryLayout<Entry>.stride,
                        linearPCOffset: MemoryLayout<Entry>.offset(of: \.linearPC)!,
                        codeSegmentBaseOffset: MemoryLayout<Entry>.offset(of: \.codeSegmentBase)!,
                        flagsOffset: MemoryLayout<Entry>.offset(of: \.flags)!,
                        generationOffset: MemoryLayout<Entry>.offset(of: \.generation)!,
                        generationsOffset: JumpCache.generationsOffset,
                        bodyOffset: MemoryLayout<Entry>.offset(of: \.body)!)
    }

    init() {
        precondition(MemoryLayout<Entry>.stride == 32, "the generated probe assumes 32-byte entries")
        let total = JumpCache.entryTotal
        memory = .allocate(byteCount: JumpCache.headerBytes + total * MemoryLayout<Entry>.stride, alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: JumpCache.headerBytes)
        entries = (memory + JumpCache.headerBytes).bindMemory(to: Entry.self, capacity: total)
        entries.initialize(repeating: Entry(), count: total)
        blocks = .allocate(capacity: total)
        blocks.initialize(repeating: nil, count: total)
        firstPages = .allocate(capacity: total)
        firstPages.initialize(repeating: 0, count: total)
        lastPages = .allocate(capacity: total)
        lastPages.initialize(repeating: 0, count: total)
        pageFilter = .allocate(capacity: JumpCache.pageFilterWords)
        pageFilter.initialize(repeating: 0, count: JumpCache.pageFilterWords)
        generations[0] = 2
        generations[1] = 3
    }

    private var generations: UnsafeMutablePointer<UInt32> {
        (memory + JumpCache.generationsOffset).assumingMemoryBound(to: UInt32.self)
    }

    @inline(__always)
    private func isCurrent(_ entry: UnsafeMutablePointer<Entry>) -> Bool {
        entry.pointee.generation == generations[Int(entry.pointee.generation & 1)]
    }

    deinit {
        memory.deallocate()
        blocks.deallocate()
        firstPages.deallocate()
        lastPages.deallocate()
        pageFilter.deallocate()
    }

    @inline(__always)
    private func markPage(_ page: LinearAddress) { pageFilter[JumpCache.filterWord(page)] |= 1 << (page & 63) }

    @inline(__always)
    private func mayHoldPage(_ page: LinearAddress) -> Bool { pageFilter[JumpCache.filterWord(page)] & (1 << (page & 63)) != 0 }

    @inline(__always)
    private static func filterWord(_ page: LinearAddress) -> Int { Int(truncatingIfNeeded: page >> 6) & (pageFilterWords - 1) }

    /// The bypass word: generated code must not jump through the cache while
    /// it is nonzero, except when it is `bypassUnlessInterruptsOff` and IF is clear.
    var bypass: UInt32 {
        get { memory.load(as: UInt32.self) }
        set { memory.storeBytes(of: newValue, as: UInt32.self) }
    }

    /// The index of the first entry of a linear PC's set; the generated
    /// probe computes the same (`JumpCacheLayout.slot`).
    @inline(__always)
    private func firstEntry(_ linearPC: LinearAddress) -> Int {
        JumpCacheLayout.slot(linearPC, entryCount: JumpCache.size) * JumpCache.ways
    }

    /// The entry that holds the key, or nil.
    @inline(__always)
    private func find(linearPC: LinearAddress, codeSegmentBase: UInt32, flags: UInt32) -> Int? {
        let first = entries + firstEntry(linearPC)
        for way in 0..<JumpCache.ways {
            let entry = first + way
            if entry.pointee.linearPC == linearPC, entry.pointee.codeSegmentBase == codeSegmentBase,
               entry.pointee.flags == flags, isCurrent(entry) { return entry - entries }
        }
        return nil
    }

    /// The block, unretained: valid while the translation cache holds it.
    @inline(__always)
    func lookupHandle(linearPC: LinearAddress, codeSegmentBase: UInt32, flags: UInt32) -> Unmanaged<TranslatedBlock>? {
        guard let index = find(linearPC: linearPC, codeSegmentBase: codeSegmentBase, flags: flags) else { return nil }
        return blocks[index]
    }

    /// The body address of the block a hit finds, or 0.
    @inline(__always)
    func lookupBody(linearPC: LinearAddress, codeSegmentBase: UInt32, flags: UInt32) -> UInt64 {
        guard let index = find(linearPC: linearPC, codeSegmentBase: codeSegmentBase, flags: flags) else { return 0 }
        return entries[index].body
    }

    /// `global`: the block's pages were found through global TLB entries (or
    /// without paging), so a CR3 write leaves its entry.
    /// `largePage`: some page of it was found through a large page.
    func insert(_ block: TranslatedBlock, global: Bool, largePage: Bool) {
        let body = block.code.compiled.map { UInt64(UInt(bitPattern: $0.body)) } ?? 0
        let index = firstEntry(block.key.linearPC)
        // The first way's block moves to the second unless it is an older
        // entry for the same PC (or stale): then it is simply replaced.
        if blocks[index] != nil, entries[index].linearPC != block.key.linearPC, isCurrent(entries + index) {
            entries[index + 1] = entries[index]
            blocks[index + 1] = blocks[index]
            firstPages[index + 1] = firstPages[index]
            lastPages[index + 1] = lastPages[index]
        }
        firstPages[index] = block.key.linearPC >> 12
        lastPages[index] = block.lastLinear >> 12
        markPage(firstPages[index])
        markPage(lastPages[index])
        if largePage {
            largeRegions.mark(block.key.linearPC)
            largeRegions.mark(block.lastLinear)
        }
        entries[index] = Entry(
            linearPC: block.key.linearPC, codeSegmentBase: block.key.codeSegmentBase, flags: block.key.flags,
            generation: generations[global ? 1 : 0], body: body)
        blocks[index] = Unmanaged.passUnretained(block)
    }

    /// Empties the entry holding `block`, if one does (before the block dies).
    func remove(_ block: TranslatedBlock) {
        let first = firstEntry(block.key.linearPC)
        let opaque = Unmanaged.passUnretained(block).toOpaque()
        for index in first..<first + JumpCache.ways where blocks[index]?.toOpaque() == opaque {
            entries[index] = Entry()
            blocks[index] = nil
        }
    }

    /// Empties the whole cache.
    func clear() {
        advance(0)
        advance(1)
        largeRegions.clear()
        pageFilter.update(repeating: 0, count: JumpCache.pageFilterWords)
    }

    /// INVLPG of `linear`: drops the entries of blocks with a byte in its
    /// page, or everything when a large page may cover it.
    func invalidate(linearPage linear: LinearAddress) {
        if largeRegions.contains(linear) {
            clear()
            return
        }
        let page = linear >> 12
        guard mayHoldPage(page) else { return }
        for index in 0..<JumpCache.entryTotal where firstPages[index] == page || lastPages[index] == page {
            entries[index].flags = JumpCache.noFlags
        }
    }

    /// Empties the entries not found through global pages (a CR3 write).
    func clearNonGlobal() { advance(0) }

    private func advance(_ kind: Int) {
        generations[kind] &+= 2
        // After 2^31 advances an old entry could look current again: empty them all.
        if generations[kind] < 4 {
            entries.update(repeating: Entry(), count: JumpCache.entryTotal)
            blocks.update(repeating: nil, count: JumpCache.entryTotal)
            generations[0] = 2
            generations[1] = 3
        }
    }
}

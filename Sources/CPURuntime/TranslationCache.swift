import IR
import Memory
import X64Backend
import X86State

/// A block ready to run: host code from the JIT, or IR for the interpreter.
struct ExecutableBlock {
    var compiled: CompiledBlock?
    var interpreted: InterpretedBlock?
}

/// What identifies a translated block: where its code is, and the static
/// state it was translated for. A CS base is 32 bits in every mode (long
/// mode ignores it); the mode bits (`HiddenFlags`) have room for CS's L bit.
struct BlockKey: Hashable {
    var linearPC: LinearAddress
    var physicalPC: PhysicalAddress
    var codeSegmentBase: UInt32
    var flags: UInt32

    /// One word into the hasher, not four: the dictionary is probed on every
    /// jump-cache miss, and the fields rarely differ but in the PCs.
    func hash(into hasher: inout Hasher) {
        let modes = UInt64(codeSegmentBase) << 32 | UInt64(flags)
        hasher.combine(linearPC &* 0x9E37_79B9_7F4A_7C15 ^ physicalPC ^ modes.byteSwapped)
    }
}

/// A physical page number (a physical address shifted right by 12).
typealias PhysicalPage = UInt64

final class TranslatedBlock {
    let key: BlockKey
    let code: ExecutableBlock
    let instructionCount: Int
    let physicalPages: [PhysicalPage]
    /// The linear address of its last code byte, and that byte's physical page.
    let lastLinear: LinearAddress
    let lastPhysicalPage: PhysicalPage

    init(key: BlockKey, code: ExecutableBlock, instructionCount: Int, physicalPages: [PhysicalPage],
         lastLinear: LinearAddress, lastPhysicalPage: PhysicalPage) {
        self.key = key
        self.code = code
        self.instructionCount = instructionCount
        self.physicalPages = physicalPages
        self.lastLinear = lastLinear
        self.lastPhysicalPage = lastPhysicalPage
    }
}

/// The blocks translated from one physical page, and which of the page's
/// bytes they came from (one bit per byte), so that a store beside the code
/// is told from one into it with a few bit tests.
final class PageCode {
    var keys: [BlockKey] = []
    private let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: 64)

    init() { bits.initialize(repeating: 0, count: 64) }
    deinit { bits.deallocate() }

    /// Marks the page's bytes `first...last` (offsets in the page) as code.
    func mark(_ first: Int, _ last: Int) {
        forEachWord(first, last) { word, mask in bits[word] |= mask }
    }

    /// Whether any of the page's bytes `first...last` is code.
    func holdsCode(_ first: Int, _ last: Int) -> Bool {
        var found = false
        forEachWord(first, last) { word, mask in found = found || bits[word] & mask != 0 }
        return found
    }

    /// Calls `body` with each 64-byte word of the map that `first...last`
    /// touches, and the mask of its bytes there.
    @inline(__always)
    private func forEachWord(_ first: Int, _ last: Int, _ body: (Int, UInt64) -> Void) {
        for word in (first >> 6)...(last >> 6) {
            let low = word == first >> 6 ? first & 63 : 0
            let high = word == last >> 6 ? last & 63 : 63
            let mask = (high == 63 ? ~UInt64(0) : (UInt64(1) << (high + 1)) &- 1) & ~((UInt64(1) << low) &- 1)
            body(word, mask)
        }
    }
}

/// Translated blocks by key, and which physical pages hold code, so a write
/// to such a page can throw away exactly the blocks made from it.
final class TranslationCache {
    private var blocks: [BlockKey: TranslatedBlock] = [:]
    private var blocksByPage: [PhysicalPage: PageCode] = [:]
    /// One byte per 4 KiB physical page: nonzero when some block was translated from it.
    private let codePages: UnsafeMutablePointer<UInt8>
    static let pageCount = 1 << 20
    /// A direct-mapped table in front of the dictionary, indexed by physical
    /// PC: the jump cache is emptied on every TLB flush (each CR3 write), and
    /// refilling it through the dictionary's hashing was a measurable cost.
    /// Each entry holds its block's key, so a probe reads one cache line
    /// (after a CR3 write most lookups of user code come here, cold).
    /// Unretained: an entry is cleared whenever its block leaves `blocks`.
    private let recent: UnsafeMutablePointer<RecentEntry>
    static let recentCount = 1 << 14

    private struct RecentEntry {
        var key = BlockKey(linearPC: 0, physicalPC: 0, codeSegmentBase: 0, flags: JumpCache.noFlags)
        var block: Unmanaged<TranslatedBlock>?
    }

    init() {
        codePages = .allocate(capacity: TranslationCache.pageCount)
        codePages.initialize(repeating: 0, count: TranslationCache.pageCount)
        recent = .allocate(capacity: TranslationCache.recentCount)
        recent.initialize(repeating: RecentEntry(), count: TranslationCache.recentCount)
    }

    deinit {
        codePages.deallocate()
        recent.deallocate()
    }

    @inline(__always)
    private func recentSlot(_ key: BlockKey) -> Int {
        Int(truncatingIfNeeded: key.physicalPC ^ (key.physicalPC >> 14) ^ UInt64(key.flags)) & (TranslationCache.recentCount - 1)
    }

    var count: Int { blocks.count }
    /// Bumped whenever blocks are dropped: a block fetched before a change of
    /// generation may be gone, so the loop does not chain from it.
    private(set) var generation = 0

    /// The byte map covers the low 4 GiB; a page above it (RAM past the
    /// PCI hole) is looked up in the dictionary instead.
    @inline(__always)
    func holdsCode(physicalPage: PhysicalPage) -> Bool {
        if physicalPage < PhysicalPage(TranslationCache.pageCount) { return codePages[Int(physicalPage)] != 0 }
        return blocksByPage[physicalPage] != nil
    }

    func lookup(_ key: BlockKey) -> TranslatedBlock? {
        let slot = recentSlot(key)
        if recent[slot].key == key, let entry = recent[slot].block { return entry.takeUnretainedValue() }
        guard let block = blocks[key] else { return nil }
        recent[slot] = RecentEntry(key: key, block: Unmanaged.passUnretained(block))
        return block
    }

    func insert(_ block: TranslatedBlock) {
        forgetRecent(block.key)
        blocks[block.key] = block
        for page in block.physicalPages {
            if page < PhysicalPage(TranslationCache.pageCount) { codePages[Int(page)] = 1 }
            let code: PageCode
            if let existing = blocksByPage[page] {
                code = existing
            } else {
                code = PageCode()
                blocksByPage[page] = code
            }
            code.keys.append(block.key)
            let (first, last) = TranslationCache.bytes(of: block, in: page)
            code.mark(first, last)
        }
    }

    /// Whether a write of `bytes` at `physical` lands on bytes some block of
    /// its page was translated from. Data beside code in a page (real-mode
    /// programs keep their variables there) is written without dropping the
    /// blocks, as QEMU's per-page code bitmap allows.
    /// The map only grows until the page's blocks are all dropped: a block
    /// on two pages dropped through its other page leaves its bytes marked
    /// here, and a store there then drops this page's blocks too, to no harm.
    func writeTouchesCode(physical: PhysicalAddress, bytes: Int) -> Bool {
        guard bytes > 0, let code = blocksByPage[physical >> 12] else { return false }
        let first = Int(physical & 0xFFF)
        return code.holdsCode(first, min(first + bytes - 1, 0xFFF))
    }

    /// The offsets in `page` of the first and last bytes `block` came from there.
    private static func bytes(of block: TranslatedBlock, in page: PhysicalPage) -> (Int, Int) {
        let first = block.key.physicalPC >> 12 == page ? Int(block.key.physicalPC & 0xFFF) : 0
        let last = block.lastPhysicalPage == page ? Int(block.lastLinear & 0xFFF) : 0xFFF
        return (first, max(first, last))
    }

    /// Drops every block made from `page`, telling `willDrop` of each while it
    /// is still alive; returns how many.
    @discardableResult
    func invalidate(physicalPage page: PhysicalPage, willDrop: (TranslatedBlock) -> Void = { _ in }) -> Int {
        if page < PhysicalPage(TranslationCache.pageCount) { codePages[Int(page)] = 0 }
        generation &+= 1
        guard let keys = blocksByPage.removeValue(forKey: page)?.keys else { return 0 }
        for key in keys {
            forgetRecent(key)
            if let block = blocks.removeValue(forKey: key) { willDrop(block) }
        }
        return keys.count
    }

    /// Clears the recent-table entry of the block with `key`, if it holds it.
    private func forgetRecent(_ key: BlockKey) {
        let slot = recentSlot(key)
        if recent[slot].key == key { recent[slot] = RecentEntry() }
    }

    func flush() {
        recent.update(repeating: RecentEntry(), count: TranslationCache.recentCount)
        generation &+= 1
        blocks.removeAll()
        for page in blocksByPage.keys where page < PhysicalPage(TranslationCache.pageCount) { codePages[Int(page)] = 0 }
        blocksByPage.removeAll()
    }
}

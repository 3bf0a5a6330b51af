import Memory

/// One entry of the software TLB: the page's linear address as tag for each
/// kind of access (with low bits set to force the slow path), and the addend
/// that turns a linear address into a host pointer on a hit. Tags are whole
/// 64-bit linear page addresses, so generated code compares one quadword;
/// 64 bytes, a cache line, so an entry never straddles two.
public struct TLBEntry {
    public var readTag: LinearAddress = TLBEntry.invalid
    public var writeTag: LinearAddress = TLBEntry.invalid
    public var codeTag: LinearAddress = TLBEntry.invalid
    /// Host address minus linear address, for RAM and ROM pages.
    public var addend: Int = 0
    /// The page's physical address (for the slow path and code-page tracking).
    public var physicalPage: PhysicalAddress = 0
    /// `TLBEntry.global`, `TLBEntry.largePage`: what flushes keep or also drop.
    public var flags: UInt32 = 0
    public var reserved: UInt32 = 0
    public var padding: (UInt64, UInt64) = (0, 0)

    /// A tag no aligned address matches.
    public static let invalid: LinearAddress = 1
    /// Tag bit: the page is MMIO (or not mapped): always take the slow path.
    public static let slowPath: LinearAddress = 1 << 1
    /// Tag bit (write tags only): the page holds translated code.
    public static let codePage: LinearAddress = 1 << 2
    /// Tag bit (write tags only): logged device RAM whose page is clean, so
    /// the first store marks it dirty on the slow path.
    public static let notDirty: LinearAddress = 1 << 3

    /// Flag: a global page (G with CR4.PGE): a CR3 write keeps it.
    public static let global: UInt32 = 1 << 0
    /// Flag: part of a 4 MiB or 2 MiB page: INVLPG anywhere in that page drops it.
    public static let largePage: UInt32 = 1 << 1

    public init() {}

    /// No tag can match: as a flush leaves it, or as never filled.
    @inline(__always)
    public var isEmpty: Bool { readTag == TLBEntry.invalid && writeTag == TLBEntry.invalid && codeTag == TLBEntry.invalid }
}

/// The CPU's pinned memory: the `CPUState`, then the IR temps' scratch slots,
/// then the TLBs, in one allocation so generated code reaches all three at
/// fixed offsets from the one state pointer.
public final class CPUStateBlock {
    public static let scratchSlots = 4096
    /// Per MMU mode: 4 MiB of reach. Flushes visit only the entries filled
    /// since the last one (`filled`), so a large TLB costs CR3 writes nothing.
    public static let tlbEntries = 1024
    /// MMU index 0: supervisor accesses; 1: user (CPL 3) accesses.
    public static let mmuModes = 2
    /// Per MMU mode, after all the direct-mapped entries: the last entries
    /// evicted from them, which the miss path searches before walking. Two
    /// hot pages 4 MiB apart would otherwise walk on every access.
    public static let victimEntries = 8

    public static let scratchOffset = (MemoryLayout<CPUState>.stride + 63) & ~63
    public static let tlbOffset = scratchOffset + scratchSlots * 8
    public static let tlbBytes = mmuModes * (tlbEntries + victimEntries) * MemoryLayout<TLBEntry>.stride
    /// The 108-byte FNSAVE image of a guest FPU that left the host FPU (16-byte aligned).
    public static let x87ImageOffset = (tlbOffset + tlbBytes + 63) & ~63
    public static let x87ImageBytes = 108
    public static let size = x87ImageOffset + 128

    public let base: UnsafeMutableRawPointer
    /// Indices (over both modes) of the entries filled since the last full
    /// flush, in fill order; an index may appear twice. When more fills
    /// come than fit, `filledOverflow` makes the flushes scan everything.
    private let filled: UnsafeMutablePointer<UInt32>
    private var filledCount = 0
    private var filledOverflow = false
    static let totalEntries = mmuModes * tlbEntries

    public init() {
        precondition(MemoryLayout<TLBEntry>.stride == 64, "generated code indexes the TLB by 64-byte entries")
        base = UnsafeMutableRawPointer.allocate(byteCount: CPUStateBlock.size, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: CPUStateBlock.size)
        filled = .allocate(capacity: CPUStateBlock.totalEntries)
        state.initialize(to: CPUState())
        filledOverflow = true
        flushTLB()
    }

    deinit {
        base.deallocate()
        filled.deallocate()
    }

    private var entries: UnsafeMutablePointer<TLBEntry> {
        (base + CPUStateBlock.tlbOffset).assumingMemoryBound(to: TLBEntry.self)
    }

    /// Records that `entry` (of `tlb(mmu:)`'s tables) is about to be filled.
    @inline(__always)
    public func willFill(_ entry: UnsafeMutablePointer<TLBEntry>) {
        // An entry already filled is in the list (or the list overflowed).
        guard entry.pointee.isEmpty else { return }
        if filledCount < CPUStateBlock.totalEntries {
            filled[filledCount] = UInt32(entry - entries)
            filledCount += 1
        } else {
            filledOverflow = true
        }
    }

    /// Calls `body` with every entry that may be filled (and some that are
    /// not), victims included.
    @inline(__always)
    public func forEachFilled(_ body: (UnsafeMutablePointer<TLBEntry>) -> Void) {
        if filledOverflow {
            for index in 0..<CPUStateBlock.totalEntries { body(entries + index) }
        } else {
            for position in 0..<filledCount { body(entries + Int(filled[position])) }
        }
        for index in 0..<CPUStateBlock.mmuModes * CPUStateBlock.victimEntries { body(entries + CPUStateBlock.totalEntries + index) }
    }

    /// The state itself.
    @inline(__always)
    public var state: UnsafeMutablePointer<CPUState> { base.assumingMemoryBound(to: CPUState.self) }

    @inline(__always)
    public var x87Image: UnsafeMutableRawPointer { base + CPUStateBlock.x87ImageOffset }

    @inline(__always)
    public func tlb(mmu: Int) -> UnsafeMutablePointer<TLBEntry> {
        (base + CPUStateBlock.tlbOffset).assumingMemoryBound(to: TLBEntry.self) + mmu * CPUStateBlock.tlbEntries
    }

    /// The mode's `victimEntries` entries.
    @inline(__always)
    public func victims(mmu: Int) -> UnsafeMutablePointer<TLBEntry> {
        entries + CPUStateBlock.totalEntries + mmu * CPUStateBlock.victimEntries
    }

    public func flushTLB() {
        forEachFilled { $0.pointee = TLBEntry() }
        filledCount = 0
        filledOverflow = false
    }

    /// Drops every entry but those with `TLBEntry.global` (a CR3 write).
    public func flushNonGlobalTLB() {
        // The list is rewritten in place: position `kept` never passes the one being read.
        var kept = 0
        forEachFilled { entry in
            if entry.pointee.flags & TLBEntry.global == 0 {
                entry.pointee = TLBEntry()
            } else if !entry.pointee.isEmpty, entry - entries < CPUStateBlock.totalEntries {
                filled[kept] = UInt32(entry - entries)
                kept += 1
            }
        }
        filledCount = kept
        filledOverflow = false
    }
}

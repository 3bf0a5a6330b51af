/// The hidden part of a segment register: what the CPU loaded from the
/// descriptor (or computed in real mode). `flags` keeps the descriptor's
/// access bits in their descriptor positions (bits 8-23 of the high dword:
/// type, S, DPL, P, AVL, D/B, G), so tests of them read like the SDM.
public struct SegmentCache: Equatable, Sendable {
    /// A linear address: 32 bits in every mode built so far (generated code
    /// reads its low half), 64 for FS and GS in long mode.
    public var base: LinearAddress = 0
    public var selector: UInt32 = 0
    public var limit: UInt32 = 0xFFFF
    public var flags: UInt32 = SegmentCache.present | SegmentCache.codeOrData | SegmentCache.writable | SegmentCache.accessed

    public init() {}

    public init(selector: UInt32, base: LinearAddress, limit: UInt32, flags: UInt32) {
        self.selector = selector
        self.base = base
        self.limit = limit
        self.flags = flags
    }

    // Descriptor bits as they sit in `flags`.
    public static let accessed: UInt32 = 1 << 8
    /// Data: writable; code: readable.
    public static let writable: UInt32 = 1 << 9
    public static let readable: UInt32 = 1 << 9
    /// Data: expand-down; code: conforming.
    public static let expandDown: UInt32 = 1 << 10
    public static let conforming: UInt32 = 1 << 10
    public static let code: UInt32 = 1 << 11
    /// S: a code or data segment (not a system descriptor).
    public static let codeOrData: UInt32 = 1 << 12
    public static let dplShift: UInt32 = 13
    public static let present: UInt32 = 1 << 15
    public static let available: UInt32 = 1 << 20
    /// L: a 64-bit code segment (in long mode; D must then be clear).
    public static let long: UInt32 = 1 << 21
    /// D/B: 32-bit code, 32-bit stack, or a 4 GiB expand-down bound.
    public static let big: UInt32 = 1 << 22
    public static let granularity: UInt32 = 1 << 23

    /// A present, writable, expand-up data segment of 4 GiB: no access through
    /// it can break a segment rule.
    public var isFlatWritableData: Bool {
        let wanted = SegmentCache.present | SegmentCache.codeOrData | SegmentCache.writable
        let relevant = wanted | SegmentCache.code | SegmentCache.expandDown
        return flags & relevant == wanted && limit == 0xFFFF_FFFF
    }

    public var dpl: UInt32 { (flags >> SegmentCache.dplShift) & 3 }
    public var isBig: Bool { flags & SegmentCache.big != 0 }
    public var isLong: Bool { flags & SegmentCache.long != 0 }

    /// A real-mode (or virtual-8086) segment: base = selector * 16, 64 KiB.
    public static func realMode(selector: UInt16, code: Bool = false) -> SegmentCache {
        var flags = present | codeOrData | writable | accessed
        if code { flags |= SegmentCache.code }
        return SegmentCache(selector: UInt32(selector), base: LinearAddress(selector) << 4, limit: 0xFFFF, flags: flags)
    }
}

/// Segment register numbers, in the encoding ModRM's reg field and the
/// decoder use: ES CS SS DS FS GS.
public enum Segment: Int, CaseIterable, Sendable {
    case es = 0, cs, ss, ds, fs, gs
}

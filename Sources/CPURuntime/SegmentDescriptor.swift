import X86State

/// An 8-byte descriptor from the GDT, LDT or IDT, decoded as the SDM lays it out.
struct SegmentDescriptor {
    let low: UInt32
    let high: UInt32

    var base: UInt32 { (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF00_0000) }
    /// The limit in bytes (scaled by 4 KiB when G is set).
    var limit: UInt32 {
        let raw = (low & 0xFFFF) | (high & 0xF_0000)
        return high & SegmentCache.granularity != 0 ? (raw << 12) | 0xFFF : raw
    }
    /// The access bits in `SegmentCache.flags` positions.
    var flags: UInt32 { high & 0x00F0_FF00 }
    var type: UInt32 { (high >> 8) & 0xF }
    var isCodeOrData: Bool { high & SegmentCache.codeOrData != 0 }
    var isCode: Bool { isCodeOrData && high & SegmentCache.code != 0 }
    var isConforming: Bool { isCode && high & SegmentCache.conforming != 0 }
    /// Code: readable; data: writable.
    var isReadableOrWritable: Bool { high & SegmentCache.writable != 0 }
    var dpl: UInt32 { (high >> 13) & 3 }
    var isPresent: Bool { high & SegmentCache.present != 0 }

    /// A gate's target: selector and offset (16-bit gates use the low offset half only).
    var gateSelector: UInt16 { UInt16(truncatingIfNeeded: low >> 16) }
    var gateOffset: UInt32 { (low & 0xFFFF) | (is32BitGate ? high & 0xFFFF_0000 : 0) }
    /// Call gates: the number of stack parameters to copy.
    var gateParameterCount: UInt32 { high & 0x1F }
    var is32BitGate: Bool { type & 0x8 != 0 }

    var cache: SegmentCache { SegmentCache(selector: 0, base: LinearAddress(base), limit: limit, flags: flags) }

    /// System descriptor types.
    enum SystemType {
        static let availableTSS16: UInt32 = 1
        static let ldt: UInt32 = 2
        static let busyTSS16: UInt32 = 3
        static let callGate16: UInt32 = 4
        static let taskGate: UInt32 = 5
        static let interruptGate16: UInt32 = 6
        static let trapGate16: UInt32 = 7
        static let availableTSS32: UInt32 = 9
        static let busyTSS32: UInt32 = 11
        static let callGate32: UInt32 = 12
        static let interruptGate32: UInt32 = 14
        static let trapGate32: UInt32 = 15
    }
}

/// What went wrong loading a selector: the exception and its error code.
struct SegmentFault: Error {
    let vector: UInt32
    let errorCode: UInt32

    static func generalProtection(_ code: UInt32) -> SegmentFault { SegmentFault(vector: 13, errorCode: code) }
    static func notPresent(_ code: UInt32) -> SegmentFault { SegmentFault(vector: 11, errorCode: code) }
    static func stack(_ code: UInt32) -> SegmentFault { SegmentFault(vector: 12, errorCode: code) }
    static func invalidTSS(_ code: UInt32) -> SegmentFault { SegmentFault(vector: 10, errorCode: code) }
}

import IR

/// The first argument of the `x87` helper: which x87 instruction runs, a
/// `HelperRecord` the translator builds as a constant and the runtime reads.
public struct X87Call: HelperRecord, Equatable, Sendable {
    /// 0-7: escape D8-DF; 8: WAIT and the pending-exception check of waiting
    /// instructions; 9: FXSAVE; 10: FXRSTOR.
    public var kind: UInt8
    public var modrm: UInt8
    public var isMemoryForm: Bool
    /// 32-bit operand size (which FLDENV/FSTENV/FSAVE/FRSTOR layout).
    public var operand32: Bool
    /// The memory operand's segment register number.
    public var segmentNumber: UInt8

    public static let wait: UInt8 = 8
    public static let fxsave: UInt8 = 9
    public static let fxrstor: UInt8 = 10

    public init(kind: UInt8, modrm: UInt8 = 0, memory: Bool = false, operand32: Bool = false, segment: Int = 0) {
        self.kind = kind
        self.modrm = modrm
        isMemoryForm = memory
        self.operand32 = operand32
        segmentNumber = UInt8(segment)
    }

    /// The escape 0-7 (D8-DF) for the x87 kinds.
    @inline(__always) public var escape: UInt8 { kind & 7 }
    @inline(__always) public var segment: Int { Int(segmentNumber) }
}

/// The first argument of the `x87` helper: which x87 instruction runs, packed
/// into one constant the translator computes and the runtime takes apart.
///
/// Bits 0-3: the kind (0-7: escape D8-DF; 8: WAIT and the pending-exception
/// check of waiting instructions; 9: FXSAVE; 10: FXRSTOR); bits 8-15: the
/// ModRM byte; bit 16: memory form; bit 17: 32-bit operand size (which
/// FLDENV/FSTENV/FSAVE/FRSTOR layout); bits 20-22: the memory operand's segment.
public struct X87Call: Equatable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let wait: UInt8 = 8
    public static let fxsave: UInt8 = 9
    public static let fxrstor: UInt8 = 10

    public init(kind: UInt8, modrm: UInt8 = 0, memory: Bool = false, operand32: Bool = false, segment: Int = 0) {
        rawValue = UInt64(kind & 0xF) | UInt64(modrm) << 8 | (memory ? 1 << 16 : 0) | (operand32 ? 1 << 17 : 0)
            | UInt64(segment & 7) << 20
    }

    @inline(__always) public var kind: UInt8 { UInt8(truncatingIfNeeded: rawValue & 0xF) }
    /// The escape 0-7 (D8-DF) for the x87 kinds.
    @inline(__always) public var escape: UInt8 { kind & 7 }
    @inline(__always) public var modrm: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) }
    @inline(__always) public var isMemoryForm: Bool { rawValue & (1 << 16) != 0 }
    @inline(__always) public var operand32: Bool { rawValue & (1 << 17) != 0 }
    @inline(__always) public var segment: Int { Int((rawValue >> 20) & 7) }
}

/// The constant of a `hostX87` op: an x87 instruction the JIT emits as is.
/// Bits 0-2: the escape (D8-DF); bits 8-15: the ModRM byte; bit 16: memory
/// form, whose operand is the state field at the offset in bits 32-63 (the
/// ModRM's mod and r/m are rewritten to address it; its reg field is kept).
/// Bit 17: the host's RFLAGS are stored to the state field at that offset
/// afterwards (FCOMI and its kin).
public struct HostX87Instruction: Equatable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(escape: UInt8, modrm: UInt8) {
        rawValue = UInt64(escape & 7) | UInt64(modrm) << 8
    }

    public init(escape: UInt8, reg: UInt8, stateOffset: Int) {
        rawValue = UInt64(escape & 7) | UInt64((reg & 7) << 3) << 8 | 1 << 16 | UInt64(UInt32(stateOffset)) << 32
    }

    /// A register form followed by a store of RFLAGS (8 bytes) to the field at `stateOffset`.
    public init(escape: UInt8, modrm: UInt8, flagsTo stateOffset: Int) {
        rawValue = UInt64(escape & 7) | UInt64(modrm) << 8 | 1 << 17 | UInt64(UInt32(stateOffset)) << 32
    }

    public var storesFlags: Bool { rawValue & (1 << 17) != 0 }
    public var escape: UInt8 { UInt8(rawValue & 7) }
    public var modrm: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) }
    public var isMemoryForm: Bool { rawValue & (1 << 16) != 0 }
    public var reg: UInt8 { (modrm >> 3) & 7 }
    public var stateOffset: Int { Int(UInt32(truncatingIfNeeded: rawValue >> 32)) }
}

/// The constant of a `hostSIMD` op: an SSE instruction the backends run on
/// the host's own SSE unit, re-encoded on host registers. The guest's ModRM
/// reg operand becomes XMM0 (or EAX for a general-register destination), its
/// r/m operand XMM1 (loaded from the guest's register) or the transfer field
/// (a memory operand already read from guest memory, or one to be written to it).
///
/// Bits 0-7: opcode; 8-15: imm8; 16-17: map (1 = 0F, 2 = 0F 38, 3 = 0F 3A);
/// 18-19: mandatory prefix (0 none, 1 = 66, 2 = F3, 3 = F2); 20-23: the
/// guest's reg field (an XMM number, or the opcode extension); 24-27: the
/// r/m register's XMM number; 28-31: `Destination`; bit 32: has imm8;
/// bit 33: the r/m operand is the transfer field; bit 34: reg is an opcode
/// extension (nothing loaded for it); bit 35: floating point (runs under the
/// guest's MXCSR, its flags stored in `HostSIMDLayout.raisedFlagsOffset`);
/// bit 36: the guest's XMM0 is an implicit operand (BLENDVPS and kin: the
/// reg operand then goes to XMM2, so XMM0 can hold it); bit 37: a 66
/// operand-size prefix (POPCNT r16, CRC32 r/m16); bit 38: MMX (the
/// registers are MM0-7, read from and written to the x87 registers' significands);
/// bit 39: the instruction's implicit [RDI] operand is the transfer field
/// (MASKMOVDQU, MASKMOVQ).
/// bit 40: REX.W (a 64-bit general-register or memory operand: MOVQ,
/// CVTSI2SD r/m64, CVTSD2SI r64, PEXTRQ, POPCNT r64, CRC32 r64);
/// bit 41: the guest masks every SIMD exception, so a floating-point
/// instruction's flags need no check: they are ORed into the guest's MXCSR
/// (by the stub after the instruction; by the JIT, which keeps the guest's
/// MXCSR in the host's across a run of them, when it puts the host's back).
public struct HostSIMDInstruction: Equatable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Where the instruction's result goes.
    public enum Destination: UInt8, Sendable {
        /// XMM0 back to the guest's reg register.
        case regRegister = 0
        /// XMM0 to the result field (held back until the exception check passes).
        case regResult = 1
        /// EAX's 32 bits to the result field.
        case generalToResult = 2
        /// XMM1 back to the guest's r/m register.
        case rmRegister = 3
        /// Nothing but what the instruction writes itself (the transfer field, as its memory operand).
        case none = 4
        /// The host's RFLAGS to the result field (COMISS and its kin).
        case flagsToResult = 5
        /// PCMPxSTRI: EAX and EDX loaded from the result field's first two
        /// dwords, then ECX to the result field and RFLAGS to the transfer field.
        case indexAndFlags = 6
        /// PCMPxSTRM: EAX and EDX as for `indexAndFlags`, then XMM0 to the
        /// result field and RFLAGS to the transfer field.
        case maskAndFlags = 7
        /// CRC32, POPCNT: EAX loaded from the result field, the instruction run
        /// on EAX, then EAX to the result field and RFLAGS to the transfer
        /// field's second qword (the r/m operand is always the transfer field).
        case generalAndFlags = 8
    }

    public init(opcode: UInt8, map: UInt8 = 1, prefix: UInt8, reg: UInt8, rm: UInt8, rmIsTransfer: Bool,
                destination: Destination, immediate: UInt8? = nil, regIsExtension: Bool = false, floatingPoint: Bool,
                implicitXMM0: Bool = false, operandSize16: Bool = false, mmx: Bool = false,
                storesThroughRDI: Bool = false, wide: Bool = false, flagsDeferred: Bool = false) {
        var raw = UInt64(opcode) | UInt64(immediate ?? 0) << 8 | UInt64(map & 3) << 16 | UInt64(prefix & 3) << 18
        raw |= UInt64(reg & 15) << 20 | UInt64(rm & 15) << 24 | UInt64(destination.rawValue & 15) << 28
        if immediate != nil { raw |= 1 << 32 }
        if rmIsTransfer { raw |= 1 << 33 }
        if regIsExtension { raw |= 1 << 34 }
        if floatingPoint { raw |= 1 << 35 }
        if implicitXMM0 { raw |= 1 << 36 }
        if operandSize16 { raw |= 1 << 37 }
        if mmx { raw |= 1 << 38 }
        if storesThroughRDI { raw |= 1 << 39 }
        if wide { raw |= 1 << 40 }
        if flagsDeferred { raw |= 1 << 41 }
        rawValue = raw
    }

    public var opcode: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
    public var immediate: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) }
    public var map: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 16) & 3 }
    public var prefix: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 18) & 3 }
    public var reg: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 20) & 15 }
    public var rm: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 24) & 15 }
    public var destination: Destination { Destination(rawValue: UInt8(truncatingIfNeeded: rawValue >> 28) & 15) ?? .none }
    public var hasImmediate: Bool { rawValue & (1 << 32) != 0 }
    public var rmIsTransfer: Bool { rawValue & (1 << 33) != 0 }
    public var regIsExtension: Bool { rawValue & (1 << 34) != 0 }
    public var isFloatingPoint: Bool { rawValue & (1 << 35) != 0 }
    public var implicitXMM0: Bool { rawValue & (1 << 36) != 0 }
    public var operandSize16: Bool { rawValue & (1 << 37) != 0 }
    public var isMMX: Bool { rawValue & (1 << 38) != 0 }
    public var storesThroughRDI: Bool { rawValue & (1 << 39) != 0 }
    public var isWide: Bool { rawValue & (1 << 40) != 0 }
    public var flagsDeferred: Bool { rawValue & (1 << 41) != 0 }
    /// A conversion between MMX and XMM registers, which 0F 2A, 2C and 2D are
    /// without an F3 or F2 prefix (CVTPI2PS/PD: the reg operand an XMM
    /// register, r/m an MMX one; CVT(T)PS2PI/CVT(T)PD2PI: the other way).
    public var mixesRegisterFiles: Bool {
        !isMMX && map == 1 && prefix < 2 && (opcode == 0x2A || opcode == 0x2C || opcode == 0x2D)
    }

    /// A scalar floating-point operation that reads and writes only the low
    /// lane (ADDSD, SQRTSS, CMPSD...): its bytes (8 for F2, 4 for F3), else
    /// nil. Its operands can be moved at that width, which spares the 16-byte
    /// loads of fields just written 8 bytes at a time.
    public var scalarBytes: Int? {
        guard isFloatingPoint && !isMMX && map == 1 && (prefix == 2 || prefix == 3) else { return nil }
        switch opcode {
        case 0x51, 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0xC2: return prefix == 3 ? 8 : 4
        default: return nil
        }
    }
}

/// Where the CPU keeps what `hostSIMD` ops read and write, as offsets from the state pointer.
public struct HostSIMDLayout: Sendable {
    /// XMM0; register n is 16 n bytes further.
    public var xmmOffset: Int
    public var transferOffset: Int
    public var resultOffset: Int
    /// The MXCSR a floating-point instruction runs under (exceptions masked, flags clear).
    public var mxcsrOnHostOffset: Int
    /// Where the host's own MXCSR is saved meanwhile.
    public var hostMXCSROffset: Int
    /// Where the MXCSR after the instruction is stored (its flags are the instruction's).
    public var raisedFlagsOffset: Int
    /// The guest's MXCSR, which deferred flags are ORed into.
    public var mxcsrOffset: Int
    /// MM0 (the x87 register R0's significand); MMn is `mmxStride` n bytes further.
    public var mmxOffset: Int
    public var mmxStride: Int

    public init(xmmOffset: Int, transferOffset: Int, resultOffset: Int, mxcsrOnHostOffset: Int,
                hostMXCSROffset: Int, raisedFlagsOffset: Int, mxcsrOffset: Int, mmxOffset: Int = 0, mmxStride: Int = 16) {
        self.mxcsrOffset = mxcsrOffset
        self.mmxOffset = mmxOffset
        self.mmxStride = mmxStride
        self.xmmOffset = xmmOffset
        self.transferOffset = transferOffset
        self.resultOffset = resultOffset
        self.mxcsrOnHostOffset = mxcsrOnHostOffset
        self.hostMXCSROffset = hostMXCSROffset
        self.raisedFlagsOffset = raisedFlagsOffset
    }
}

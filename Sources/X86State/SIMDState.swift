import X87

/// The SSE state: XMM0-15 and MXCSR, plus the fields host-run SIMD
/// instructions move their operands through. A plain value inside `CPUState`,
/// so generated code reaches every field at a fixed offset from the state pointer.
public struct SIMDState: Sendable {
    /// XMM0-15, two little-endian qwords each (only 0-7 are reachable outside long mode).
    public var xmm: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                     UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                     UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                     UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// The guest's MXCSR (power-on and INIT value 1F80H).
    public var mxcsr: UInt32 = MXCSR.resetValue
    /// What the host's MXCSR holds while a guest instruction runs on it: the
    /// guest's rounding, DAZ and FTZ with every exception masked and no flag
    /// set, so the host never traps and its flags afterwards are the
    /// instruction's own. Kept in step with `mxcsr` by `setMXCSR`.
    public var mxcsrOnHost: UInt32 = MXCSR.resetValue
    /// The host's own MXCSR, saved around a guest instruction.
    public var hostMXCSR: UInt32 = 0
    /// The flags (bits 0-5) the last host-run floating-point instruction raised.
    public var raisedFlags: UInt32 = 0
    /// A memory (or general-register) operand moved between the guest and the
    /// host instruction: the 16 bytes at `CPUStateLayout.simdTransfer`, which
    /// is 16-byte aligned (the state block is 64-byte aligned), as the host's
    /// aligned forms (ADDPS, MOVAPS...) need their memory operand to be.
    public var transferArea: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// A result held back until the instruction is known not to raise an unmasked exception.
    public var result: (UInt64, UInt64) = (0, 0)

    public init() {}

    /// Sets MXCSR and the value the host runs guest instructions under.
    public mutating func setMXCSR(_ value: UInt32) {
        mxcsr = value
        mxcsrOnHost = (value & (MXCSR.roundingControl | MXCSR.denormalsAreZero | MXCSR.flushToZero)) | MXCSR.exceptionMasks
    }

    /// Every SIMD exception masked: no SSE instruction can trap.
    public var masksEveryException: Bool { mxcsr & MXCSR.exceptionMasks == MXCSR.exceptionMasks }

    public func register(_ index: Int) -> (low: UInt64, high: UInt64) {
        withUnsafeBytes(of: xmm) { raw in
            (raw.load(fromByteOffset: 16 * index, as: UInt64.self), raw.load(fromByteOffset: 16 * index + 8, as: UInt64.self))
        }
    }

    public mutating func setRegister(_ index: Int, low: UInt64, high: UInt64) {
        withUnsafeMutableBytes(of: &xmm) { raw in
            raw.storeBytes(of: low, toByteOffset: 16 * index, as: UInt64.self)
            raw.storeBytes(of: high, toByteOffset: 16 * index + 8, as: UInt64.self)
        }
    }
}

/// MXCSR's fields (SDM Vol. 1, 10.2.3).
public enum MXCSR {
    public static let resetValue: UInt32 = 0x1F80
    /// IE DE ZE OE UE PE.
    public static let exceptionFlags: UInt32 = 0x3F
    public static let invalid: UInt32 = 1 << 0
    public static let denormal: UInt32 = 1 << 1
    public static let divideByZero: UInt32 = 1 << 2
    public static let overflow: UInt32 = 1 << 3
    public static let underflow: UInt32 = 1 << 4
    public static let precision: UInt32 = 1 << 5
    /// The exceptions detected before the operation computes (SDM 11.5.2):
    /// when one of them is unmasked, the ones after are not looked for.
    public static let precomputation: UInt32 = invalid | denormal | divideByZero
    public static let denormalsAreZero: UInt32 = 1 << 6
    /// IM DM ZM OM UM PM, bits 7-12: the flags' positions shifted by 7.
    public static let exceptionMasks: UInt32 = 0x3F << 7
    public static let maskShift: UInt32 = 7
    public static let roundingControl: UInt32 = 3 << 13
    public static let flushToZero: UInt32 = 1 << 15
    /// The bits LDMXCSR and FXRSTOR may set (FXSAVE's MXCSR_MASK): all of 0-15,
    /// DAZ included; setting any other raises #GP(0).
    public static let writableMask: UInt32 = 0xFFFF
}

extension CPUStateLayout {
    private static let simd = MemoryLayout<CPUState>.offset(of: \CPUState.simd)!
    /// XMM0, the first of 16 registers of 16 bytes.
    public static let xmm = simd + MemoryLayout<SIMDState>.offset(of: \SIMDState.xmm)!
    public static func xmm(_ index: Int) -> Int { xmm + 16 * index }
    public static let mxcsr = simd + MemoryLayout<SIMDState>.offset(of: \SIMDState.mxcsr)!
    public static let mxcsrOnHost = simd + MemoryLayout<SIMDState>.offset(of: \SIMDState.mxcsrOnHost)!
    public static let hostMXCSR = simd + MemoryLayout<SIMDState>.offset(of: \SIMDState.hostMXCSR)!
    public static let simdRaisedFlags = simd + MemoryLayout<SIMDState>.offset(of: \SIMDState.raisedFlags)!
    public static let simdTransfer = (simd + MemoryLayout<SIMDState>.offset(of: \SIMDState.transferArea)! + 15) & ~15
    public static let simdResult = simd + MemoryLayout<SIMDState>.offset(of: \SIMDState.result)!
    /// MM0: the significand of the x87's physical register R0 (MMn is Rn's).
    public static let mmx = MemoryLayout<CPUState>.offset(of: \CPUState.x87)! + MemoryLayout<X87State>.offset(of: \X87State.registers)!
    public static let mmxStride = MemoryLayout<X87Register>.stride
    /// The x87 register Rn's sign and exponent field (MMX writes all ones there).
    public static func mmxExponent(_ index: Int) -> Int {
        mmx + mmxStride * index + MemoryLayout<X87Register>.offset(of: \X87Register.signExponent)!
    }
    /// CR0's low 32 bits (MMX tells EM from TS when it runs).
    public static let cr0 = MemoryLayout<CPUState>.offset(of: \CPUState.cr0)!
    /// The abridged tag byte (bit n: Rn holds a value).
    public static let x87TagValid = MemoryLayout<CPUState>.offset(of: \CPUState.x87)! + MemoryLayout<X87State>.offset(of: \X87State.tagValid)!
}

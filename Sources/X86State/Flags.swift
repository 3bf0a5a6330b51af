/// EFLAGS bits.
public enum EFLAGS {
    public static let carry: UInt32 = 1 << 0
    public static let reserved1: UInt32 = 1 << 1
    public static let parity: UInt32 = 1 << 2
    public static let auxiliary: UInt32 = 1 << 4
    public static let zero: UInt32 = 1 << 6
    public static let sign: UInt32 = 1 << 7
    public static let trap: UInt32 = 1 << 8
    public static let interrupt: UInt32 = 1 << 9
    public static let direction: UInt32 = 1 << 10
    public static let overflow: UInt32 = 1 << 11
    public static let ioplShift: UInt32 = 12
    public static let iopl: UInt32 = 3 << 12
    public static let nestedTask: UInt32 = 1 << 14
    public static let resume: UInt32 = 1 << 16
    public static let virtual8086: UInt32 = 1 << 17
    public static let alignmentCheck: UInt32 = 1 << 18
    public static let virtualInterrupt: UInt32 = 1 << 19
    public static let virtualInterruptPending: UInt32 = 1 << 20
    public static let identification: UInt32 = 1 << 21

    /// The six arithmetic flags that live lazily in cc_op/cc_src/cc_dst.
    public static let arithmetic: UInt32 = carry | parity | auxiliary | zero | sign | overflow
}

/// CR0 and CR4 bits.
public enum ControlRegister {
    public static let protectionEnable: UInt64 = 1 << 0
    public static let monitorCoprocessor: UInt64 = 1 << 1
    public static let emulation: UInt64 = 1 << 2
    public static let taskSwitched: UInt64 = 1 << 3
    public static let extensionType: UInt64 = 1 << 4
    public static let numericError: UInt64 = 1 << 5
    public static let writeProtect: UInt64 = 1 << 16
    public static let alignmentMask: UInt64 = 1 << 18
    public static let notWriteThrough: UInt64 = 1 << 29
    public static let cacheDisable: UInt64 = 1 << 30
    public static let paging: UInt64 = 1 << 31

    public static let cr4VME: UInt64 = 1 << 0
    public static let cr4PVI: UInt64 = 1 << 1
    public static let cr4TSD: UInt64 = 1 << 2
    public static let cr4DE: UInt64 = 1 << 3
    public static let cr4PSE: UInt64 = 1 << 4
    public static let cr4PAE: UInt64 = 1 << 5
    public static let cr4MCE: UInt64 = 1 << 6
    public static let cr4PGE: UInt64 = 1 << 7
    public static let cr4OSFXSR: UInt64 = 1 << 9
    public static let cr4OSXMMEXCPT: UInt64 = 1 << 10
}

/// The static CPU state a translated block depends on: part of the block's
/// key, so a block is only ever run in the mode it was translated for.
public struct HiddenFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Bits 0-1: the current privilege level.
    public static let cplMask: UInt32 = 3
    public static let protectedMode = HiddenFlags(rawValue: 1 << 2)
    public static let virtual8086 = HiddenFlags(rawValue: 1 << 3)
    /// The code segment is 32-bit (D bit).
    public static let code32 = HiddenFlags(rawValue: 1 << 4)
    /// The stack segment is 32-bit (B bit): ESP rather than SP.
    public static let stack32 = HiddenFlags(rawValue: 1 << 5)
    /// DS, ES or SS has a non-zero base, so the translator must add bases
    /// (when clear, a flat 32-bit model lets it skip the additions).
    public static let segmentBases = HiddenFlags(rawValue: 1 << 6)
    public static let paging = HiddenFlags(rawValue: 1 << 7)
    /// Single-step (TF): each block is one instruction followed by #DB.
    public static let singleStep = HiddenFlags(rawValue: 1 << 8)
    /// Interrupts are inhibited for one instruction (after MOV SS, POP SS, STI).
    public static let interruptShadow = HiddenFlags(rawValue: 1 << 9)
    /// CR0.EM or CR0.TS: x87 instructions raise #NM.
    public static let fpuUnavailable = HiddenFlags(rawValue: 1 << 10)
    /// IOPL < CPL (or VM86 with IOPL < 3): IN/OUT/CLI/STI need checks.
    public static let ioPrivilegeCheck = HiddenFlags(rawValue: 1 << 11)
    /// The JIT runs x87 instructions on the host FPU: the guest masks every
    /// x87 exception and none is pending, so no instruction can trap or
    /// leave #MF pending, and the host computes exactly what the guest's FPU would.
    public static let x87OnHost = HiddenFlags(rawValue: 1 << 12)
    /// CR0.EM set or CR4.OSFXSR clear: SSE instructions raise #UD.
    public static let sseUnavailable = HiddenFlags(rawValue: 1 << 28)
    /// MXCSR masks every SIMD exception: an SSE instruction can raise none,
    /// so its flags are ORed into MXCSR and its result written at once.
    public static let simdExceptionsMasked = HiddenFlags(rawValue: 1 << 29)

    /// Bits 13-18, one per segment register (by `Segment`'s number): in protected
    /// mode, accesses through it are checked (null, type, limit) at run time.
    /// Clear for a flat writable data segment (4 GiB, expand-up), which can
    /// fault on nothing but paging, so a flat model's blocks carry no checks.
    public static func checkedSegment(_ segment: Segment) -> HiddenFlags {
        HiddenFlags(rawValue: 1 << (13 + UInt32(segment.rawValue)))
    }

    /// EFER.LMA: long mode is active (64-bit or compatibility mode).
    public static let longMode = HiddenFlags(rawValue: 1 << 19)
    /// 64-bit mode: long mode with a code segment whose L bit is set. Blocks
    /// of 64-bit, compatibility and legacy code never share a key.
    public static let code64 = HiddenFlags(rawValue: 1 << 20)

    public var cpl: UInt32 { rawValue & HiddenFlags.cplMask }

    /// `code64` in a raw value, inlined across modules for the run loop.
    @inlinable @inline(__always)
    public static func isCode64(_ raw: UInt32) -> Bool { raw & (1 << 20) != 0 }

    /// How wide linear addresses are in this mode: 64 bits in 64-bit mode,
    /// 32 in every other one (compatibility mode included).
    @inlinable @inline(__always)
    public var addressSize: AddressSize { contains(.code64) ? .bits64 : .bits32 }
}

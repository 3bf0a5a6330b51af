import X87

/// The whole architectural state of the x86 CPU, one plain struct allocated
/// once (see `CPUStateBlock`) and reached through a pointer that generated
/// code keeps in a register. Field offsets for the translator and the JIT
/// come from `MemoryLayout<CPUState>.offset(of:)`, in `CPUStateLayout`.
///
/// General registers are 64 bits wide, sixteen of them (R8-R15 exist only
/// in 64-bit mode); i386 code uses the low half of the first eight
/// (little-endian, so a 32-bit access at the same offset).
public struct CPUState {
    public var registers: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                           UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    public var eip: UInt64 = 0
    /// EFLAGS except the arithmetic flags (which are lazy) and DF (in `direction`).
    public var eflags: UInt32 = EFLAGS.reserved1
    /// The lazy arithmetic flags: a `ConditionCodeOperation` and its operands.
    public var ccOp: UInt32 = ConditionCodeOperation.eflags.rawValue
    public var ccSource: UInt64 = 0
    public var ccDestination: UInt64 = 0
    public var ccSource2: UInt64 = 0
    /// +1 or -1: the step of string instructions (DF clear or set).
    public var direction: Int32 = 1

    public var segments: (SegmentCache, SegmentCache, SegmentCache, SegmentCache, SegmentCache, SegmentCache) =
        (SegmentCache(), SegmentCache(), SegmentCache(), SegmentCache(), SegmentCache(), SegmentCache())
    public var ldtr = SegmentCache()
    public var taskRegister = SegmentCache()
    public var gdtBase: LinearAddress = 0
    public var gdtLimit: UInt32 = 0xFFFF
    public var idtBase: LinearAddress = 0
    public var idtLimit: UInt32 = 0x3FF

    /// Control registers are 64 bits, as in long mode; the 32-bit modes use
    /// their low halves (MOV CRn writes zero-extended values).
    public var cr0: UInt64 = ControlRegister.extensionType | ControlRegister.cacheDisable | ControlRegister.notWriteThrough
    /// The linear address of the last page fault.
    public var cr2: LinearAddress = 0
    /// The paging structures' physical address and its PWT/PCD bits.
    public var cr3: UInt64 = 0
    public var cr4: UInt64 = 0
    public var debugRegisters: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0, 0, 0, 0, 0xFFFF_0FF0, 0x400, 0xFFFF_0FF0, 0x400)

    /// `HiddenFlags`: the mode bits blocks are keyed on.
    public var hiddenFlags: UInt32 = 0
    /// ANDed into every physical address: clears bit 20 while the A20 gate is closed.
    public var a20Mask: UInt64 = ~0

    /// A guest exception raised by a memory access or helper, waiting for delivery:
    /// the vector, or -1 for none.
    public var pendingException: Int32 = -1
    public var pendingErrorCode: UInt32 = 0
    public var pendingHasErrorCode: UInt32 = 0
    /// Set (by any thread) to make the CPU leave generated code at the next block start.
    public var exitRequest: Int32 = 0
    /// The instruction executing when a fault was raised (set by insn_start in the interpreter).
    public var currentInstruction: UInt64 = 0

    public var sysenterCS: UInt32 = 0
    public var sysenterESP: UInt32 = 0
    public var sysenterEIP: UInt32 = 0
    /// Long mode's MSRs (`LongModeMSR`): EFER, SYSCALL's targets and flag
    /// mask, SWAPGS's other GS base, RDTSCP's TSC_AUX. FS and GS bases are
    /// the segment caches' `base`.
    public var efer: UInt64 = 0
    public var star: UInt64 = 0
    public var lstar: UInt64 = 0
    public var cstar: UInt64 = 0
    public var fmask: UInt64 = 0
    public var kernelGSBase: LinearAddress = 0
    public var tscAux: UInt64 = 0
    /// The time-stamp counter is guest time scaled; this is added to it (WRMSR 0x10).
    public var tscOffset: Int64 = 0
    public var apicBase: UInt64 = 0xFEE0_0900
    /// Executed guest instructions, for the deterministic clock and statistics.
    public var instructionCount: UInt64 = 0
    /// Instructions chained blocks may still run before returning to the loop
    /// (each charges its count on entry; negative: leave).
    public var instructionBudget: Int64 = 0
    /// The runtime object that owns this state, for helpers reached through a
    /// C function pointer with only the state pointer in hand.
    public var owner: UnsafeMutableRawPointer? = nil
    /// The x87 FPU (a plain value like the rest: registers, control, status,
    /// tags, last-instruction pointers). Power-on value: the RESET state
    /// (control word 0040H, registers +0.0 tagged valid), not FNINIT's.
    public var x87: X87State = .afterReset
    /// Where the x87's live state is while the JIT runs it on the host FPU
    /// (`X87Residence`): `x87` itself, the host FPU, or the FNSAVE image the
    /// generated code's epilogue left in `CPUStateBlock`.
    public var x87Residence: UInt8 = X87Residence.state
    /// A memory operand of a host-run x87 instruction, moved between guest
    /// memory and the host FPU through here (10 bytes used).
    public var x87Transfer: (UInt64, UInt64) = (0, 0)
    /// XMM registers and MXCSR (`SIMDState`).
    public var simd = SIMDState()

    public init() {}
}

/// Byte offsets of `CPUState` fields, computed once, for the translator and backends.
public enum CPUStateLayout {
    public static let registers = MemoryLayout<CPUState>.offset(of: \CPUState.registers)!
    public static let eip = MemoryLayout<CPUState>.offset(of: \CPUState.eip)!
    public static let eflags = MemoryLayout<CPUState>.offset(of: \CPUState.eflags)!
    public static let ccOp = MemoryLayout<CPUState>.offset(of: \CPUState.ccOp)!
    public static let ccSource = MemoryLayout<CPUState>.offset(of: \CPUState.ccSource)!
    public static let ccDestination = MemoryLayout<CPUState>.offset(of: \CPUState.ccDestination)!
    public static let ccSource2 = MemoryLayout<CPUState>.offset(of: \CPUState.ccSource2)!
    public static let direction = MemoryLayout<CPUState>.offset(of: \CPUState.direction)!
    public static let segments = MemoryLayout<CPUState>.offset(of: \CPUState.segments)!
    public static let hiddenFlags = MemoryLayout<CPUState>.offset(of: \CPUState.hiddenFlags)!
    public static let pendingException = MemoryLayout<CPUState>.offset(of: \CPUState.pendingException)!
    public static let exitRequest = MemoryLayout<CPUState>.offset(of: \CPUState.exitRequest)!
    public static let currentInstruction = MemoryLayout<CPUState>.offset(of: \CPUState.currentInstruction)!
    public static let instructionCount = MemoryLayout<CPUState>.offset(of: \CPUState.instructionCount)!
    public static let instructionBudget = MemoryLayout<CPUState>.offset(of: \CPUState.instructionBudget)!
    /// The x87 status word, which translated code tests for a pending exception (ES).
    public static let x87StatusWord = MemoryLayout<CPUState>.offset(of: \CPUState.x87)!
        + MemoryLayout<X87State>.offset(of: \X87State.statusWord)!

    public static let x87Residence = MemoryLayout<CPUState>.offset(of: \CPUState.x87Residence)!
    public static let x87Transfer = MemoryLayout<CPUState>.offset(of: \CPUState.x87Transfer)!
    /// FOP, FIP and FDP, which host-run x87 instructions record themselves.
    public static let x87Opcode = MemoryLayout<CPUState>.offset(of: \CPUState.x87)!
        + MemoryLayout<X87State>.offset(of: \X87State.fop)!
    public static let x87InstructionPointer = MemoryLayout<CPUState>.offset(of: \CPUState.x87)!
        + MemoryLayout<X87State>.offset(of: \X87State.fip)!
    public static let x87DataPointer = MemoryLayout<CPUState>.offset(of: \CPUState.x87)!
        + MemoryLayout<X87State>.offset(of: \X87State.fdp)!

    public static func register(_ number: Int) -> Int { registers + 8 * number }

    public static func segment(_ segment: Segment) -> Int {
        segments + segment.rawValue * MemoryLayout<SegmentCache>.stride
    }

    public static func segmentBase(_ segment: Segment) -> Int {
        self.segment(segment) + MemoryLayout<SegmentCache>.offset(of: \SegmentCache.base)!
    }

    public static func segmentLimit(_ segment: Segment) -> Int {
        self.segment(segment) + MemoryLayout<SegmentCache>.offset(of: \SegmentCache.limit)!
    }

    public static func segmentSelector(_ segment: Segment) -> Int {
        self.segment(segment) + MemoryLayout<SegmentCache>.offset(of: \SegmentCache.selector)!
    }
}

/// Register numbers as instructions encode them.
public enum Register: Int, CaseIterable, Sendable {
    case eax = 0, ecx, edx, ebx, esp, ebp, esi, edi
}

/// Values of `CPUState.x87Residence`. With the JIT, x87 instructions run on
/// the host's own FPU loaded with the guest's state; between blocks that
/// state stays there, and `x87` is brought up to date only when something
/// outside generated code needs it.
public enum X87Residence {
    /// `CPUState.x87` is the FPU.
    public static let state: UInt8 = 0
    /// The host FPU holds the guest's state (only while generated code runs).
    public static let host: UInt8 = 1
    /// The FNSAVE image at `CPUStateBlock.x87ImageOffset` holds it.
    public static let image: UInt8 = 2
}

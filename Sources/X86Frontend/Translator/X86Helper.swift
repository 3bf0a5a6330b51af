import IR

/// Every runtime helper the translator may call, in one list: the runtime
/// registers a function for each case, in this order, so a case's raw value
/// is its index in the `HelperTable`.
public enum X86Helper: UInt32, CaseIterable, Sendable {
    /// () -> the six arithmetic flags computed from cc_op/cc_src/cc_dst/cc_src2.
    case computeFlags
    /// () -> CF (0 or 1).
    case computeCarry
    /// (full EFLAGS value, mask of writable bits) -> 0: writes EFLAGS (POPF, IRET in real mode, SAHF).
    case writeFlags
    /// () -> the full EFLAGS value (PUSHF, LAHF, interrupts).
    case readFlags
    /// (vector, next EIP, kind) -> 0: raises an exception or software interrupt (never returns normally).
    case raiseInterrupt
    /// (port, size in bytes) -> value.
    case portIn
    /// (port, value, size in bytes) -> 0.
    case portOut
    /// (divisor, operand size in bytes, signed) -> 0: DIV/IDIV on eAX/eDX; may raise #DE.
    case divide
    /// (segment number, selector) -> 0: loads a segment register (MOV Sreg, POP Sreg, LDS...).
    case loadSegment
    /// (selector, offset, operand size in bytes) -> 0: JMP far.
    case farJump
    /// (selector, offset, `FarCall`) -> 0: CALL far (the return address is the
    /// current instruction's plus the CALL's length).
    case farCall
    /// (operand size in bytes, stack adjustment) -> 0: RETF imm.
    case farReturn
    /// (operand size in bytes) -> 0: IRET.
    case interruptReturn
    /// () -> 0: HLT: stops the CPU until an interrupt.
    case halt
    /// (opcode, operand) -> result: AAA AAS DAA DAS AAM AAD, on AX and flags.
    case decimalAdjust
    /// () -> 0: CPUID on EAX/ECX, writing EAX EBX ECX EDX.
    case cpuid
    /// () -> 0: RDTSC into EDX:EAX.
    case readTimeStampCounter
    /// (`SystemCall`, operand, linear address) -> value:
    /// descriptor tables, control and debug registers, MSRs, SYSENTER/SYSEXIT.
    /// LAR/LSL/VERR/VERW set ZF themselves; LAR/LSL return the value with bit 32 set when valid.
    case system
    /// (port, size in bytes) -> 0: with CPL > IOPL, the TSS's I/O bitmap must allow the port, else #GP(0).
    case checkIOPermission
    /// (`SegmentCheck`, offset) -> 0: a protected-mode
    /// access through a segment that is not flat: null, type and limit checks, else #GP(0) or #SS(0).
    case checkSegmentAccess
    /// (`X87Call`: kind, ModRM, operand facts; linear address of the memory
    /// operand or 0, the instruction's EIP) -> 0: one x87 instruction, WAIT
    /// (with the #NM and pending-exception checks) or FXSAVE/FXRSTOR. Loads and
    /// stores its memory operand itself, before changing the FPU for loads and
    /// before committing the FPU for stores, so a fault leaves the FPU as it was;
    /// may write AX (FNSTSW AX) and EFLAGS (FCOMI family, as `.eflags` lazy flags);
    /// may raise #UD, #NM, #MF, #GP (FXSAVE alignment) or a fault of the access.
    case x87
    /// () -> 0: brings the guest's FPU into the host's for host-run x87
    /// instructions (from `CPUState.x87` or its FNSAVE image).
    case x87Acquire
    /// (flags an SSE instruction raised, bits 0-5) -> 0: ORs them into MXCSR,
    /// or, when one is unmasked, sets the flags the hardware would and raises
    /// #XM (CR4.OSXMMEXCPT set) or #UD.
    case simdException
    /// (value) -> 0: LDMXCSR: #GP(0) for a reserved bit set, else sets MXCSR.
    case loadMXCSR

    public var flags: HelperFlags {
        switch self {
        // They only read the lazy flags: removable when their result goes unused.
        case .computeFlags, .computeCarry, .readFlags: return [.noFault, .noSideEffects]
        case .writeFlags: return [.noFault]
        // It touches only the x87 fields, never a global's.
        case .x87Acquire: return [.noFault, .noState]
        default: return []
        }
    }
}

/// What a protected-mode access through a checked segment must be allowed.
public enum SegmentAccess: UInt32, Sendable {
    /// A read: the segment usable and readable, the bytes inside its limit.
    case read = 0
    /// A write: the same, and the segment a writable data segment.
    case write = 1
    /// The write half of a read-modify-write whose read was checked: writability only.
    case writeType = 2
}

/// What a helper index names, for building the block's `HelperTable`.
extension X86Helper {
    public var index: UInt32 { rawValue }
}

/// The operations of `X86Helper.system`, named by its `SystemCall` record.
public enum SystemOperation: UInt32, Sendable {
    case storeLDTR = 0, storeTaskRegister, loadLDTR, loadTaskRegister, verifyRead, verifyWrite
    case storeGDTR, storeIDTR, loadGDTR, loadIDTR, storeMachineStatus, loadMachineStatus, invalidatePage
    case loadAccessRights, loadSegmentLimit, clearTaskSwitched
    case readControlRegister, writeControlRegister, readDebugRegister, writeDebugRegister
    case readMSR, writeMSR, systemEnter, systemExit, invalidateCaches
    /// Whether the linear address (third argument) may be written: #PF if not, nothing stored.
    case probeWrite
    /// SYSCALL (the operand: the next instruction's address), SYSRET (to
    /// 64-bit code with a 64-bit operand size), SWAPGS, RDTSCP.
    case fastSystemCall, fastSystemReturn, swapGS, readTimeStampCounterAndProcessor
}

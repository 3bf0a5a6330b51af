import X86Frontend
import X86State

/// SYSCALL, SYSRET, SWAPGS and RDTSCP (SDM vol. 2; AMD APM vol. 2, 6.1.1):
/// the runtime half, for the translator of 64-bit mode to call. SYSCALL and
/// SYSRET need EFER.SCE; outside long mode they are the legacy (AMD) forms
/// with STAR's 32-bit target.
extension X86CPU {
    /// RFLAGS bits SYSRET restores from R11 (RF and VM cannot be set; bit 1 is always set).
    static let systemReturnFlags: UInt32 = 0x3C_7FD7

    /// Flat 64-bit (L set) or 32-bit code, or flat data, at a privilege, as
    /// SYSCALL and SYSRET load CS and SS without reading the GDT.
    static func fastSystemCallSegment(selector: UInt32, code: Bool, long: Bool, privilege: UInt32) -> SegmentCache {
        var flags = SegmentCache.present | SegmentCache.codeOrData | SegmentCache.writable | SegmentCache.accessed
            | SegmentCache.granularity | privilege << SegmentCache.dplShift
        if code { flags |= SegmentCache.code | (long ? SegmentCache.long : SegmentCache.big) } else { flags |= SegmentCache.big }
        return SegmentCache(selector: selector, base: 0, limit: 0xFFFF_FFFF, flags: flags)
    }

    /// SYSCALL with `returnAddress` the next instruction's: RCX = it, R11 =
    /// RFLAGS, CS and SS from STAR[47:32] at ring 0, RIP from LSTAR (from
    /// 64-bit mode) or CSTAR (from compatibility mode), RFLAGS masked by
    /// SFMASK. Outside long mode: ECX = EIP, EIP = STAR[31:0], IF, VM and RF cleared.
    func systemCall(returnAddress: UInt64) throws {
        guard state.pointee.efer & EFER.systemCallEnable != 0 else {
            throw SegmentFault(vector: ExceptionVector.invalidOpcode, errorCode: 0)
        }
        guard protectedMode else { throw SegmentFault(vector: ExceptionVector.invalidOpcode, errorCode: 0) }
        let selector = UInt32(truncatingIfNeeded: state.pointee.star >> 32) & 0xFFFC
        let flags = LazyFlagsEvaluation.fullFlags(state)
        if longModeActive {
            let from64 = HiddenFlags(rawValue: state.pointee.hiddenFlags).contains(.code64)
            setRegister64(Register.ecx.rawValue, returnAddress)
            setRegister64(11, UInt64(flags & ~EFLAGS.resume))
            let mask = UInt32(truncatingIfNeeded: state.pointee.fmask)
            LazyFlagsEvaluation.setFullFlags(state, flags & ~mask & ~EFLAGS.resume, writable: ~0)
            setSegment(.cs, X86CPU.fastSystemCallSegment(selector: selector, code: true, long: true, privilege: 0))
            setSegment(.ss, X86CPU.fastSystemCallSegment(selector: selector &+ 8, code: false, long: false, privilege: 0))
            state.pointee.eip = from64 ? state.pointee.lstar : state.pointee.cstar
        } else {
            setRegister(Register.ecx.rawValue, UInt32(truncatingIfNeeded: returnAddress))
            LazyFlagsEvaluation.setFullFlags(state, flags & ~(EFLAGS.interrupt | EFLAGS.virtual8086 | EFLAGS.resume), writable: ~0)
            setSegment(.cs, X86CPU.fastSystemCallSegment(selector: selector, code: true, long: false, privilege: 0))
            setSegment(.ss, X86CPU.fastSystemCallSegment(selector: selector &+ 8, code: false, long: false, privilege: 0))
            state.pointee.eip = state.pointee.star & 0xFFFF_FFFF
        }
        updateHiddenFlags()
    }

    /// SYSRET at ring 0: to 64-bit code (REX.W, `bytes` 8: RIP = RCX, CS =
    /// STAR[63:48] + 16) or 32-bit code (EIP = ECX, CS = STAR[63:48]), SS =
    /// STAR[63:48] + 8, all at ring 3; in long mode RFLAGS comes from R11,
    /// outside it only IF is set. A non-canonical RCX is #GP(0) (as Intel
    /// CPUs check it before changing anything).
    func systemReturn(bytes: Int) throws {
        guard state.pointee.efer & EFER.systemCallEnable != 0 else {
            throw SegmentFault(vector: ExceptionVector.invalidOpcode, errorCode: 0)
        }
        guard protectedMode, currentPrivilege == 0 else { throw SegmentFault.generalProtection(0) }
        let base = UInt32(truncatingIfNeeded: state.pointee.star >> 48) & 0xFFFC
        let to64 = bytes == 8
        if longModeActive {
            let target = register64(Register.ecx.rawValue)
            guard !to64 || CanonicalAddress.isCanonical(target) else { throw SegmentFault.generalProtection(0) }
            let flags = UInt32(truncatingIfNeeded: register64(11)) & X86CPU.systemReturnFlags | EFLAGS.reserved1
            LazyFlagsEvaluation.setFullFlags(state, flags, writable: ~0)
            setSegment(.cs, X86CPU.fastSystemCallSegment(selector: (to64 ? base &+ 16 : base) | 3, code: true, long: to64, privilege: 3))
            state.pointee.eip = to64 ? target : target & 0xFFFF_FFFF
        } else {
            let flags = LazyFlagsEvaluation.fullFlags(state) | EFLAGS.interrupt
            LazyFlagsEvaluation.setFullFlags(state, flags, writable: ~0)
            setSegment(.cs, X86CPU.fastSystemCallSegment(selector: base | 3, code: true, long: false, privilege: 3))
            state.pointee.eip = UInt64(register(Register.ecx.rawValue))
        }
        setSegment(.ss, X86CPU.fastSystemCallSegment(selector: (base &+ 8) | 3, code: false, long: false, privilege: 3))
        updateHiddenFlags()
    }

    /// SWAPGS: exchanges GS's base with IA32_KERNEL_GS_BASE; 64-bit mode and ring 0 only.
    func swapGS() throws {
        guard HiddenFlags(rawValue: state.pointee.hiddenFlags).contains(.code64) else {
            throw SegmentFault(vector: ExceptionVector.invalidOpcode, errorCode: 0)
        }
        guard currentPrivilege == 0 else { throw SegmentFault.generalProtection(0) }
        var gs = segment(.gs)
        (gs.base, state.pointee.kernelGSBase) = (state.pointee.kernelGSBase, gs.base)
        setSegment(.gs, gs)
    }

    /// RDTSCP: EDX:EAX = the time-stamp counter (as RDTSC), ECX = TSC_AUX;
    /// the upper halves of RAX, RDX and RCX are cleared.
    func readTimeStampCounterAndProcessor() throws {
        if state.pointee.cr4 & ControlRegister.cr4TSD != 0 && protectedMode && currentPrivilege != 0 {
            throw SegmentFault.generalProtection(0)
        }
        let counter = UInt64(bitPattern: clock.now &+ state.pointee.tscOffset)
        setRegister64(Register.eax.rawValue, counter & 0xFFFF_FFFF)
        setRegister64(Register.edx.rawValue, counter >> 32)
        setRegister64(Register.ecx.rawValue, state.pointee.tscAux & 0xFFFF_FFFF)
    }
}

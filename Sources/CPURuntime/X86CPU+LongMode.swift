import X86State

/// Long mode's MSRs and the rules for entering and leaving it (SDM vol. 3,
/// 9.8.5 and 2.2.1): CR0.PG set with EFER.LME (and CR4.PAE) activates long
/// mode (EFER.LMA); clearing PG leaves it.
extension X86CPU {
    enum LongModeMSR {
        static let efer: UInt32 = 0xC000_0080
        /// SYSCALL/SYSRET selectors (bits 47:32 and 63:48) and legacy EIP.
        static let star: UInt32 = 0xC000_0081
        /// SYSCALL's RIP from 64-bit mode.
        static let lstar: UInt32 = 0xC000_0082
        /// SYSCALL's RIP from compatibility mode.
        static let cstar: UInt32 = 0xC000_0083
        /// RFLAGS bits SYSCALL clears.
        static let fmask: UInt32 = 0xC000_0084
        static let fsBase: UInt32 = 0xC000_0100
        static let gsBase: UInt32 = 0xC000_0101
        /// The GS base SWAPGS exchanges with GS's.
        static let kernelGSBase: UInt32 = 0xC000_0102
        /// RDTSCP's ECX.
        static let tscAux: UInt32 = 0xC000_0103
    }

    var longModeActive: Bool { state.pointee.efer & EFER.longModeActive != 0 }

    /// RDMSR of a long-mode MSR; nil for any other index.
    func readLongModeMSR(_ index: UInt32) -> UInt64? {
        switch index {
        case LongModeMSR.efer: return state.pointee.efer
        case LongModeMSR.star: return state.pointee.star
        case LongModeMSR.lstar: return state.pointee.lstar
        case LongModeMSR.cstar: return state.pointee.cstar
        case LongModeMSR.fmask: return state.pointee.fmask
        case LongModeMSR.fsBase: return segment(.fs).base
        case LongModeMSR.gsBase: return segment(.gs).base
        case LongModeMSR.kernelGSBase: return state.pointee.kernelGSBase
        case LongModeMSR.tscAux: return state.pointee.tscAux
        default: return nil
        }
    }

    /// WRMSR of a long-mode MSR: false for any other index. Addresses must be
    /// canonical and EFER's reserved bits clear (#GP otherwise).
    func writeLongModeMSR(_ index: UInt32, _ value: UInt64) throws -> Bool {
        func canonical() throws -> UInt64 {
            guard CanonicalAddress.isCanonical(value) else { throw SegmentFault.generalProtection(0) }
            return value
        }
        switch index {
        case LongModeMSR.efer: try writeEFER(value)
        case LongModeMSR.star: state.pointee.star = value
        case LongModeMSR.lstar: state.pointee.lstar = try canonical()
        case LongModeMSR.cstar: state.pointee.cstar = try canonical()
        case LongModeMSR.fmask: state.pointee.fmask = value & 0xFFFF_FFFF
        case LongModeMSR.fsBase, LongModeMSR.gsBase:
            var cache = segment(index == LongModeMSR.fsBase ? .fs : .gs)
            cache.base = try canonical()
            setSegment(index == LongModeMSR.fsBase ? .fs : .gs, cache)
        case LongModeMSR.kernelGSBase: state.pointee.kernelGSBase = try canonical()
        case LongModeMSR.tscAux: state.pointee.tscAux = value & 0xFFFF_FFFF
        default: return false
        }
        return true
    }

    /// LMA is the CPU's: a write keeps its current value. LME cannot change
    /// while paging is on; a change of NXE changes what every page allows.
    private func writeEFER(_ value: UInt64) throws {
        let old = state.pointee.efer
        guard value & ~EFER.writable == 0 else { throw SegmentFault.generalProtection(0) }
        if state.pointee.cr0 & ControlRegister.paging != 0 && (old ^ value) & EFER.longModeEnable != 0 {
            throw SegmentFault.generalProtection(0)
        }
        state.pointee.efer = (value & ~EFER.longModeActive) | (old & EFER.longModeActive)
        if (old ^ value) & EFER.noExecuteEnable != 0 {
            mmu.flushAll()
            jumpCache.clear()
        }
        updateHiddenFlags()
    }

    /// MOV to CR0's long-mode rules, before the write: turning paging on
    /// with LME needs PAE (and a CS without L) and activates long mode;
    /// turning it off in 64-bit mode is #GP, from compatibility mode it
    /// leaves long mode. Returns EFER as it will be.
    func longModeCR0(from old: UInt64, to new: UInt64) throws -> UInt64 {
        var efer = state.pointee.efer
        let wasPaging = old & ControlRegister.paging != 0, paging = new & ControlRegister.paging != 0
        if !wasPaging && paging && efer & EFER.longModeEnable != 0 {
            guard state.pointee.cr4 & ControlRegister.cr4PAE != 0, !segment(.cs).isLong else {
                throw SegmentFault.generalProtection(0)
            }
            efer |= EFER.longModeActive
        } else if wasPaging && !paging && efer & EFER.longModeActive != 0 {
            guard !segment(.cs).isLong else { throw SegmentFault.generalProtection(0) }
            efer &= ~EFER.longModeActive
        }
        return efer
    }

    /// MOV to CR4 in long mode: PAE cannot be cleared.
    func checkLongModeCR4(_ value: UInt64) throws {
        if longModeActive && value & ControlRegister.cr4PAE == 0 { throw SegmentFault.generalProtection(0) }
    }
}

extension X86CPU {
    /// IA32_EFER as the rest of the machine sees it (a debugger, saved state,
    /// programs that set the CPU up before running it). A write sets it as
    /// given, LMA included, with no checks, and drops what a mode change drops.
    public var extendedFeatureEnable: UInt64 {
        get { state.pointee.efer }
        set {
            state.pointee.efer = newValue
            mmu.flushAll()
            jumpCache.clear()
            updateHiddenFlags()
        }
    }
}

extension X86CPU {
    /// The TPR CR8 reads and writes (its bits 7:4): the local APIC's, or
    /// zero without one (writes then change nothing, as with the APIC
    /// absent: there is no priority to mask).
    var taskPriorityRegister: UInt32 {
        get { localAPIC?.readRegister(0x80) ?? 0 }
        set { localAPIC?.writeRegister(0x80, newValue) }
    }
}

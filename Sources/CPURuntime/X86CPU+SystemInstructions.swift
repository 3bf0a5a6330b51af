import PCEmuSupport
import X86Frontend
import X86State

/// Descriptor-table registers, control and debug registers, MSRs and the
/// fast system calls: the runtime half of `SystemTableInstructions`.
extension X86CPU {
    /// Model-specific registers PCEmu has.
    enum MSR {
        static let timeStampCounter: UInt32 = 0x10
        static let apicBase: UInt32 = 0x1B
        static let sysenterCS: UInt32 = 0x174
        static let sysenterESP: UInt32 = 0x175
        static let sysenterEIP: UInt32 = 0x176
        /// IA32_PLATFORM_ID and IA32_BIOS_SIGN_ID (the microcode revision): the
        /// kernel's microcode loader reads them without a fault handler.
        static let platformID: UInt32 = 0x17
        static let microcodeRevision: UInt32 = 0x8B
        static let tscDeadline: UInt32 = 0x6E0
        /// AMD's SYSCFG: Linux's MTRR code reads it on every AMD CPU (the
        /// fixed-range DRAM bits), and a 32-bit kernel cannot survive the
        /// #GP that early. Reads as 0 (none of its features), writes kept
        /// nowhere, on AMD models only, as QEMU's TCG treats it.
        static let amdSystemConfiguration: UInt32 = 0xC001_0010
        /// AMD's interrupt-pending message register, which Linux reads after
        /// ACPI starts (to turn off C1E): 0 likewise.
        static let amdInterruptPending: UInt32 = 0xC001_0055
    }

    func system(_ call: SystemCall, operand: UInt64, address: LinearAddress) -> UInt64 {
        guard let operation = call.operation else { return 0 }
        let bytes = Int(call.operandBytes)
        let number = Int(call.register)
        do {
            return try perform(operation, bytes: bytes, number: number, operand: operand, address: address)
        } catch {
            raise(error)
            return 0
        }
    }

    private func requireKernel() throws {
        if protectedMode && currentPrivilege != 0 { throw SegmentFault.generalProtection(0) }
    }

    private func perform(_ operation: SystemOperation, bytes: Int, number: Int, operand: UInt64, address: LinearAddress) throws -> UInt64 {
        switch operation {
        case .storeLDTR: return UInt64(state.pointee.ldtr.selector)
        case .storeTaskRegister: return UInt64(state.pointee.taskRegister.selector)
        case .loadLDTR:
            try requireKernel()
            try loadLDT(UInt16(truncatingIfNeeded: operand))
        case .loadTaskRegister:
            try requireKernel()
            try loadTaskRegister(UInt16(truncatingIfNeeded: operand))
        case .verifyRead, .verifyWrite:
            setZero(try verify(UInt16(truncatingIfNeeded: operand), write: operation == .verifyWrite))
        case .loadAccessRights, .loadSegmentLimit:
            guard let (entry, valid) = try? accessibleDescriptor(UInt16(truncatingIfNeeded: operand), forLimit: operation == .loadSegmentLimit),
                  valid else {
                setZero(false)
                return 0
            }
            setZero(true)
            let value = operation == .loadAccessRights ? entry.high & 0x00FF_FF00 : entry.limit
            return UInt64(value) | 1 << 32
        case .storeGDTR, .storeIDTR:
            let (base, limit) = operation == .storeGDTR ? (state.pointee.gdtBase, state.pointee.gdtLimit)
                                                        : (state.pointee.idtBase, state.pointee.idtLimit)
            // The 32-bit modes store a 32-bit base (24 bits with a 16-bit operand).
            let stored = UInt32(truncatingIfNeeded: base)
            try systemStore(address, limit, bytes: 2)
            try systemStore(linear(address, 2), bytes == 2 ? stored & 0x00FF_FFFF : stored, bytes: 4)
            // 64-bit mode: the whole 64-bit base.
            if HiddenFlags.isCode64(state.pointee.hiddenFlags) {
                try systemStore(linear(address, 6), UInt32(truncatingIfNeeded: base >> 32), bytes: 4)
            }
        case .loadGDTR, .loadIDTR:
            try requireKernel()
            let limit = try systemLoad(address, bytes: 2)
            var base = LinearAddress(try systemLoad(linear(address, 2), bytes: 4))
            if HiddenFlags.isCode64(state.pointee.hiddenFlags) {
                base |= LinearAddress(try systemLoad(linear(address, 6), bytes: 4)) << 32
            } else if bytes == 2 {
                base &= 0x00FF_FFFF
            }
            if operation == .loadGDTR {
                state.pointee.gdtBase = base
                state.pointee.gdtLimit = limit
            } else {
                state.pointee.idtBase = base
                state.pointee.idtLimit = limit
            }
        case .storeMachineStatus:
            return UInt64(state.pointee.cr0)
        case .loadMachineStatus:
            try requireKernel()
            // LMSW sets PE MP EM TS but cannot clear PE.
            let low = UInt64(operand & 0xF)
            let cr0 = (state.pointee.cr0 & ~0xE) | low | (state.pointee.cr0 & 1)
            try writeControlRegister(0, cr0)
        case .invalidatePage:
            try requireKernel()
            mmuFlushPage(address)
        case .probeWrite:
            let user = state.pointee.hiddenFlags & HiddenFlags.cplMask == 3
            _ = mmu.translate(address, access: .write, mmu: user ? SoftMMU.userIndex : SoftMMU.supervisorIndex)
        case .clearTaskSwitched:
            try requireKernel()
            state.pointee.cr0 &= ~ControlRegister.taskSwitched
            updateHiddenFlags()
        case .readControlRegister:
            try requireKernel()
            switch number {
            case 0: return UInt64(state.pointee.cr0)
            case 2: return UInt64(state.pointee.cr2)
            case 3: return UInt64(state.pointee.cr3)
            case 4: return UInt64(state.pointee.cr4)
            case 8 where longModeActive: return UInt64(taskPriorityRegister >> 4)
            default: throw SegmentFault(vector: ExceptionVector.invalidOpcode, errorCode: 0)
            }
        case .writeControlRegister:
            try requireKernel()
            try writeControlRegister(number, operand)
        case .readDebugRegister:
            try requireKernel()
            return UInt64(debugRegister(try debugRegisterNumber(number)))
        case .writeDebugRegister:
            try requireKernel()
            setDebugRegister(try debugRegisterNumber(number), UInt32(truncatingIfNeeded: operand))
        case .readMSR:
            try requireKernel()
            let value = try readMSR(register(Register.ecx.rawValue))
            setRegister(0, UInt32(truncatingIfNeeded: value))
            setRegister(Register.edx.rawValue, UInt32(truncatingIfNeeded: value >> 32))
        case .writeMSR:
            try requireKernel()
            let value = UInt64(register(Register.edx.rawValue)) << 32 | UInt64(register(0))
            try writeMSR(register(Register.ecx.rawValue), value)
        case .systemEnter:
            try systemEnter()
        case .systemExit:
            try systemExit()
        case .invalidateCaches:
            try requireKernel()
        case .fastSystemCall:
            try systemCall(returnAddress: operand)
        case .fastSystemReturn:
            try systemReturn(bytes: bytes)
        case .swapGS:
            try swapGS()
        case .readTimeStampCounterAndProcessor:
            try readTimeStampCounterAndProcessor()
        }
        return 0
    }

    // MARK: control registers

    func writeControlRegister(_ number: Int, _ value: UInt64) throws {
        switch number {
        case 8 where longModeActive:
            // CR8: TPR's priority class; bits 63:4 are reserved.
            guard value & ~0xF == 0 else { throw SegmentFault.generalProtection(0) }
            taskPriorityRegister = UInt32(value) << 4
        case 0:
            let reserved: UInt64 = 0x1FFA_FFC0
            guard value & reserved == 0 else { throw SegmentFault.generalProtection(0) }
            guard value & ControlRegister.paging == 0 || value & ControlRegister.protectionEnable != 0 else {
                throw SegmentFault.generalProtection(0)
            }
            let old = state.pointee.cr0
            state.pointee.efer = try longModeCR0(from: old, to: value)
            state.pointee.cr0 = value | ControlRegister.extensionType
            translationChanged(register: 0, from: old, to: state.pointee.cr0)
        case 2:
            state.pointee.cr2 = value
        case 3:
            let old = state.pointee.cr3
            state.pointee.cr3 = value
            translationChanged(register: 3, from: old, to: value)
        case 4:
            var supported = ControlRegister.cr4TSD | ControlRegister.cr4DE | ControlRegister.cr4PSE | ControlRegister.cr4PAE
                | ControlRegister.cr4PGE | ControlRegister.cr4OSFXSR | ControlRegister.cr4OSXMMEXCPT
            if model.features.contains("mce") { supported |= ControlRegister.cr4MCE }
            guard value & ~supported == 0 else { throw SegmentFault.generalProtection(0) }
            try checkLongModeCR4(value)
            let old = state.pointee.cr4
            state.pointee.cr4 = value
            translationChanged(register: 4, from: old, to: value)
        default:
            throw SegmentFault(vector: ExceptionVector.invalidOpcode, errorCode: 0)
        }
        updateHiddenFlags()
    }

    /// After a CR0/CR3/CR4 write: the TLB entries it invalidates, and the same
    /// part of the jump cache, which trusts the linear-to-physical mapping.
    /// (A mode change the write makes is in the blocks' keys.)
    func translationChanged(register: Int, from old: UInt64, to new: UInt64) {
        switch mmu.controlRegisterWritten(register, from: old, to: new) {
        case .none: break
        case .nonGlobal: jumpCache.clearNonGlobal()
        case .all: jumpCache.clear()
        }
    }

    func mmuFlushPage(_ linear: LinearAddress) {
        if mmu.hugePageCached {
            // The jump cache trusts a 1 GiB page's mapping over all of it.
            mmu.flushAll()
            jumpCache.clear()
            return
        }
        mmu.flush(page: linear)
        jumpCache.invalidate(linearPage: linear)
    }

    /// DR4 and DR5 are DR6 and DR7 under other names, unless CR4.DE makes them #UD.
    private func debugRegisterNumber(_ number: Int) throws -> Int {
        guard number == 4 || number == 5 else { return number }
        if state.pointee.cr4 & ControlRegister.cr4DE != 0 {
            throw SegmentFault(vector: ExceptionVector.invalidOpcode, errorCode: 0)
        }
        return number + 2
    }

    private func debugRegister(_ number: Int) -> UInt32 {
        withUnsafeBytes(of: &state.pointee.debugRegisters) { $0.load(fromByteOffset: 4 * (number & 7), as: UInt32.self) }
    }

    private func setDebugRegister(_ number: Int, _ value: UInt32) {
        withUnsafeMutableBytes(of: &state.pointee.debugRegisters) { $0.storeBytes(of: value, toByteOffset: 4 * (number & 7), as: UInt32.self) }
    }

    // MARK: descriptors for LAR LSL VERR VERW LTR

    private func setZero(_ value: Bool) {
        var flags = LazyFlagsEvaluation.fullFlags(state) & ~EFLAGS.zero
        if value { flags |= EFLAGS.zero }
        LazyFlagsEvaluation.setFullFlags(state, flags, writable: EFLAGS.arithmetic)
    }

    /// The descriptor, and whether LAR/LSL may report it at this privilege.
    private func accessibleDescriptor(_ selector: UInt16, forLimit: Bool) throws -> (SegmentDescriptor, Bool) {
        guard UInt32(selector) & 0xFFFC != 0 else { return (SegmentDescriptor(low: 0, high: 0), false) }
        let (entry, _) = try descriptor(selector)
        if !entry.isCodeOrData {
            let allowed: Set<UInt32> = forLimit ? [1, 2, 3, 9, 11] : [1, 2, 3, 4, 5, 9, 11, 12]
            guard allowed.contains(entry.type) else { return (entry, false) }
        }
        if !entry.isConforming && max(currentPrivilege, UInt32(selector) & 3) > entry.dpl { return (entry, false) }
        return (entry, true)
    }

    private func verify(_ selector: UInt16, write: Bool) throws -> Bool {
        guard UInt32(selector) & 0xFFFC != 0, let (entry, _) = try? descriptor(selector), entry.isCodeOrData else { return false }
        if !entry.isConforming && max(currentPrivilege, UInt32(selector) & 3) > entry.dpl { return false }
        if write { return !entry.isCode && entry.isReadableOrWritable }
        return !entry.isCode || entry.isReadableOrWritable
    }

    private func loadTaskRegister(_ selector: UInt16) throws {
        let code = UInt32(selector) & 0xFFFC
        guard code != 0, selector & 4 == 0 else { throw SegmentFault.generalProtection(code) }
        let (entry, address) = try descriptor(selector)
        guard !entry.isCodeOrData, entry.type == SegmentDescriptor.SystemType.availableTSS32
                || entry.type == SegmentDescriptor.SystemType.availableTSS16 else { throw SegmentFault.generalProtection(code) }
        guard entry.isPresent else { throw SegmentFault.notPresent(code) }
        // Long mode: a 16-byte descriptor of a 64-bit TSS, base bits 63:32 in its third dword.
        var baseHigh: UInt32 = 0
        if longModeActive {
            guard entry.type == SegmentDescriptor.SystemType.availableTSS32,
                  UInt32(selector) & 0xFFF8 + 15 <= state.pointee.gdtLimit else { throw SegmentFault.generalProtection(code) }
            baseHigh = try systemLoad(address &+ 8, bytes: 4)
        }
        try systemStore(address &+ 4, entry.high | (2 << 8), bytes: 4)
        var cache = entry.cache
        cache.base |= LinearAddress(baseHigh) << 32
        cache.selector = UInt32(selector)
        cache.flags |= 2 << 8
        state.pointee.taskRegister = cache
    }

    // MARK: I/O permission

    /// The TSS's I/O bitmap must have a clear bit for every port accessed.
    func checkIOPermission(port: UInt32, bytes: UInt32) {
        let tss = state.pointee.taskRegister
        let is32 = (tss.flags >> 8) & 0x8 != 0
        do {
            guard is32, tss.limit >= 0x67 else { throw SegmentFault.generalProtection(0) }
            let bitmap = try systemLoad(systemLinear(tss.base, 0x66), bytes: 2)
            let offset = bitmap &+ port / 8
            guard offset &+ 1 <= tss.limit else { throw SegmentFault.generalProtection(0) }
            let bits = try systemLoad(systemLinear(tss.base, offset), bytes: 2)
            let mask: UInt32 = ((1 << bytes) - 1) << (port & 7)
            guard bits & mask == 0 else { throw SegmentFault.generalProtection(0) }
        } catch {
            raise(error)
        }
    }

    // MARK: MSRs and fast system calls

    private func readMSR(_ index: UInt32) throws -> UInt64 {
        switch index {
        case MSR.timeStampCounter: return UInt64(bitPattern: clock.now &+ state.pointee.tscOffset)
        case MSR.apicBase: return localAPIC?.baseMSR ?? state.pointee.apicBase
        case MSR.tscDeadline:
            guard let localAPIC else { throw SegmentFault.generalProtection(0) }
            return localAPIC.tscDeadline
        case MSR.sysenterCS: return UInt64(state.pointee.sysenterCS)
        case MSR.sysenterESP: return UInt64(state.pointee.sysenterESP)
        case MSR.sysenterEIP: return UInt64(state.pointee.sysenterEIP)
        case MSR.platformID, MSR.microcodeRevision: return 0
        case MSR.amdSystemConfiguration where model.vendor == .amd, MSR.amdInterruptPending where model.vendor == .amd: return 0
        default:
            if hasCacheControlMSR(index), let value = cacheControl.read(index) { return value }
            if let value = readLongModeMSR(index) { return value }
            Log.write(.unimplemented, "RDMSR 0x\(String(index, radix: 16))")
            throw SegmentFault.generalProtection(0)
        }
    }

    private func writeMSR(_ index: UInt32, _ value: UInt64) throws {
        switch index {
        case MSR.timeStampCounter: state.pointee.tscOffset = Int64(bitPattern: value) &- clock.now
        case MSR.apicBase:
            guard let localAPIC else {
                state.pointee.apicBase = value
                return
            }
            guard localAPIC.writeBaseMSR(value) else { throw SegmentFault.generalProtection(0) }
            state.pointee.apicBase = localAPIC.baseMSR
            // The register page may have moved: MMIO pages are in the TLB.
            flushTLB()
        case MSR.tscDeadline:
            guard let localAPIC else { throw SegmentFault.generalProtection(0) }
            // The TSC is guest time plus the offset a TSC write left.
            let time = Int64(bitPattern: value &- UInt64(bitPattern: state.pointee.tscOffset))
            localAPIC.setTSCDeadline(value, time: time)
        case MSR.sysenterCS: state.pointee.sysenterCS = UInt32(truncatingIfNeeded: value)
        case MSR.sysenterESP: state.pointee.sysenterESP = UInt32(truncatingIfNeeded: value)
        case MSR.sysenterEIP: state.pointee.sysenterEIP = UInt32(truncatingIfNeeded: value)
        case MSR.microcodeRevision: break  // writing 0 before CPUID is how the revision is read
        case MSR.amdSystemConfiguration where model.vendor == .amd, MSR.amdInterruptPending where model.vendor == .amd: break
        default:
            if hasCacheControlMSR(index), let accepted = cacheControl.write(index, value) {
                guard accepted else { throw SegmentFault.generalProtection(0) }
                return
            }
            if try writeLongModeMSR(index, value) { return }
            Log.write(.unimplemented, "WRMSR 0x\(String(index, radix: 16))")
            throw SegmentFault.generalProtection(0)
        }
    }

    /// The MTRRs, PAT and machine-check MSRs exist when the model declares their feature.
    private func hasCacheControlMSR(_ index: UInt32) -> Bool {
        switch index {
        case CacheControlMSRs.pat: return model.features.contains("pat")
        case CacheControlMSRs.machineCheckCapabilities, CacheControlMSRs.machineCheckStatus, CacheControlMSRs.bank0:
            return model.features.contains("mca")
        default: return model.features.contains("mtrr")
        }
    }

    /// Flat 4 GiB segments at a privilege level, as SYSENTER/SYSEXIT load them.
    private func flatSegment(selector: UInt32, code: Bool, privilege: UInt32) -> SegmentCache {
        var flags = SegmentCache.present | SegmentCache.codeOrData | SegmentCache.writable | SegmentCache.accessed
            | SegmentCache.big | SegmentCache.granularity | privilege << SegmentCache.dplShift
        if code { flags |= SegmentCache.code }
        return SegmentCache(selector: selector, base: 0, limit: 0xFFFF_FFFF, flags: flags)
    }

    private func systemEnter() throws {
        let cs = state.pointee.sysenterCS & 0xFFFC
        guard protectedMode, cs != 0 else { throw SegmentFault.generalProtection(0) }
        state.pointee.eflags &= ~(EFLAGS.virtual8086 | EFLAGS.interrupt | EFLAGS.resume)
        setSegment(.cs, flatSegment(selector: cs, code: true, privilege: 0))
        setSegment(.ss, flatSegment(selector: cs &+ 8, code: false, privilege: 0))
        setRegister(Register.esp.rawValue, state.pointee.sysenterESP)
        state.pointee.eip = UInt64(state.pointee.sysenterEIP)
        updateHiddenFlags()
    }

    private func systemExit() throws {
        let cs = state.pointee.sysenterCS & 0xFFFC
        guard descriptorMode, currentPrivilege == 0, cs != 0 else { throw SegmentFault.generalProtection(0) }
        setSegment(.cs, flatSegment(selector: (cs &+ 16) | 3, code: true, privilege: 3))
        setSegment(.ss, flatSegment(selector: (cs &+ 24) | 3, code: false, privilege: 3))
        setRegister(Register.esp.rawValue, register(Register.ecx.rawValue))
        state.pointee.eip = UInt64(register(Register.edx.rawValue))
        updateHiddenFlags()
    }
}

import X86Frontend
import X86State

/// Interrupts and exceptions in long mode (SDM vol. 3, 6.14): 16-byte IDT
/// gates naming 64-bit code segments, the 64-bit TSS's RSP0-2 and IST1-7
/// stacks, a frame of five quadwords (SS:RSP always pushed) on a stack
/// aligned to 16, and IRETQ. Task gates and 32-bit gates do not exist here.
extension X86CPU {
    /// The 64-bit TSS: RSPn at 4 + 8n, ISTn at 0x24 + 8(n-1).
    enum TSS64 {
        static let stackPointers: UInt32 = 0x04
        static let interruptStacks: UInt32 = 0x24
    }

    /// A 64-bit register, whole.
    func register64(_ number: Int) -> UInt64 {
        withUnsafeBytes(of: &state.pointee.registers) { $0.load(fromByteOffset: 8 * number, as: UInt64.self) }
    }

    func setRegister64(_ number: Int, _ value: UInt64) {
        withUnsafeMutableBytes(of: &state.pointee.registers) { $0.storeBytes(of: value, toByteOffset: 8 * number, as: UInt64.self) }
    }

    /// RFLAGS whole (the upper half is reserved and reads 0).
    var rflags: UInt64 { UInt64(LazyFlagsEvaluation.fullFlags(state)) }

    /// A quadword of system memory (IDT, TSS) with a supervisor access.
    func systemLoad64(_ linear: LinearAddress) throws -> UInt64 {
        let value = mmu.load(linear, bytes: 8, mmu: SoftMMU.supervisorIndex)
        if state.pointee.pendingException >= 0 { throw AlreadyFaulted() }
        return value
    }

    func deliverLongModeInterrupt(vector: UInt32, returnAddress: UInt64, kind: InterruptKind, errorCode: UInt32?) throws {
        let external: UInt32 = kind == .software ? 0 : 1
        let gateCode = vector * 8 + 2 + external
        guard vector * 16 + 15 <= state.pointee.idtLimit else { throw SegmentFault.generalProtection(gateCode) }
        let address = state.pointee.idtBase &+ LinearAddress(vector * 16)
        let gate = SegmentDescriptor(low: try systemLoad(address, bytes: 4), high: try systemLoad(address &+ 4, bytes: 4))
        let offsetHigh = try systemLoad(address &+ 8, bytes: 4)
        guard gate.type == SegmentDescriptor.SystemType.interruptGate32 || gate.type == SegmentDescriptor.SystemType.trapGate32,
              !gate.isCodeOrData else { throw SegmentFault.generalProtection(gateCode) }
        let cpl = currentPrivilege
        if kind == .software && gate.dpl < cpl { throw SegmentFault.generalProtection(gateCode) }
        guard gate.isPresent else { throw SegmentFault.notPresent(gateCode) }

        let targetSelector = gate.gateSelector
        let targetCode = UInt32(targetSelector) & 0xFFFC
        guard targetCode != 0 else { throw SegmentFault.generalProtection(external) }
        let (target, targetAddress) = try descriptor(targetSelector)
        // The handler must be 64-bit code (L set, D clear) at this privilege or more.
        guard target.isCode, target.high & SegmentCache.long != 0, target.high & SegmentCache.big == 0,
              target.dpl <= cpl else { throw SegmentFault.generalProtection(targetCode + external) }
        guard target.isPresent else { throw SegmentFault.notPresent(targetCode + external) }
        let handler = UInt64(offsetHigh) << 32 | UInt64(gate.gateOffset)
        guard CanonicalAddress.isCanonical(handler) else { throw SegmentFault.generalProtection(0) }

        let newPrivilege = target.isConforming ? cpl : target.dpl
        let interruptStack = gate.high & 7
        var stackPointer = register64(Register.esp.rawValue)
        if interruptStack != 0 {
            stackPointer = try taskStatePointer(TSS64.interruptStacks + 8 * (interruptStack - 1))
        } else if newPrivilege < cpl {
            stackPointer = try taskStatePointer(TSS64.stackPointers + 8 * newPrivilege)
        }
        stackPointer &= ~0xF
        var frame: [UInt64] = [UInt64(segment(.ss).selector), register64(Register.esp.rawValue), rflags,
                               UInt64(segment(.cs).selector), returnAddress]
        if let errorCode { frame.append(UInt64(errorCode)) }
        // The pushes are accesses at the handler's privilege; nothing changes until all are made.
        let mmuIndex = newPrivilege == 3 ? SoftMMU.userIndex : SoftMMU.supervisorIndex
        for value in frame {
            stackPointer &-= 8
            guard CanonicalAddress.isCanonical(stackPointer) else { throw SegmentFault.stack(0) }
            mmu.store(stackPointer, value, bytes: 8, mmu: mmuIndex)
            if state.pointee.pendingException >= 0 { throw AlreadyFaulted() }
        }

        try markAccessed(target, at: targetAddress)
        if newPrivilege != cpl {
            // A privilege change loads SS with a null selector at the new CPL.
            setSegment(.ss, X86CPU.nullStackSegment(privilege: newPrivilege))
        }
        var cache = target.cache
        cache.selector = targetCode | newPrivilege
        cache.flags |= SegmentCache.accessed
        setSegment(.cs, cache)
        setRegister64(Register.esp.rawValue, stackPointer)
        var newFlags = state.pointee.eflags & ~(EFLAGS.trap | EFLAGS.nestedTask | EFLAGS.resume | EFLAGS.virtual8086)
        if gate.type == SegmentDescriptor.SystemType.interruptGate32 { newFlags &= ~EFLAGS.interrupt }
        state.pointee.eflags = newFlags
        state.pointee.eip = handler
        updateHiddenFlags()
    }

    /// RSPn or ISTn from the 64-bit TSS: #TS when the TSS is too short for it.
    func taskStatePointer(_ offset: UInt32) throws -> UInt64 {
        let tss = state.pointee.taskRegister
        guard offset + 7 <= tss.limit else { throw SegmentFault.invalidTSS(tss.selector & 0xFFFC) }
        return try systemLoad64(tss.base &+ LinearAddress(offset))
    }

    /// SS after an interrupt or far transfer that changes the privilege in
    /// long mode: a null selector whose RPL (and the cache's DPL, where the
    /// CPL is kept) is the new privilege, flat and writable.
    static func nullStackSegment(privilege: UInt32) -> SegmentCache {
        SegmentCache(selector: privilege, base: 0, limit: 0xFFFF_FFFF,
                     flags: SegmentCache.present | SegmentCache.codeOrData | SegmentCache.writable | SegmentCache.accessed
                         | SegmentCache.big | SegmentCache.granularity | privilege << SegmentCache.dplShift)
    }

    /// IRET in long mode (IRETQ with `bytes` 8; IRETD and IRET pop 4- and
    /// 2-byte slots): RIP, CS, RFLAGS, then RSP and SS, always popped from
    /// 64-bit mode, else only on a return to an outer privilege. The return
    /// may go to 64-bit or compatibility code; NT set is #GP (no task return).
    func longModeInterruptReturn(bytes: Int) throws {
        guard state.pointee.eflags & EFLAGS.nestedTask == 0 else { throw SegmentFault.generalProtection(0) }
        let cpl = currentPrivilege
        let from64 = HiddenFlags(rawValue: state.pointee.hiddenFlags).contains(.code64)
        let pointer = register64(Register.esp.rawValue)
        let mmuIndex = cpl == 3 ? SoftMMU.userIndex : SoftMMU.supervisorIndex
        func slot(_ index: Int) throws -> UInt64 {
            let address = from64 ? pointer &+ UInt64(index * bytes) : segment(.ss).base &+ ((pointer &+ UInt64(index * bytes)) & 0xFFFF_FFFF)
            guard CanonicalAddress.isCanonical(address) else { throw SegmentFault.stack(0) }
            let value = mmu.load(address, bytes: bytes, mmu: mmuIndex)
            if state.pointee.pendingException >= 0 { throw AlreadyFaulted() }
            return value
        }
        let returnAddress = try slot(0)
        let selector = UInt16(truncatingIfNeeded: try slot(1))
        let flags = UInt32(truncatingIfNeeded: try slot(2))
        guard UInt32(selector) & 0xFFFC != 0 else { throw SegmentFault.generalProtection(0) }
        let (entry, address) = try descriptor(selector)
        let cache = try codeSegment(selector, entry: entry, privilege: cpl, forReturn: true)
        let rpl = UInt32(selector) & 3
        let to64 = cache.isLong
        guard !to64 || !cache.isBig else { throw SegmentFault.generalProtection(UInt32(selector) & 0xFFFC) }
        guard !to64 || CanonicalAddress.isCanonical(returnAddress) else { throw SegmentFault.generalProtection(0) }
        var newStack: (pointer: UInt64, selector: UInt16)?
        if from64 || rpl > cpl {
            newStack = (try slot(3), UInt16(truncatingIfNeeded: try slot(4)))
        }
        try markAccessed(entry, at: address)
        let iopl = (state.pointee.eflags & EFLAGS.iopl) >> EFLAGS.ioplShift
        var writable = EFLAGS.arithmetic | EFLAGS.trap | EFLAGS.direction | EFLAGS.nestedTask | EFLAGS.resume
            | EFLAGS.alignmentCheck | EFLAGS.identification | EFLAGS.virtualInterrupt | EFLAGS.virtualInterruptPending
        if cpl == 0 { writable |= EFLAGS.iopl }
        if cpl <= iopl { writable |= EFLAGS.interrupt }
        if bytes == 2 { writable &= 0xFFFF }
        LazyFlagsEvaluation.setFullFlags(state, flags, writable: writable)
        setSegment(.cs, cache)
        state.pointee.eip = to64 ? returnAddress : returnAddress & (cache.isBig ? 0xFFFF_FFFF : 0xFFFF)
        if let newStack {
            if UInt32(newStack.selector) & 0xFFFC == 0 && to64 && rpl < 3 {
                // 64-bit code below ring 3 may run on a null SS.
                setSegment(.ss, X86CPU.nullStackSegment(privilege: rpl))
                setRegister64(Register.esp.rawValue, newStack.pointer)
            } else {
                try switchStack(selector: newStack.selector, pointer: UInt32(truncatingIfNeeded: newStack.pointer), privilege: rpl)
                setRegister64(Register.esp.rawValue, to64 ? newStack.pointer : newStack.pointer & 0xFFFF_FFFF)
            }
            if rpl > cpl { invalidateDataSegmentsInLongMode() }
        } else {
            setRegister64(Register.esp.rawValue, pointer &+ UInt64(3 * bytes))
        }
        updateHiddenFlags()
    }

    /// A return to an outer privilege nulls ES, DS, FS and GS where they
    /// hold a segment the new CPL may not use. A null selector names no
    /// segment and stays, with FS's and GS's bases (which 64-bit code sets
    /// through the MSRs under a null selector).
    private func invalidateDataSegmentsInLongMode() {
        let cpl = currentPrivilege
        for target in [Segment.es, .ds, .fs, .gs] {
            var cache = segment(target)
            guard cache.selector & 0xFFFC != 0 else { continue }
            let isConformingCode = cache.flags & SegmentCache.code != 0 && cache.flags & SegmentCache.conforming != 0
            if !isConformingCode && cache.dpl < cpl {
                cache = SegmentCache(selector: 0, base: target == .fs || target == .gs ? cache.base : 0, limit: 0, flags: 0)
                setSegment(target, cache)
            }
        }
    }
}

import PCEmuSupport
import X86Frontend
import X86State

/// Interrupts and exceptions in protected mode: IDT gates, privilege and
/// stack switches, virtual-8086 entry and exit, IRET, and the exceptions that
/// push an error code.
extension X86CPU {
    /// Exceptions that push an error code.
    static func pushesErrorCode(_ vector: UInt32) -> Bool {
        [8, 10, 11, 12, 13, 14, 17].contains(vector)
    }

    func deliverProtectedInterrupt(vector: UInt32, returnAddress: UInt32, kind: InterruptKind, errorCode: UInt32?) throws {
        // EXT: the event came from outside the program (hardware, or an exception during delivery).
        let external: UInt32 = kind == .software ? 0 : 1
        let gateCode = vector * 8 + 2 + external
        guard vector * 8 + 7 <= state.pointee.idtLimit else { throw SegmentFault.generalProtection(gateCode) }
        let address = linear(state.pointee.idtBase, vector * 8)
        let gate = SegmentDescriptor(low: try systemLoad(address, bytes: 4), high: try systemLoad(linear(address, 4), bytes: 4))
        let cpl = currentPrivilege
        switch gate.type {
        case SegmentDescriptor.SystemType.interruptGate16, SegmentDescriptor.SystemType.trapGate16,
             SegmentDescriptor.SystemType.interruptGate32, SegmentDescriptor.SystemType.trapGate32,
             SegmentDescriptor.SystemType.taskGate:
            break
        default:
            throw SegmentFault.generalProtection(gateCode)
        }
        if kind == .software && gate.dpl < cpl { throw SegmentFault.generalProtection(gateCode) }
        guard gate.isPresent else { throw SegmentFault.notPresent(gateCode) }
        if gate.type == SegmentDescriptor.SystemType.taskGate {
            try taskSwitch(through: gate.gateSelector, entry: nil, reason: .interrupt, returnAddress: returnAddress)
            if let errorCode { try pushChecked([errorCode], bytes: segment(.cs).isBig ? 4 : 2) }
            return
        }
        let targetSelector = gate.gateSelector
        let targetCode = UInt32(targetSelector) & 0xFFFC
        guard targetCode != 0 else { throw SegmentFault.generalProtection(external) }
        let (target, targetAddress) = try descriptor(targetSelector)
        guard target.isCode, target.dpl <= cpl else { throw SegmentFault.generalProtection(targetCode + external) }
        guard target.isPresent else { throw SegmentFault.notPresent(targetCode + external) }
        let bytes = gate.is32BitGate ? 4 : 2
        let flags = LazyFlagsEvaluation.fullFlags(state)
        let oldCS = segment(.cs).selector
        let fromVirtual8086 = virtual8086
        var newPrivilege = cpl
        if !target.isConforming && target.dpl < cpl || fromVirtual8086 {
            if fromVirtual8086 && target.dpl != 0 { throw SegmentFault.generalProtection(targetCode) }
            newPrivilege = target.dpl
            let (newSS, newESP) = try innerStack(privilege: newPrivilege)
            let oldSS = segment(.ss).selector
            let oldESP = register(Register.esp.rawValue)
            var saved: [UInt32] = []
            if fromVirtual8086 {
                saved = [segment(.gs).selector, segment(.fs).selector, segment(.ds).selector, segment(.es).selector]
            }
            // The new CPL applies to the stack checks.
            state.pointee.hiddenFlags = (state.pointee.hiddenFlags & ~HiddenFlags.cplMask) | newPrivilege
            state.pointee.eflags &= ~EFLAGS.virtual8086
            try switchStack(selector: newSS, pointer: newESP, privilege: newPrivilege)
            var values = saved + [oldSS, oldESP, flags, oldCS, returnAddress]
            if let errorCode { values.append(errorCode) }
            try pushChecked(values, bytes: bytes)
            if fromVirtual8086 {
                for target in [Segment.es, .ds, .fs, .gs] { setSegment(target, SegmentCache(selector: 0, base: 0, limit: 0, flags: 0)) }
            }
        } else {
            var values = [flags, oldCS, returnAddress]
            if let errorCode { values.append(errorCode) }
            try pushChecked(values, bytes: bytes)
        }
        try markAccessed(target, at: targetAddress)
        var cache = target.cache
        cache.selector = targetCode | newPrivilege
        cache.flags |= SegmentCache.accessed
        var newFlags = state.pointee.eflags & ~(EFLAGS.trap | EFLAGS.nestedTask | EFLAGS.resume | EFLAGS.virtual8086)
        let isInterruptGate = gate.type == SegmentDescriptor.SystemType.interruptGate16 || gate.type == SegmentDescriptor.SystemType.interruptGate32
        if isInterruptGate { newFlags &= ~EFLAGS.interrupt }
        state.pointee.eflags = newFlags
        setCodeSegment(cache, eip: gate.gateOffset)
    }

    /// IRET in protected mode: same level, outer level, to virtual-8086 mode,
    /// or back to the previous task when NT is set.
    func protectedInterruptReturn(bytes: Int) throws {
        if longModeActive { return try longModeInterruptReturn(bytes: bytes) }
        if virtual8086 {
            // IOPL 3: IRET works as in real mode; otherwise #GP (no VME yet).
            guard (state.pointee.eflags & EFLAGS.iopl) >> EFLAGS.ioplShift == 3 else { throw SegmentFault.generalProtection(0) }
            let offset = pop(bytes: bytes)
            let selector = UInt16(truncatingIfNeeded: pop(bytes: bytes))
            let flags = pop(bytes: bytes)
            if state.pointee.pendingException >= 0 { throw AlreadyFaulted() }
            setSegment(.cs, .realMode(selector: selector, code: true))
            state.pointee.eip = UInt64(offset & 0xFFFF)
            // IOPL stays; VM stays set.
            let writable: UInt32 = (bytes == 4 ? 0x24_0000 | 0x3FD5 : 0x3FD5) & ~EFLAGS.iopl
            LazyFlagsEvaluation.setFullFlags(state, flags, writable: writable)
            updateHiddenFlags()
            return
        }
        if state.pointee.eflags & EFLAGS.nestedTask != 0 {
            try returnFromNestedTask()
            return
        }
        let cpl = currentPrivilege
        let stackBase = segment(.ss).base
        let stack32 = segment(.ss).isBig
        let pointer = register(Register.esp.rawValue)
        func stackAddress(_ offset: UInt32) -> LinearAddress { linear(stackBase, stack32 ? pointer &+ offset : (pointer &+ offset) & 0xFFFF) }
        let step = UInt32(bytes)
        let offset = try systemLoad(stackAddress(0), bytes: bytes)
        let selector = UInt16(truncatingIfNeeded: try systemLoad(stackAddress(step), bytes: bytes))
        let flags = try systemLoad(stackAddress(2 * step), bytes: bytes)
        if bytes == 4 && flags & EFLAGS.virtual8086 != 0 && cpl == 0 {
            // Back to virtual-8086 mode: the frame also holds ESP, SS, ES, DS, FS, GS.
            var values: [UInt32] = []
            for index in 3..<9 { values.append(try systemLoad(stackAddress(UInt32(index) * step), bytes: 4)) }
            LazyFlagsEvaluation.setFullFlags(state, flags, writable: ~0 & 0x3F_7FD5)
            setSegment(.cs, .realMode(selector: selector, code: true))
            state.pointee.eip = UInt64(offset & 0xFFFF)
            setSegment(.ss, .realMode(selector: UInt16(truncatingIfNeeded: values[1])))
            setSegment(.es, .realMode(selector: UInt16(truncatingIfNeeded: values[2])))
            setSegment(.ds, .realMode(selector: UInt16(truncatingIfNeeded: values[3])))
            setSegment(.fs, .realMode(selector: UInt16(truncatingIfNeeded: values[4])))
            setSegment(.gs, .realMode(selector: UInt16(truncatingIfNeeded: values[5])))
            setRegister(Register.esp.rawValue, values[0])
            updateHiddenFlags()
            return
        }
        guard UInt32(selector) & 0xFFFC != 0 else { throw SegmentFault.generalProtection(0) }
        let (entry, address) = try descriptor(selector)
        let cache = try codeSegment(selector, entry: entry, privilege: cpl, forReturn: true)
        let rpl = UInt32(selector) & 3
        try markAccessed(entry, at: address)
        // Which EFLAGS bits the old privilege may change.
        let iopl = (state.pointee.eflags & EFLAGS.iopl) >> EFLAGS.ioplShift
        var writable = EFLAGS.arithmetic | EFLAGS.trap | EFLAGS.direction | EFLAGS.nestedTask | EFLAGS.resume
        if bytes == 4 { writable |= EFLAGS.alignmentCheck | EFLAGS.identification | EFLAGS.virtualInterrupt | EFLAGS.virtualInterruptPending }
        if cpl == 0 { writable |= EFLAGS.iopl }
        if cpl <= iopl { writable |= EFLAGS.interrupt }
        if bytes == 2 { writable &= 0xFFFF }
        if rpl > cpl {
            let newESP = try systemLoad(stackAddress(3 * step), bytes: bytes)
            let newSS = UInt16(truncatingIfNeeded: try systemLoad(stackAddress(4 * step), bytes: bytes))
            LazyFlagsEvaluation.setFullFlags(state, flags, writable: writable)
            setCodeSegment(cache, eip: offset)
            try switchStack(selector: newSS, pointer: newESP, privilege: rpl)
            invalidateDataSegmentsForOuterPrivilege()
        } else {
            setRegister(Register.esp.rawValue, pointer &+ 3 * step, bytes: stack32 ? 4 : 2)
            LazyFlagsEvaluation.setFullFlags(state, flags, writable: writable)
            setCodeSegment(cache, eip: offset)
        }
        updateHiddenFlags()
    }
}

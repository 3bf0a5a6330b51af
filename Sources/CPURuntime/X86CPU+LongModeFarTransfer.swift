import X86Frontend
import X86State

/// Far JMP and CALL while long mode is active (SDM vol. 2, JMP and CALL,
/// "IA-32e mode"; vol. 3, 5.8.3.1 and 5.8.5): the offset may be 64 bits
/// (REX.W, m16:64), a target code segment may be 64-bit code (no limit, a
/// canonical offset) or compatibility code, and call gates are 16 bytes
/// long, name only 64-bit code, and on a privilege change take RSPn from the
/// 64-bit TSS with a null SS and copy no parameters. 16-bit call gates, task
/// gates and TSS descriptors do not exist here.
extension X86CPU {
    /// Far JMP in long mode (64-bit or compatibility mode).
    func longModeFarJump(selector: UInt16, offset: UInt64, bytes: Int) throws {
        let cpl = currentPrivilege
        let (entry, address) = try longModeTarget(selector)
        if entry.isCodeOrData {
            let cache = try codeSegment(selector, entry: entry, privilege: cpl)
            let target = try longModeCodeOffset(offset, bytes: bytes, cache: cache, selector: selector)
            try markAccessed(entry, at: address)
            setCodeSegment64(cache, rip: target)
            return
        }
        // A jump through a gate never changes privilege.
        let gate = try callGate64(entry, at: address, selector: selector, privilege: cpl)
        guard gate.target.isConforming ? gate.target.dpl <= cpl : gate.target.dpl == cpl else {
            throw SegmentFault.generalProtection(gate.targetCode)
        }
        try markAccessed(gate.target, at: gate.targetAddress)
        var cache = gate.target.cache
        cache.selector = gate.targetCode | cpl
        cache.flags |= SegmentCache.accessed
        setCodeSegment64(cache, rip: gate.offset)
    }

    /// Far CALL in long mode; `returnAddress` is the next instruction's offset.
    func longModeFarCall(selector: UInt16, offset: UInt64, bytes: Int, returnAddress: UInt64) throws {
        let cpl = currentPrivilege
        let oldCS = UInt64(segment(.cs).selector)
        let (entry, address) = try longModeTarget(selector)
        if entry.isCodeOrData {
            let cache = try codeSegment(selector, entry: entry, privilege: cpl)
            let target = try longModeCodeOffset(offset, bytes: bytes, cache: cache, selector: selector)
            // CS and the return address at the operand size, on the current stack.
            let pointer = try pushOnCurrentStack([oldCS, returnAddress], bytes: bytes)
            try markAccessed(entry, at: address)
            setStackPointerAfterPush(pointer)
            setCodeSegment64(cache, rip: target)
            return
        }
        let gate = try callGate64(entry, at: address, selector: selector, privilege: cpl)
        guard gate.target.dpl <= cpl else { throw SegmentFault.generalProtection(gate.targetCode) }
        var cache = gate.target.cache
        cache.flags |= SegmentCache.accessed
        if !gate.target.isConforming && gate.target.dpl < cpl {
            // More privileged: RSPn from the 64-bit TSS, SS null at the new
            // level; SS, RSP, CS and RIP of the caller as quadwords, no parameters.
            let privilege = gate.target.dpl
            let newPointer = try taskStatePointer(TSS64.stackPointers + 8 * privilege)
            guard CanonicalAddress.isCanonical(newPointer) else { throw SegmentFault.stack(0) }
            let frame = [UInt64(segment(.ss).selector), register64(Register.esp.rawValue), oldCS, returnAddress]
            let pointer = try pushOnFlatStack(frame, bytes: 8, from: newPointer, privilege: privilege)
            try markAccessed(gate.target, at: gate.targetAddress)
            setSegment(.ss, X86CPU.nullStackSegment(privilege: privilege))
            setRegister64(Register.esp.rawValue, pointer)
            cache.selector = gate.targetCode | privilege
        } else {
            let pointer = try pushOnFlatStack([oldCS, returnAddress], bytes: 8, from: register64(Register.esp.rawValue), privilege: cpl)
            try markAccessed(gate.target, at: gate.targetAddress)
            setRegister64(Register.esp.rawValue, pointer)
            cache.selector = gate.targetCode | cpl
        }
        setCodeSegment64(cache, rip: gate.offset)
    }

    /// The descriptor a far JMP/CALL names in long mode: a code segment or
    /// a 64-bit call gate; anything else is #GP(selector).
    private func longModeTarget(_ selector: UInt16) throws -> (SegmentDescriptor, LinearAddress) {
        guard UInt32(selector) & 0xFFFC != 0 || selector & 4 != 0 else { throw SegmentFault.generalProtection(0) }
        let (entry, address) = try descriptor(selector)
        if entry.isCodeOrData {
            guard entry.isCode else { throw SegmentFault.generalProtection(UInt32(selector) & 0xFFFC) }
        } else if entry.type != SegmentDescriptor.SystemType.callGate32 {
            throw SegmentFault.generalProtection(UInt32(selector) & 0xFFFC)
        }
        return (entry, address)
    }

    /// The offset a far transfer to a code segment lands on: whole and
    /// canonical for 64-bit code, cut to the operand size and within the
    /// limit for compatibility code. L and D both set is #GP(selector).
    private func longModeCodeOffset(_ offset: UInt64, bytes: Int, cache: SegmentCache, selector: UInt16) throws -> UInt64 {
        guard !(cache.isLong && cache.isBig) else { throw SegmentFault.generalProtection(UInt32(selector) & 0xFFFC) }
        let sized = bytes == 2 ? offset & 0xFFFF : (bytes == 4 ? offset & 0xFFFF_FFFF : offset)
        if cache.isLong {
            guard CanonicalAddress.isCanonical(sized) else { throw SegmentFault.generalProtection(0) }
            return sized
        }
        let compatible = sized & 0xFFFF_FFFF
        guard compatible <= UInt64(cache.limit) else { throw SegmentFault.generalProtection(0) }
        return compatible
    }

    private struct CallGate64 {
        let target: SegmentDescriptor
        let targetAddress: LinearAddress
        let targetCode: UInt32
        let offset: UInt64
    }

    /// A 16-byte call gate's checks and its target's: the gate's DPL against
    /// CPL and RPL, both halves in the table, the upper half's type 0, and a
    /// present 64-bit code segment (L set, D clear) at a canonical offset.
    private func callGate64(_ gate: SegmentDescriptor, at address: LinearAddress, selector: UInt16,
                            privilege cpl: UInt32) throws -> CallGate64 {
        let code = UInt32(selector) & 0xFFFC
        guard gate.dpl >= cpl, gate.dpl >= UInt32(selector) & 3 else { throw SegmentFault.generalProtection(code) }
        let table = selector & 4 != 0 ? state.pointee.ldtr.limit : state.pointee.gdtLimit
        guard UInt32(selector) & 0xFFF8 + 15 <= table else { throw SegmentFault.generalProtection(code) }
        let upper = try systemLoad64(address &+ 8)
        guard (upper >> 40) & 0x1F == 0 else { throw SegmentFault.generalProtection(code) }
        guard gate.isPresent else { throw SegmentFault.notPresent(code) }
        let targetCode = UInt32(gate.gateSelector) & 0xFFFC
        guard targetCode != 0 || gate.gateSelector & 4 != 0 else { throw SegmentFault.generalProtection(0) }
        let (target, targetAddress) = try descriptor(gate.gateSelector)
        guard target.isCode, target.dpl <= cpl, target.high & SegmentCache.long != 0, target.high & SegmentCache.big == 0 else {
            throw SegmentFault.generalProtection(targetCode)
        }
        guard target.isPresent else { throw SegmentFault.notPresent(targetCode) }
        let offset = (upper & 0xFFFF_FFFF) << 32 | UInt64(gate.gateOffset)
        guard CanonicalAddress.isCanonical(offset) else { throw SegmentFault.generalProtection(0) }
        return CallGate64(target: target, targetAddress: targetAddress, targetCode: targetCode, offset: offset)
    }

    /// Pushes `bytes`-wide values below `pointer` with 64-bit stack
    /// addressing (no base, canonical), accesses at `privilege`: returns the
    /// new RSP and changes no register.
    private func pushOnFlatStack(_ values: [UInt64], bytes: Int, from pointer: UInt64, privilege: UInt32) throws -> UInt64 {
        let mmuIndex = privilege == 3 ? SoftMMU.userIndex : SoftMMU.supervisorIndex
        var pointer = pointer
        for value in values {
            pointer &-= UInt64(bytes)
            guard CanonicalAddress.isCanonical(pointer) else { throw SegmentFault.stack(0) }
            mmu.store(pointer, value, bytes: bytes, mmu: mmuIndex)
            if state.pointee.pendingException >= 0 { throw AlreadyFaulted() }
        }
        return pointer
    }

    /// Pushes at the operand size on the current stack: RSP in 64-bit mode,
    /// SS:ESP or SS:SP in compatibility mode. Returns the new stack pointer.
    private func pushOnCurrentStack(_ values: [UInt64], bytes: Int) throws -> UInt64 {
        if HiddenFlags.isCode64(state.pointee.hiddenFlags) {
            return try pushOnFlatStack(values, bytes: bytes, from: register64(Register.esp.rawValue), privilege: currentPrivilege)
        }
        let mmuIndex = currentPrivilege == 3 ? SoftMMU.userIndex : SoftMMU.supervisorIndex
        let stack = segment(.ss)
        var pointer = register(Register.esp.rawValue)
        for value in values {
            pointer = stack.isBig ? pointer &- UInt32(bytes) : (pointer &- UInt32(bytes)) & 0xFFFF
            mmu.store(linear(stack.base, pointer), value, bytes: bytes, mmu: mmuIndex)
            if state.pointee.pendingException >= 0 { throw AlreadyFaulted() }
        }
        return UInt64(pointer)
    }

    private func setStackPointerAfterPush(_ pointer: UInt64) {
        if HiddenFlags.isCode64(state.pointee.hiddenFlags) {
            setRegister64(Register.esp.rawValue, pointer)
        } else {
            setRegister(Register.esp.rawValue, UInt32(truncatingIfNeeded: pointer), bytes: segment(.ss).isBig ? 4 : 2)
        }
    }
}

import X86State

/// RETF in long mode: the return address and CS are popped at the operand
/// size (REX.W: 8 bytes each), from RSP without a base in 64-bit mode, and
/// the offset is kept whole when the target is 64-bit code.
extension X86CPU {
    func longModeFarReturn(bytes: Int, release: UInt32) throws {
        let cpl = currentPrivilege
        let in64 = HiddenFlags.isCode64(state.pointee.hiddenFlags)
        let stack32 = segment(.ss).isBig
        let pointer = in64 ? register64(Register.esp.rawValue) : UInt64(register(Register.esp.rawValue))
        func stackAddress(_ offset: UInt64) -> LinearAddress {
            if in64 { return pointer &+ offset }
            let moved = UInt32(truncatingIfNeeded: pointer &+ offset)
            return linear(segment(.ss).base, stack32 ? moved : moved & 0xFFFF)
        }
        func pop(at offset: UInt64) throws -> UInt64 {
            bytes == 8 ? try systemLoad64(stackAddress(offset)) : UInt64(try systemLoad(stackAddress(offset), bytes: bytes))
        }
        let offset = try pop(at: 0)
        let selector = UInt16(truncatingIfNeeded: try pop(at: UInt64(bytes)))
        guard UInt32(selector) & 0xFFFC != 0 else { throw SegmentFault.generalProtection(0) }
        let (entry, address) = try descriptor(selector)
        let cache = try codeSegment(selector, entry: entry, privilege: cpl, forReturn: true)
        let rpl = UInt32(selector) & 3
        let consumed = UInt64(2 * bytes) &+ UInt64(release)
        if rpl > cpl {
            // To an outer level: its RSP and SS follow (a null SS is allowed for 64-bit code below ring 3).
            let newPointer = try pop(at: consumed) &+ UInt64(release)
            let newSS = UInt16(truncatingIfNeeded: try pop(at: consumed &+ UInt64(bytes)))
            try markAccessed(entry, at: address)
            setCodeSegment64(cache, rip: offset)
            if UInt32(newSS) & 0xFFFC == 0 && isSixtyFourBitCode(cache) && rpl != 3 {
                setSegment(.ss, SegmentCache(selector: UInt32(newSS), base: 0, limit: 0xFFFF_FFFF, flags: 0x9300 | rpl << 13))
            } else {
                try switchStack(selector: newSS, pointer: UInt32(truncatingIfNeeded: newPointer), privilege: rpl)
            }
            setRegister64(Register.esp.rawValue, isSixtyFourBitCode(cache) ? newPointer : newPointer & 0xFFFF_FFFF)
            invalidateDataSegmentsForOuterPrivilege()
            return
        }
        try markAccessed(entry, at: address)
        if in64 {
            setRegister64(Register.esp.rawValue, pointer &+ consumed)
        } else {
            setRegister(Register.esp.rawValue, UInt32(truncatingIfNeeded: pointer &+ consumed), bytes: stack32 ? 4 : 2)
        }
        setCodeSegment64(cache, rip: offset)
    }

    /// CS and the instruction pointer after a far transfer: RIP whole for
    /// 64-bit code, else cut to the segment's size.
    func setCodeSegment64(_ cache: SegmentCache, rip: UInt64) {
        setSegment(.cs, cache)
        state.pointee.eip = isSixtyFourBitCode(cache) ? rip : (cache.isBig ? rip & 0xFFFF_FFFF : rip & 0xFFFF)
        updateHiddenFlags()
    }
}

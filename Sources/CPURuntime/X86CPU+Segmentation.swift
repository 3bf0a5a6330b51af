import PCEmuSupport
import X86Frontend
import X86State

/// An exception already recorded in the state (a page fault on a descriptor
/// table, say): unwinds the operation without recording another.
struct AlreadyFaulted: Error {}

/// Protected-mode segmentation: descriptor tables, segment register loads
/// with their checks, and the far transfers through code segments and gates.
extension X86CPU {
    var currentPrivilege: UInt32 { state.pointee.hiddenFlags & HiddenFlags.cplMask }

    // MARK: system memory (descriptor tables, TSS): supervisor accesses

    func systemLoad(_ linear: LinearAddress, bytes: Int) throws -> UInt32 {
        let value = UInt32(truncatingIfNeeded: mmu.load(linear, bytes: bytes, mmu: 0))
        if state.pointee.pendingException >= 0 { throw AlreadyFaulted() }
        return value
    }

    func systemStore(_ linear: LinearAddress, _ value: UInt32, bytes: Int) throws {
        mmu.store(linear, UInt64(value), bytes: bytes, mmu: 0)
        if state.pointee.pendingException >= 0 { throw AlreadyFaulted() }
    }

    /// Records a segment fault as the pending exception.
    func raise(_ fault: Error) {
        if let fault = fault as? SegmentFault { raiseException(fault.vector, errorCode: fault.errorCode) }
    }

    // MARK: descriptors

    /// The descriptor a selector names, and the linear address it sits at.
    func descriptor(_ selector: UInt16, fault: (UInt32) -> SegmentFault = SegmentFault.generalProtection) throws -> (SegmentDescriptor, LinearAddress) {
        let index = UInt32(selector) & 0xFFF8
        let table: (base: LinearAddress, limit: UInt32)
        if selector & 4 != 0 {
            let ldt = state.pointee.ldtr
            guard ldt.selector & 0xFFFC != 0 else { throw fault(UInt32(selector) & 0xFFFC) }
            table = (ldt.base, ldt.limit)
        } else {
            table = (state.pointee.gdtBase, state.pointee.gdtLimit)
        }
        guard index + 7 <= table.limit else { throw fault(UInt32(selector) & 0xFFFC) }
        let address = systemLinear(table.base, index)
        return (SegmentDescriptor(low: try systemLoad(address, bytes: 4), high: try systemLoad(systemLinear(address, 4), bytes: 4)), address)
    }

    /// Sets the accessed bit of a code/data descriptor in memory.
    func markAccessed(_ descriptor: SegmentDescriptor, at address: LinearAddress) throws {
        if descriptor.high & SegmentCache.accessed == 0 {
            try systemStore(systemLinear(address, 4), descriptor.high | SegmentCache.accessed, bytes: 4)
        }
    }

    // MARK: data and stack segment loads

    /// MOV/POP/LDS… to a data segment register or SS, with every protected-mode check.
    func loadProtectedSegment(_ target: Segment, selector: UInt16) throws {
        let code = UInt32(selector) & 0xFFFC
        let cpl = currentPrivilege
        let rpl = UInt32(selector) & 3
        if code == 0 && selector & 4 == 0 {
            if target == .ss {
                // 64-bit mode allows a null SS below ring 3 (RPL = CPL): a
                // usable writable stack segment of that privilege, with no base.
                guard HiddenFlags.isCode64(state.pointee.hiddenFlags), cpl != 3, rpl == cpl else {
                    throw SegmentFault.generalProtection(0)
                }
                setSegment(.ss, SegmentCache(selector: UInt32(selector), base: 0, limit: 0xFFFF_FFFF, flags: 0x9300 | cpl << 13))
                return
            }
            // A null selector loads; using it faults.
            setSegment(target, SegmentCache(selector: UInt32(selector), base: 0, limit: 0, flags: 0))
            return
        }
        let (entry, address) = try descriptor(selector)
        if target == .ss {
            guard rpl == cpl, entry.isCodeOrData, !entry.isCode, entry.isReadableOrWritable, entry.dpl == cpl else {
                throw SegmentFault.generalProtection(code)
            }
            guard entry.isPresent else { throw SegmentFault.stack(code) }
        } else {
            guard entry.isCodeOrData, !entry.isCode || entry.isReadableOrWritable else { throw SegmentFault.generalProtection(code) }
            if !entry.isConforming {
                guard max(cpl, rpl) <= entry.dpl else { throw SegmentFault.generalProtection(code) }
            }
            guard entry.isPresent else { throw SegmentFault.notPresent(code) }
        }
        try markAccessed(entry, at: address)
        var cache = entry.cache
        cache.selector = UInt32(selector)
        cache.flags |= SegmentCache.accessed
        setSegment(target, cache)
    }

    // MARK: far transfers

    /// The checks a direct far JMP/CALL/RET to a code segment makes; returns the cache to load.
    func codeSegment(_ selector: UInt16, entry: SegmentDescriptor, privilege cpl: UInt32, forReturn: Bool = false) throws -> SegmentCache {
        let code = UInt32(selector) & 0xFFFC
        guard entry.isCode else { throw SegmentFault.generalProtection(code) }
        let rpl = UInt32(selector) & 3
        if forReturn {
            guard rpl >= cpl, entry.isConforming ? entry.dpl <= rpl : entry.dpl == rpl else {
                throw SegmentFault.generalProtection(code)
            }
        } else if entry.isConforming {
            guard entry.dpl <= cpl else { throw SegmentFault.generalProtection(code) }
        } else {
            guard rpl <= cpl, entry.dpl == cpl else { throw SegmentFault.generalProtection(code) }
        }
        guard entry.isPresent else { throw SegmentFault.notPresent(code) }
        var cache = entry.cache
        cache.flags |= SegmentCache.accessed
        cache.selector = (UInt32(selector) & 0xFFFC) | (forReturn ? rpl : cpl)
        return cache
    }

    /// A code segment with L set in long mode: no limit applies to it.
    func isSixtyFourBitCode(_ cache: SegmentCache) -> Bool { cache.isLong && longModeActive }

    func setCodeSegment(_ cache: SegmentCache, eip: UInt32) {
        setSegment(.cs, cache)
        // A 64-bit code segment (L set, D clear) in long mode takes the whole offset.
        let wide = cache.isBig || isSixtyFourBitCode(cache)
        state.pointee.eip = UInt64(wide ? eip : eip & 0xFFFF)
        updateHiddenFlags()
    }

    func protectedFarJump(selector: UInt16, offset: UInt32, bytes: Int) throws {
        let code = UInt32(selector) & 0xFFFC
        guard code != 0 || selector & 4 != 0 else { throw SegmentFault.generalProtection(0) }
        let (entry, address) = try descriptor(selector)
        let cpl = currentPrivilege
        if entry.isCodeOrData {
            let cache = try codeSegment(selector, entry: entry, privilege: cpl)
            guard offset <= cache.limit || isSixtyFourBitCode(cache) else { throw SegmentFault.generalProtection(0) }
            try markAccessed(entry, at: address)
            setCodeSegment(cache, eip: bytes == 2 ? offset & 0xFFFF : offset)
            return
        }
        switch entry.type {
        case SegmentDescriptor.SystemType.callGate16, SegmentDescriptor.SystemType.callGate32:
            // A jump through a gate never changes privilege.
            let (target, targetAddress, targetCode) = try callGateTarget(entry, selector: selector, privilege: cpl) {
                $0.isConforming ? $0.dpl <= cpl : $0.dpl == cpl
            }
            try markAccessed(target, at: targetAddress)
            var cache = target.cache
            cache.selector = targetCode | cpl
            setCodeSegment(cache, eip: entry.gateOffset)
        case SegmentDescriptor.SystemType.taskGate, SegmentDescriptor.SystemType.availableTSS16, SegmentDescriptor.SystemType.availableTSS32:
            try taskSwitch(through: selector, entry: entry, reason: .jump, returnAddress: UInt32(truncatingIfNeeded: state.pointee.eip))
        default:
            throw SegmentFault.generalProtection(code)
        }
    }

    /// A call gate's checks (its DPL against CPL and RPL, presence) and its
    /// target code segment's, with `allows` the transfer's privilege rule.
    private func callGateTarget(_ gate: SegmentDescriptor, selector: UInt16, privilege cpl: UInt32,
                                allows: (SegmentDescriptor) -> Bool) throws -> (SegmentDescriptor, LinearAddress, UInt32) {
        let code = UInt32(selector) & 0xFFFC
        guard gate.dpl >= cpl, gate.dpl >= UInt32(selector) & 3 else { throw SegmentFault.generalProtection(code) }
        guard gate.isPresent else { throw SegmentFault.notPresent(code) }
        let (target, targetAddress) = try descriptor(gate.gateSelector)
        let targetCode = UInt32(gate.gateSelector) & 0xFFFC
        guard target.isCode, allows(target) else { throw SegmentFault.generalProtection(targetCode) }
        guard target.isPresent else { throw SegmentFault.notPresent(targetCode) }
        return (target, targetAddress, targetCode)
    }

    func protectedFarCall(selector: UInt16, offset: UInt32, bytes: Int, returnAddress: UInt32) throws {
        let code = UInt32(selector) & 0xFFFC
        guard code != 0 || selector & 4 != 0 else { throw SegmentFault.generalProtection(0) }
        let (entry, address) = try descriptor(selector)
        let cpl = currentPrivilege
        let oldCS = segment(.cs).selector
        if entry.isCodeOrData {
            let cache = try codeSegment(selector, entry: entry, privilege: cpl)
            guard offset <= cache.limit || isSixtyFourBitCode(cache) else { throw SegmentFault.generalProtection(0) }
            try pushChecked([oldCS, returnAddress], bytes: bytes)
            try markAccessed(entry, at: address)
            setCodeSegment(cache, eip: bytes == 2 ? offset & 0xFFFF : offset)
            return
        }
        switch entry.type {
        case SegmentDescriptor.SystemType.callGate16, SegmentDescriptor.SystemType.callGate32:
            let (target, targetAddress, targetCode) = try callGateTarget(entry, selector: selector, privilege: cpl) {
                $0.dpl <= cpl
            }
            let gateBytes = entry.is32BitGate ? 4 : 2
            var cache = target.cache
            if !target.isConforming && target.dpl < cpl {
                // More privileged: switch to the inner stack from the TSS, copying parameters.
                let newPrivilege = target.dpl
                let (newSS, newESP) = try innerStack(privilege: newPrivilege)
                let oldSS = segment(.ss).selector
                let oldESP = register(Register.esp.rawValue)
                let oldStackBase = segment(.ss).base
                let oldStack32 = segment(.ss).isBig
                var parameters: [UInt32] = []
                for index in 0..<entry.gateParameterCount {
                    let offsetInStack = oldESP &+ index * UInt32(gateBytes)
                    parameters.append(try systemLoad(linear(oldStackBase, oldStack32 ? offsetInStack : offsetInStack & 0xFFFF), bytes: gateBytes))
                }
                try switchStack(selector: newSS, pointer: newESP, privilege: newPrivilege)
                try pushChecked([oldSS, oldESP] + parameters.reversed() + [oldCS, returnAddress], bytes: gateBytes)
                cache.selector = targetCode | newPrivilege
            } else {
                try pushChecked([oldCS, returnAddress], bytes: gateBytes)
                cache.selector = targetCode | cpl
            }
            try markAccessed(target, at: targetAddress)
            cache.flags |= SegmentCache.accessed
            setCodeSegment(cache, eip: entry.gateOffset)
        case SegmentDescriptor.SystemType.taskGate, SegmentDescriptor.SystemType.availableTSS16, SegmentDescriptor.SystemType.availableTSS32:
            try taskSwitch(through: selector, entry: entry, reason: .call, returnAddress: returnAddress)
        default:
            throw SegmentFault.generalProtection(code)
        }
    }

    func protectedFarReturn(bytes: Int, release: UInt32) throws {
        if longModeActive { return try longModeFarReturn(bytes: bytes, release: release) }
        let cpl = currentPrivilege
        let stackBase = segment(.ss).base
        let stack32 = segment(.ss).isBig
        let pointer = register(Register.esp.rawValue)
        func stackAddress(_ offset: UInt32) -> LinearAddress { linear(stackBase, stack32 ? pointer &+ offset : (pointer &+ offset) & 0xFFFF) }
        let offset = try systemLoad(stackAddress(0), bytes: bytes)
        let selector = UInt16(truncatingIfNeeded: try systemLoad(stackAddress(UInt32(bytes)), bytes: bytes))
        guard UInt32(selector) & 0xFFFC != 0 else { throw SegmentFault.generalProtection(0) }
        let (entry, address) = try descriptor(selector)
        let cache = try codeSegment(selector, entry: entry, privilege: cpl, forReturn: true)
        let rpl = UInt32(selector) & 3
        let consumed = UInt32(2 * bytes) &+ release
        if rpl > cpl {
            let newESP = try systemLoad(stackAddress(consumed), bytes: bytes)
            let newSS = UInt16(truncatingIfNeeded: try systemLoad(stackAddress(consumed &+ UInt32(bytes)), bytes: bytes))
            try markAccessed(entry, at: address)
            setCodeSegment(cache, eip: offset)
            try switchStack(selector: newSS, pointer: newESP &+ release, privilege: rpl)
            invalidateDataSegmentsForOuterPrivilege()
            return
        }
        try markAccessed(entry, at: address)
        setRegister(Register.esp.rawValue, pointer &+ consumed, bytes: stack32 ? 4 : 2)
        setCodeSegment(cache, eip: offset)
    }

    /// On a return to an outer privilege, data segments the new level may not use become null.
    func invalidateDataSegmentsForOuterPrivilege() {
        let cpl = currentPrivilege
        for target in [Segment.es, .ds, .fs, .gs] {
            let cache = segment(target)
            let isConformingCode = cache.flags & SegmentCache.code != 0 && cache.flags & SegmentCache.conforming != 0
            if !isConformingCode && cache.dpl < cpl {
                setSegment(target, SegmentCache(selector: 0, base: 0, limit: 0, flags: 0))
            }
        }
    }

    // MARK: stacks

    /// SS:ESP for an inner privilege level, from the current TSS.
    func innerStack(privilege: UInt32) throws -> (UInt16, UInt32) {
        let tss = state.pointee.taskRegister
        let is32 = (tss.flags >> 8) & 0x8 != 0
        let entrySize: UInt32 = is32 ? 8 : 4
        let offset = (is32 ? 4 : 2) + privilege * entrySize
        guard offset + entrySize - 1 <= tss.limit else { throw SegmentFault.invalidTSS(tss.selector & 0xFFFC) }
        let pointer = try systemLoad(linear(tss.base, offset), bytes: is32 ? 4 : 2)
        let selector = try systemLoad(linear(tss.base, offset &+ (is32 ? 4 : 2)), bytes: 2)
        return (UInt16(truncatingIfNeeded: selector), pointer)
    }

    /// Loads SS:ESP for code running at `privilege`, with the stack-segment checks.
    func switchStack(selector: UInt16, pointer: UInt32, privilege: UInt32) throws {
        let code = UInt32(selector) & 0xFFFC
        guard code != 0 else { throw SegmentFault.invalidTSS(0) }
        let (entry, address) = try descriptor(selector, fault: SegmentFault.invalidTSS)
        guard UInt32(selector) & 3 == privilege, entry.dpl == privilege, entry.isCodeOrData, !entry.isCode,
              entry.isReadableOrWritable else { throw SegmentFault.invalidTSS(code) }
        guard entry.isPresent else { throw SegmentFault.stack(code) }
        try markAccessed(entry, at: address)
        var cache = entry.cache
        cache.selector = UInt32(selector)
        setSegment(.ss, cache)
        setRegister(Register.esp.rawValue, pointer, bytes: cache.isBig ? 4 : 2)
        updateHiddenFlags()
    }

    /// Pushes values in order on the current stack, all or nothing.
    func pushChecked(_ values: [UInt32], bytes: Int) throws {
        let stack32 = segment(.ss).isBig
        let base = segment(.ss).base
        var pointer = register(Register.esp.rawValue)
        for value in values {
            pointer = stack32 ? pointer &- UInt32(bytes) : (pointer &- UInt32(bytes)) & 0xFFFF
            try systemStore(linear(base, pointer), value, bytes: bytes)
        }
        setRegister(Register.esp.rawValue, pointer, bytes: stack32 ? 4 : 2)
    }

    // MARK: data accesses

    /// A protected-mode access through a segment that is not flat: #GP(0)
    /// (#SS(0) for SS) when the segment is null or not present, the access
    /// reads an execute-only code segment or writes anything but a writable
    /// data segment, or a byte lies outside the limit (above it for
    /// expand-up, at or below it for expand-down, up to 64 KiB or 4 GiB by B).
    func checkSegmentAccess(_ target: Segment, access: SegmentAccess, offset: UInt32, bytes: UInt32) {
        let cache = segment(target)
        let fault = target == .ss ? SegmentFault.stack(0) : SegmentFault.generalProtection(0)
        let isCode = cache.flags & SegmentCache.code != 0
        guard cache.flags & SegmentCache.present != 0, cache.flags & SegmentCache.codeOrData != 0 else { return raise(fault) }
        switch access {
        case .read:
            if isCode && cache.flags & SegmentCache.readable == 0 { return raise(fault) }
        case .write, .writeType:
            if isCode || cache.flags & SegmentCache.writable == 0 { return raise(fault) }
        }
        guard access != .writeType else { return }
        let first = UInt64(offset), last = UInt64(offset) + UInt64(max(bytes, 1)) - 1
        if !isCode && cache.flags & SegmentCache.expandDown != 0 {
            let upper: UInt64 = cache.isBig ? 0xFFFF_FFFF : 0xFFFF
            if first <= UInt64(cache.limit) || last > upper { raise(fault) }
        } else if last > UInt64(cache.limit) {
            raise(fault)
        }
    }
}

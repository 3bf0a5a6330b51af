import PCEmuSupport
import X86Frontend
import X86State

/// Hardware task switches through a TSS or task gate (JMP, CALL, interrupts,
/// IRET with NT), with 32-bit and 16-bit TSS layouts.
extension X86CPU {
    enum TaskSwitchReason { case jump, call, interrupt, interruptReturn }

    /// Offsets of the dynamic fields in a 32-bit (and 16-bit) TSS.
    private struct TSSLayout {
        let is32: Bool
        var fieldBytes: Int { is32 ? 4 : 2 }
        var cr3: UInt32? { is32 ? 28 : nil }
        var eip: UInt32 { is32 ? 32 : 14 }
        var eflags: UInt32 { is32 ? 36 : 16 }
        func register(_ number: Int) -> UInt32 { (is32 ? 40 : 18) + UInt32(number * fieldBytes) }
        func segment(_ target: Segment) -> UInt32 { (is32 ? 72 : 34) + UInt32(target.rawValue) * (is32 ? 4 : 2) }
        var ldt: UInt32 { is32 ? 96 : 42 }
        var minimumLimit: UInt32 { is32 ? 0x67 : 0x2B }
    }

    func taskSwitch(through selector: UInt16, entry: SegmentDescriptor?, reason: TaskSwitchReason, returnAddress: UInt32) throws {
        var tssSelector = selector
        var descriptorEntry = try entry ?? descriptor(selector).0
        if descriptorEntry.type == SegmentDescriptor.SystemType.taskGate {
            tssSelector = descriptorEntry.gateSelector
            guard tssSelector & 4 == 0 else { throw SegmentFault.generalProtection(UInt32(tssSelector) & 0xFFFC) }
            descriptorEntry = try descriptor(tssSelector).0
        }
        let code = UInt32(tssSelector) & 0xFFFC
        let wantedBusy = reason == .interruptReturn
        let type = descriptorEntry.type
        let isTSS = type == SegmentDescriptor.SystemType.availableTSS32 || type == SegmentDescriptor.SystemType.availableTSS16
            || type == SegmentDescriptor.SystemType.busyTSS32 || type == SegmentDescriptor.SystemType.busyTSS16
        guard tssSelector & 4 == 0, isTSS, (type & 2 != 0) == wantedBusy else { throw SegmentFault.generalProtection(code) }
        guard descriptorEntry.isPresent else { throw SegmentFault.notPresent(code) }
        let newLayout = TSSLayout(is32: type & 8 != 0)
        guard descriptorEntry.limit >= newLayout.minimumLimit else { throw SegmentFault.invalidTSS(code) }
        Log.write(.pcall, "task switch to TSS \(String(tssSelector, radix: 16)) (\(reason))")

        // Save the outgoing task.
        let old = state.pointee.taskRegister
        let oldLayout = TSSLayout(is32: (old.flags >> 8) & 8 != 0)
        var flags = LazyFlagsEvaluation.fullFlags(state)
        if reason == .jump || reason == .interruptReturn { flags &= ~EFLAGS.nestedTask }
        try systemStore(linear(old.base, oldLayout.eip), returnAddress, bytes: oldLayout.fieldBytes)
        try systemStore(linear(old.base, oldLayout.eflags), flags, bytes: oldLayout.fieldBytes)
        for number in 0..<8 { try systemStore(linear(old.base, oldLayout.register(number)), register(number), bytes: oldLayout.fieldBytes) }
        for target in Segment.allCases { try systemStore(linear(old.base, oldLayout.segment(target)), segment(target).selector, bytes: 2) }
        if reason == .jump || reason == .interruptReturn { try setBusy(old.selector, false) }

        // Load the incoming one.
        let base = LinearAddress(descriptorEntry.base)
        if reason == .call || reason == .interrupt { try systemStore(base, old.selector, bytes: 2) }
        if reason != .interruptReturn { try setBusy(UInt32(tssSelector), true) }
        var newTR = descriptorEntry.cache
        newTR.selector = UInt32(tssSelector)
        newTR.flags |= 2 << 8  // busy
        state.pointee.taskRegister = newTR
        state.pointee.cr0 |= ControlRegister.taskSwitched

        let eip = try systemLoad(linear(base, newLayout.eip), bytes: newLayout.fieldBytes)
        var newFlags = try systemLoad(linear(base, newLayout.eflags), bytes: newLayout.fieldBytes)
        if !newLayout.is32 { newFlags = (flags & 0xFFFF_0000 & ~EFLAGS.virtual8086) | newFlags }
        if reason == .call || reason == .interrupt { newFlags |= EFLAGS.nestedTask }
        var registers: [UInt32] = []
        for number in 0..<8 { registers.append(try systemLoad(linear(base, newLayout.register(number)), bytes: newLayout.fieldBytes)) }
        var selectors: [UInt16] = []
        for target in Segment.allCases { selectors.append(UInt16(truncatingIfNeeded: try systemLoad(linear(base, newLayout.segment(target)), bytes: 2))) }
        let ldtSelector = UInt16(truncatingIfNeeded: try systemLoad(linear(base, newLayout.ldt), bytes: 2))
        if let cr3Offset = newLayout.cr3, state.pointee.cr0 & ControlRegister.paging != 0 {
            let old = state.pointee.cr3
            state.pointee.cr3 = UInt64(try systemLoad(linear(base, cr3Offset), bytes: 4))
            translationChanged(register: 3, from: old, to: state.pointee.cr3)
        }
        for (number, value) in registers.enumerated() { setRegister(number, value, bytes: newLayout.fieldBytes) }
        LazyFlagsEvaluation.setFullFlags(state, newFlags, writable: ~0)
        state.pointee.eip = UInt64(eip)

        // Segments: faults from here on are reported in the new task.
        try loadLDT(ldtSelector, fault: SegmentFault.invalidTSS)
        if newFlags & EFLAGS.virtual8086 != 0 {
            for target in Segment.allCases { setSegment(target, .realMode(selector: selectors[target.rawValue], code: target == .cs)) }
            updateHiddenFlags()
            return
        }
        let codeSelector = selectors[Segment.cs.rawValue]
        let (codeEntry, _) = try descriptor(codeSelector, fault: SegmentFault.invalidTSS)
        guard codeEntry.isCode else { throw SegmentFault.invalidTSS(UInt32(codeSelector) & 0xFFFC) }
        guard codeEntry.isPresent else { throw SegmentFault.notPresent(UInt32(codeSelector) & 0xFFFC) }
        var codeCache = codeEntry.cache
        codeCache.selector = UInt32(codeSelector)
        setSegment(.cs, codeCache)
        state.pointee.hiddenFlags = (state.pointee.hiddenFlags & ~HiddenFlags.cplMask) | (UInt32(codeSelector) & 3)
        for target in [Segment.ss, .ds, .es, .fs, .gs] {
            do {
                try loadProtectedSegment(target, selector: selectors[target.rawValue])
            } catch let fault as SegmentFault {
                throw SegmentFault.invalidTSS(fault.errorCode)
            }
        }
        updateHiddenFlags()
    }

    /// IRET with NT set: back to the task in the back link.
    func returnFromNestedTask() throws {
        let link = UInt16(truncatingIfNeeded: try systemLoad(state.pointee.taskRegister.base, bytes: 2))
        try taskSwitch(through: link, entry: nil, reason: .interruptReturn,
                       returnAddress: UInt32(truncatingIfNeeded: state.pointee.eip))
    }

    private func setBusy(_ selector: UInt32, _ busy: Bool) throws {
        let address = systemLinear(state.pointee.gdtBase, selector & 0xFFF8)
        let high = try systemLoad(systemLinear(address, 4), bytes: 4)
        try systemStore(systemLinear(address, 4), busy ? high | (2 << 8) : high & ~(2 << 8), bytes: 4)
    }

    /// LLDT and task switches: a null selector disables the LDT.
    func loadLDT(_ selector: UInt16, fault: (UInt32) -> SegmentFault = SegmentFault.generalProtection) throws {
        let code = UInt32(selector) & 0xFFFC
        if code == 0 {
            state.pointee.ldtr = SegmentCache(selector: 0, base: 0, limit: 0, flags: 0)
            return
        }
        guard selector & 4 == 0 else { throw fault(code) }
        let (entry, _) = try descriptor(selector, fault: fault)
        guard !entry.isCodeOrData, entry.type == SegmentDescriptor.SystemType.ldt else { throw fault(code) }
        guard entry.isPresent else { throw SegmentFault.notPresent(code) }
        var cache = entry.cache
        cache.selector = UInt32(selector)
        state.pointee.ldtr = cache
    }
}

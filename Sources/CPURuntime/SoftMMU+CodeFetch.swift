import Memory
import X86Frontend
import X86State

/// Instruction fetch: the translator's code bytes and the physical PC blocks
/// are keyed on, both translated with execute access at the current CPL.
/// Fetch faults are recorded, not raised: the translator only stops reading,
/// and the runtime raises the fault when the block's first instruction could
/// not be read (`raiseCodeFault`).
extension SoftMMU {
    /// The MMU index of the current privilege level.
    @inline(__always)
    var currentIndex: Int {
        cpu.state.pointee.hiddenFlags & HiddenFlags.cplMask == 3 ? SoftMMU.userIndex : SoftMMU.supervisorIndex
    }

    /// The physical address of an instruction fetch, for block lookup: the
    /// code TLB, else a walk (which fills the TLB and raises nothing). When the
    /// fetch would fault or finds nothing it returns ~linear: its page offset
    /// differs from linear's, so it matches no translated block (their keys
    /// always share the offset), and translating then reports the fault.
    @inline(__always)
    func physical(_ linear: LinearAddress) -> PhysicalAddress {
        guard cpu.state.pointee.cr0 & ControlRegister.paging != 0 else { return linear & cpu.state.pointee.a20Mask }
        let slot = entry(linear, mmu: currentIndex)
        if slot.pointee.allows(.execute, page: linear & SoftMMU.pageMask) {
            return slot.pointee.physicalPage | (linear & 0xFFF)
        }
        return slowFetchPhysical(linear)
    }

    @inline(never)
    func slowFetchPhysical(_ linear: LinearAddress) -> PhysicalAddress {
        guard let physical = fetchTranslation(linear), physical < AddressSpace.physicalLimit else { return ~linear }
        return physical
    }

    /// Execute-access translation through the code TLB; a fault is recorded in `codeFault`.
    func fetchTranslation(_ linear: LinearAddress) -> PhysicalAddress? {
        let mmu = currentIndex
        let slot = entry(linear, mmu: mmu)
        if slot.pointee.allows(.execute, page: linear & SoftMMU.pageMask)
            || swapInVictim(linear, access: .execute, slot: slot, mmu: mmu) {
            return slot.pointee.physicalPage | (linear & 0xFFF)
        }
        guard CanonicalAddress.isCanonical(linear) else {
            codeFault = (linear, SoftMMU.nonCanonicalFault)
            return nil
        }
        switch walker.translate(linear, access: .execute, privilege: SoftMMU.privilege(mmu: mmu)) {
        case let .fault(errorCode):
            codeFault = (linear, errorCode)
            return nil
        case let .mapped(translation):
            fill(linear: linear, translation, mmu: mmu)
            return translation.physical
        }
    }

    /// Reads code bytes for the translator, a page at a time; stops at the
    /// first byte that faults (recorded for `raiseCodeFault`) or is not RAM or ROM.
    func readCode(linear: LinearAddress, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        codeFault = nil
        var index = 0
        while index < buffer.count {
            let address = cpu.addressSize.mask(linear &+ LinearAddress(index))
            guard let physical = fetchTranslation(address), let host = addressSpace.hostPointer(at: physical) else { return index }
            let chunk = min(buffer.count - index, 4096 - Int(address & 0xFFF))
            (buffer.baseAddress! + index).copyMemory(from: host, byteCount: chunk)
            index += chunk
        }
        return buffer.count
    }

    /// Raises the page fault that stopped the last `readCode`, if one did.
    func raiseCodeFault() -> Bool {
        guard let fault = codeFault else { return false }
        codeFault = nil
        if fault.errorCode == SoftMMU.nonCanonicalFault {
            cpu.raiseException(ExceptionVector.generalProtection, errorCode: 0)
            return true
        }
        pageFault(at: fault.linear, errorCode: fault.errorCode)
        return true
    }
}

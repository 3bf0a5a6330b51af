import X86State

/// The victim entries behind each mode's direct-mapped TLB
/// (`CPUStateBlock.victimEntries`). A refill keeps the entry it replaces as
/// a victim; a miss finds it there and swaps it back, with no page walk. A
/// page is in at most one place: the entry or one victim.
extension SoftMMU {
    /// The page an entry maps, or nil when it maps nothing.
    @inline(__always)
    static func page(of entry: TLBEntry) -> LinearAddress? {
        entry.readTag & TLBEntry.invalid != 0 ? nil : entry.readTag & SoftMMU.pageMask
    }

    /// Before `slot` is refilled for `page`: what it holds for another page
    /// becomes the mode's newest victim, and a victim for `page` itself goes
    /// (the refill supersedes it).
    @inline(__always)
    func retire(_ slot: UnsafeMutablePointer<TLBEntry>, for page: LinearAddress, mmu: Int) {
        dropVictims(of: page, mmu: mmu)
        guard let held = SoftMMU.page(of: slot.pointee), held != page else { return }
        stateBlock.victims(mmu: mmu)[victimCursor] = slot.pointee
        victimCursor = (victimCursor + 1) & (CPUStateBlock.victimEntries - 1)
    }

    /// On a miss in `slot`: when a victim maps `linear`'s page for `access`,
    /// it and the entry swap places. True when it did.
    @inline(__always)
    func swapInVictim(_ linear: LinearAddress, access: PageAccess, slot: UnsafeMutablePointer<TLBEntry>, mmu: Int) -> Bool {
        let page = linear & SoftMMU.pageMask
        let victims = stateBlock.victims(mmu: mmu)
        for index in 0..<CPUStateBlock.victimEntries where victims[index].allows(access, page: page) {
            stateBlock.willFill(slot)
            swap(&slot.pointee, &victims[index])
            return true
        }
        return false
    }

    /// INVLPG's part: drops the victims of `linear`'s page in both modes.
    func flushVictims(page linear: LinearAddress) {
        for mmu in 0..<CPUStateBlock.mmuModes { dropVictims(of: linear & SoftMMU.pageMask, mmu: mmu) }
    }

    @inline(__always)
    private func dropVictims(of page: LinearAddress, mmu: Int) {
        let victims = stateBlock.victims(mmu: mmu)
        for index in 0..<CPUStateBlock.victimEntries where SoftMMU.page(of: victims[index]) == page {
            victims[index] = TLBEntry()
        }
    }
}

extension TLBEntry {
    /// The entry maps `page` and grants `access` (possibly through the slow path).
    @inline(__always)
    func allows(_ access: PageAccess, page: LinearAddress) -> Bool {
        let tag: LinearAddress
        switch access {
        case .read: tag = readTag
        case .write: tag = writeTag
        case .execute: tag = codeTag
        }
        return tag & (SoftMMU.pageMask | TLBEntry.invalid) == page
    }
}

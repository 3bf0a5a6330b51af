import X86State

/// TLB invalidation. The CPU must call these when what a translation depends on changes:
/// - MOV to CR0, CR3 or CR4: `controlRegisterWritten(_:from:to:)` after the write
///   (it applies the rules below);
/// - INVLPG: `flush(page:)` with the linear address;
/// - anything else that remaps (A20, a task switch's CR3 load): `flushAll()` or the CR3 rule.
/// What a control-register write dropped from the TLB.
enum TLBFlush { case none, nonGlobal, all }

extension SoftMMU {
    /// Drops every entry of both MMU modes; with `keepingGlobal`, global ones
    /// (G with CR4.PGE) stay, as a CR3 write leaves them.
    func flushAll(keepingGlobal: Bool = false) {
        guard keepingGlobal else {
            stateBlock.flushTLB()
            largeRegions.clear()
            hugePageCached = false
            return
        }
        stateBlock.flushNonGlobalTLB()
    }

    /// INVLPG: drops the page's entries in both modes, global or not, and every
    /// entry cached from a large page containing it (a 4 MiB or 2 MiB page is
    /// cached as 4 KiB pieces in other slots; 4 MiB alignment covers both sizes).
    func flush(page linear: LinearAddress) {
        // A 1 GiB page is cached in pieces spread over more regions than
        // `largeRegions` tells apart: drop everything.
        if hugePageCached {
            flushAll()
            return
        }
        for mmu in 0..<CPUStateBlock.mmuModes {
            let slot = entry(linear, mmu: mmu)
            if SoftMMU.page(of: slot.pointee) == linear & SoftMMU.pageMask { slot.pointee = TLBEntry() }
        }
        flushVictims(page: linear)
        // Most INVLPGs name small pages where no large page was ever cached.
        guard largeRegions.contains(linear) else { return }
        let region = linear & ~0x3F_FFFF
        stateBlock.forEachFilled { entry in
            let tag = entry.pointee.readTag
            if entry.pointee.flags & TLBEntry.largePage != 0, tag & TLBEntry.invalid == 0, tag & ~0x3F_FFFF == region {
                entry.pointee = TLBEntry()
            }
        }
    }

    /// The TLB side of MOV to CRn (call after the new value is stored): CR3
    /// drops non-global entries (even when rewritten with the same value); a
    /// change of CR0.PG, CR0.WP or CR0.PE, or of CR4.PSE, CR4.PAE or CR4.PGE,
    /// drops everything (the write tags depend on WP).
    /// Returns what it dropped.
    @discardableResult
    func controlRegisterWritten(_ number: Int, from old: UInt64, to new: UInt64) -> TLBFlush {
        switch number {
        case 0:
            let bits = ControlRegister.paging | ControlRegister.writeProtect | ControlRegister.protectionEnable
            if (old ^ new) & bits != 0 { flushAll(); return .all }
        case 3:
            flushAll(keepingGlobal: true)
            return .nonGlobal
        case 4:
            let bits = ControlRegister.cr4PSE | ControlRegister.cr4PAE | ControlRegister.cr4PGE
            if (old ^ new) & bits != 0 { flushAll(); return .all }
        default:
            break
        }
        return .none
    }

    /// How the code at `linear` is mapped: through a global TLB entry (or
    /// without paging: a CR3 write keeps its translation), through a large
    /// page (an INVLPG anywhere in it drops it). Not in the TLB: neither,
    /// except that a missing entry counts as possibly large.
    func codeMapping(_ linear: LinearAddress) -> (global: Bool, large: Bool) {
        guard cpu.state.pointee.cr0 & ControlRegister.paging != 0 else { return (true, false) }
        let slot = entry(linear, mmu: currentIndex)
        guard slot.pointee.allows(.execute, page: linear & SoftMMU.pageMask) else {
            return (false, true)
        }
        return (slot.pointee.flags & TLBEntry.global != 0, slot.pointee.flags & TLBEntry.largePage != 0)
    }

    /// A page now holds translated code: every entry mapping it loses its
    /// fast write path (the slow path drops the page's blocks on a write).
    func protectCode(physicalPage page: UInt64) {
        stateBlock.forEachFilled { entry in
            let tag = entry.pointee.writeTag
            if tag & (TLBEntry.invalid | TLBEntry.slowPath) == 0, entry.pointee.physicalPage >> 12 == page {
                entry.pointee.writeTag = tag | TLBEntry.codePage
            }
        }
    }

    /// The page's blocks are gone: entries mapping it write directly again.
    func unprotectCode(physicalPage page: UInt64) {
        stateBlock.forEachFilled { entry in
            let tag = entry.pointee.writeTag
            if tag & TLBEntry.codePage != 0, entry.pointee.physicalPage >> 12 == page {
                entry.pointee.writeTag = tag & ~TLBEntry.codePage
            }
        }
    }
}

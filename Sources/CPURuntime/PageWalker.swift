import Memory
import Synchronization
import X86State

/// What a linear-address access is for.
enum PageAccess {
    case read, write, execute
}

/// Who makes an access. CPL < 3 is supervisor, CPL 3 user; the CPU's own
/// accesses to the GDT, LDT, IDT and TSS are implicit supervisor accesses
/// whatever the CPL. Without SMAP (this CPU has none) an implicit supervisor
/// access is checked like a supervisor one, and its fault's U/S bit is 0.
enum PagePrivilege {
    case supervisor, user, implicitSupervisor

    var isUser: Bool { self == .user }
}

/// A successful translation: the physical address (A20 applied; above 4 GiB
/// only through PAE, 4-level paging or PSE-36, where the RAM above the PCI
/// hole is) and the rights combined over every level that controlled it.
struct PageTranslation {
    var physical: PhysicalAddress
    /// R/W was 1 at every level.
    var writable: Bool
    /// U/S was 1 at every level.
    var user: Bool
    /// No level had XD set (with EFER.NXE; always true without it).
    var executable: Bool = true
    /// The leaf's D bit after the walk (always set after a write walk).
    var dirty: Bool
    /// G in the leaf with CR4.PGE: a CR3 write keeps the TLB entry.
    var global: Bool
    /// Mapped by a 4 MiB, 2 MiB or 1 GiB page: INVLPG anywhere in it drops the entry.
    var large: Bool
    /// Mapped by a 1 GiB page (wider than `LargePageRegions` tracks).
    var huge: Bool = false

    /// Whether an access is allowed (SDM 4.6; no SMEP/SMAP). Reads need only
    /// U/S for user accesses; fetches also need no XD; writes also need R/W,
    /// which a supervisor ignores while CR0.WP is clear.
    @inline(__always)
    func allows(_ access: PageAccess, _ privilege: PagePrivilege, writeProtect: Bool) -> Bool {
        if privilege.isUser && !user { return false }
        if access == .execute { return executable }
        guard access == .write, !writable else { return true }
        return !privilege.isUser && !writeProtect
    }
}

enum PageWalkResult {
    case mapped(PageTranslation)
    /// A page fault: its error code (P, W/R, U/S, RSVD, I/D). CR2 is the linear address.
    case fault(errorCode: UInt32)
}

/// The page-table walk (SDM vol. 3, chapter 4): 32-bit paging with 4 KiB and
/// 4 MiB pages, PAE paging with 4 KiB and 2 MiB pages, and in long mode
/// (EFER.LMA) 4-level paging with 4 KiB, 2 MiB and 1 GiB pages. With
/// EFER.NXE, bit 63 of PAE and 4-level entries is XD. Sets A in each entry
/// it uses and D in the leaf on a write, with atomic ORs in guest RAM, only
/// once the access is known to be allowed. Entries outside RAM read as not
/// present.
///
/// MAXPHYADDR is 36: 4 MiB pages take physical bits 35:32 from PDE bits 16:13
/// (PSE-36), and PAE and 4-level entries reserve the bits from 36 up (PAE to
/// bit 62, 4-level to bit 51: bits 62:52 are ignored there). The PDPTEs are
/// read at every walk rather than loaded by MOV CR3, so a PDPTE with reserved
/// bits set faults here (#PF with RSVD) instead of at the CR3 write (#GP there).
struct PageWalker {
    let addressSpace: AddressSpace
    let cr0: UInt64
    let cr3: UInt64
    let cr4: UInt64
    let efer: UInt64
    let a20Mask: UInt64

    // Entry bits, the same in 32-bit, PAE and 4-level entries.
    static let present: UInt64 = 1 << 0
    static let writable: UInt64 = 1 << 1
    static let user: UInt64 = 1 << 2
    static let accessed: UInt64 = 1 << 5
    static let dirty: UInt64 = 1 << 6
    static let pageSize: UInt64 = 1 << 7
    static let global: UInt64 = 1 << 8
    static let executeDisable: UInt64 = 1 << 63

    // Page-fault error code bits.
    static let errorPresent: UInt32 = 1 << 0
    static let errorWrite: UInt32 = 1 << 1
    static let errorUser: UInt32 = 1 << 2
    static let errorReserved: UInt32 = 1 << 3
    /// I/D: an instruction fetch (reported with NXE under PAE or 4-level paging).
    static let errorFetch: UInt32 = 1 << 4

    /// MAXPHYADDR, as CPUID 0x80000008 declares it; the address space ends there too.
    static let physicalLimit: UInt64 = AddressSpace.physicalLimit
    /// The physical address bits of a PAE or 4-level entry (35:12).
    static let addressBits: UInt64 = (physicalLimit - 1) & ~0xFFF
    /// Bits above MAXPHYADDR, XD included.
    static let highReserved: UInt64 = ~(physicalLimit - 1)
    static let pdpteReserved: UInt64 = highReserved | 0x1E6
    /// A 2 MiB page's bits 20:13.
    static let largeLowReserved: UInt64 = 0x1F_E000
    /// A 1 GiB page's bits 29:13.
    static let hugeLowReserved: UInt64 = 0x3FFF_E000
    /// 4-level entries: bits 51:36 (and XD without NXE); 62:52 are ignored.
    static let longHighReserved: UInt64 = 0x000F_FFFF_FFFF_FFFF & ~(physicalLimit - 1)
    /// 4 MiB PDE bits 21:17: above the PSE-36 address bits.
    static let pse36Reserved: UInt64 = 0x3E_0000

    init(addressSpace: AddressSpace, state: UnsafePointer<CPUState>) {
        self.addressSpace = addressSpace
        cr0 = state.pointee.cr0
        cr3 = state.pointee.cr3
        cr4 = state.pointee.cr4
        efer = state.pointee.efer
        a20Mask = state.pointee.a20Mask
    }

    var pagingEnabled: Bool { cr0 & ControlRegister.paging != 0 }
    var writeProtect: Bool { cr0 & ControlRegister.writeProtect != 0 }
    var noExecute: Bool { efer & EFER.noExecuteEnable != 0 }
    var longMode: Bool { efer & EFER.longModeActive != 0 }

    /// The reserved bits above the address in a PAE (or, `long`, 4-level)
    /// entry that can have XD: XD is reserved without NXE.
    @inline(__always)
    func reservedHigh(long: Bool) -> UInt64 {
        let bits = long ? PageWalker.longHighReserved | PageWalker.executeDisable : PageWalker.highReserved
        return noExecute ? bits & ~PageWalker.executeDisable : bits
    }

    /// A20 applies to every physical address: page tables and the final one.
    @inline(__always)
    func masked(_ physical: PhysicalAddress) -> PhysicalAddress { physical & a20Mask }

    /// Without paging a linear address is physical: in the 32-bit modes it
    /// is below 4 GiB already (`AddressSize.bits32`).
    func translate(_ linear: LinearAddress, access: PageAccess, privilege: PagePrivilege) -> PageWalkResult {
        guard pagingEnabled else {
            return .mapped(PageTranslation(physical: masked(linear), writable: true, user: true,
                                           dirty: true, global: false, large: false))
        }
        var errorCode: UInt32 = access == .write ? PageWalker.errorWrite : 0
        if privilege.isUser { errorCode |= PageWalker.errorUser }
        if access == .execute && noExecute && cr4 & ControlRegister.cr4PAE != 0 { errorCode |= PageWalker.errorFetch }
        let leafAddress: UInt64, leafValue: UInt64
        var translation: PageTranslation
        let upper: UpperEntries
        switch walk(linear, errorCode: errorCode) {
        case let .fault(code): return .fault(errorCode: code)
        case let .leaf(address, value, found, entries): (leafAddress, leafValue, translation, upper) = (address, value, found, entries)
        }
        guard translation.allows(access, privilege, writeProtect: writeProtect) else {
            return .fault(errorCode: errorCode | PageWalker.errorPresent)
        }
        // A walk that faults leaves every accessed bit alone, as the 386 and Bochs do.
        upper.forEach { setBits(PageWalker.accessed, in: $1, at: $0) }
        let leafBits = PageWalker.accessed | (access == .write ? PageWalker.dirty : 0)
        setBits(leafBits, in: leafValue, at: leafAddress)
        translation.dirty = (leafValue | leafBits) & PageWalker.dirty != 0
        translation.global = leafValue & PageWalker.global != 0 && cr4 & ControlRegister.cr4PGE != 0
        return .mapped(translation)
    }

    /// Where `linear` is in physical memory as the tables say now, for the
    /// monitor and a debugger: no access check and no accessed or dirty bit
    /// set; nil where nothing is mapped.
    func peek(_ linear: LinearAddress) -> PhysicalAddress? {
        guard pagingEnabled else { return masked(linear) }
        guard case let .leaf(_, _, found, _) = walk(linear, errorCode: 0) else { return nil }
        return found.physical
    }

    private func walk(_ linear: LinearAddress, errorCode: UInt32) -> Walk {
        if cr4 & ControlRegister.cr4PAE == 0 { return walk32(linear, errorCode: errorCode) }
        return longMode ? walk4Level(linear, errorCode: errorCode) : walkPAE(linear, errorCode: errorCode)
    }

    /// The entries above the leaf that a walk went through (at most three),
    /// whose A bits a successful access sets: no allocation per walk.
    struct UpperEntries {
        private var entries: ((UInt64, UInt64), (UInt64, UInt64), (UInt64, UInt64)) = ((0, 0), (0, 0), (0, 0))
        private var count = 0

        mutating func append(_ address: UInt64, _ value: UInt64) {
            switch count {
            case 0: entries.0 = (address, value)
            case 1: entries.1 = (address, value)
            default: entries.2 = (address, value)
            }
            count = min(count + 1, 3)
        }

        func forEach(_ body: (UInt64, UInt64) -> Void) {
            if count > 0 { body(entries.0.0, entries.0.1) }
            if count > 1 { body(entries.1.0, entries.1.1) }
            if count > 2 { body(entries.2.0, entries.2.1) }
        }
    }

    /// Where the walk ended: the leaf entry (its address and value), the
    /// translation before the access check and the entries above it, or a fault.
    private enum Walk {
        case leaf(address: UInt64, value: UInt64, PageTranslation, upper: UpperEntries)
        case fault(UInt32)
    }

    /// 32-bit paging: CR3 → page directory (linear 31:22) → page table (21:12),
    /// or a 4 MiB page when CR4.PSE and the PDE's PS are set.
    private func walk32(_ linear: LinearAddress, errorCode: UInt32) -> Walk {
        let pdeAddress = masked((cr3 & 0xFFFF_F000) | ((linear >> 22) & 0x3FF) << 2)
        guard let pde = readEntry(pdeAddress, wide: false), pde & PageWalker.present != 0 else { return .fault(errorCode) }
        if pde & PageWalker.pageSize != 0 && cr4 & ControlRegister.cr4PSE != 0 {
            if pde & PageWalker.pse36Reserved != 0 { return .fault(errorCode | PageWalker.errorPresent | PageWalker.errorReserved) }
            let base = (pde & 0xFFC0_0000) | ((pde >> 13) & 0xF) << 32
            return .leaf(address: pdeAddress, value: pde,
                         translation(base | (linear & 0x3F_FFFF), pde, large: true), upper: UpperEntries())
        }
        let pteAddress = masked((pde & 0xFFFF_F000) | ((linear >> 10) & 0xFFC))
        guard let pte = readEntry(pteAddress, wide: false), pte & PageWalker.present != 0 else { return .fault(errorCode) }
        var result = translation((pte & 0xFFFF_F000) | (linear & 0xFFF), pte, large: false)
        combine(&result, with: pde)
        var upper = UpperEntries()
        upper.append(pdeAddress, pde)
        return .leaf(address: pteAddress, value: pte, result, upper: upper)
    }

    /// PAE paging: CR3 → PDPTE (linear 31:30) → page directory (29:21) → page
    /// table (20:12), or a 2 MiB page when the PDE's PS is set. PDPTEs have no
    /// R/W, U/S, XD or A bits.
    private func walkPAE(_ linear: LinearAddress, errorCode: UInt32) -> Walk {
        let pdpteAddress = masked((cr3 & 0xFFFF_FFE0) | ((linear >> 30) & 3) << 3)
        guard let pdpte = readEntry(pdpteAddress, wide: true), pdpte & PageWalker.present != 0 else { return .fault(errorCode) }
        if pdpte & PageWalker.pdpteReserved != 0 { return .fault(errorCode | PageWalker.errorPresent | PageWalker.errorReserved) }
        return walkDirectory(linear, table: pdpte, upper: UpperEntries(), errorCode: errorCode, long: false)
    }

    /// 4-level paging (long mode): CR3 → PML4E (linear 47:39) → PDPTE (38:30),
    /// or a 1 GiB page when its PS is set → page directory and table as in
    /// PAE. Every level has R/W, U/S, XD and A. A PML4E with PS set is reserved.
    private func walk4Level(_ linear: LinearAddress, errorCode: UInt32) -> Walk {
        let rsvd = errorCode | PageWalker.errorPresent | PageWalker.errorReserved
        let reserved = reservedHigh(long: true)
        let pml4eAddress = masked((cr3 & PageWalker.addressBits) | ((linear >> 39) & 0x1FF) << 3)
        guard let pml4e = readEntry(pml4eAddress, wide: true), pml4e & PageWalker.present != 0 else { return .fault(errorCode) }
        if pml4e & (reserved | PageWalker.pageSize) != 0 { return .fault(rsvd) }
        let pdpteAddress = masked((pml4e & PageWalker.addressBits) | ((linear >> 30) & 0x1FF) << 3)
        guard let pdpte = readEntry(pdpteAddress, wide: true), pdpte & PageWalker.present != 0 else { return .fault(errorCode) }
        var upper = UpperEntries()
        upper.append(pml4eAddress, pml4e)
        if pdpte & PageWalker.pageSize != 0 {
            if pdpte & (reserved | PageWalker.hugeLowReserved) != 0 { return .fault(rsvd) }
            var result = translation((pdpte & PageWalker.addressBits & ~0x3FFF_FFFF) | (linear & 0x3FFF_FFFF), pdpte, large: true)
            result.huge = true
            combine(&result, with: pml4e)
            return .leaf(address: pdpteAddress, value: pdpte, result, upper: upper)
        }
        if pdpte & reserved != 0 { return .fault(rsvd) }
        upper.append(pdpteAddress, pdpte)
        return walkDirectory(linear, table: pdpte, upper: upper, errorCode: errorCode, long: true)
    }

    /// The two levels PAE and 4-level paging share: the page directory named
    /// by `table` (linear 29:21), then a 2 MiB page or a page table (20:12).
    /// `upper` holds the entries above (whose rights `table` is among).
    private func walkDirectory(_ linear: LinearAddress, table: UInt64, upper above: UpperEntries,
                               errorCode: UInt32, long: Bool) -> Walk {
        let rsvd = errorCode | PageWalker.errorPresent | PageWalker.errorReserved
        let reserved = reservedHigh(long: long)
        var upper = above
        let pdeAddress = masked((table & PageWalker.addressBits) | ((linear >> 18) & 0xFF8))
        guard let pde = readEntry(pdeAddress, wide: true), pde & PageWalker.present != 0 else { return .fault(errorCode) }
        if pde & PageWalker.pageSize != 0 {
            if pde & (reserved | PageWalker.largeLowReserved) != 0 { return .fault(rsvd) }
            var result = translation((pde & PageWalker.addressBits & ~0x1F_FFFF) | (linear & 0x1F_FFFF), pde, large: true)
            upper.forEach { _, value in combine(&result, with: value) }
            return .leaf(address: pdeAddress, value: pde, result, upper: upper)
        }
        if pde & reserved != 0 { return .fault(rsvd) }
        let pteAddress = masked((pde & PageWalker.addressBits) | ((linear >> 9) & 0xFF8))
        guard let pte = readEntry(pteAddress, wide: true), pte & PageWalker.present != 0 else { return .fault(errorCode) }
        if pte & reserved != 0 { return .fault(rsvd) }
        var result = translation((pte & PageWalker.addressBits) | (linear & 0xFFF), pte, large: false)
        upper.append(pdeAddress, pde)
        upper.forEach { _, value in combine(&result, with: value) }
        return .leaf(address: pteAddress, value: pte, result, upper: upper)
    }

    @inline(__always)
    private func translation(_ physical: UInt64, _ leaf: UInt64, large: Bool) -> PageTranslation {
        PageTranslation(physical: masked(physical), writable: leaf & PageWalker.writable != 0,
                        user: leaf & PageWalker.user != 0, executable: !executeDisabled(leaf),
                        dirty: false, global: false, large: large)
    }

    /// XD counts only with NXE (it is a reserved bit otherwise, refused before here).
    @inline(__always)
    private func executeDisabled(_ entry: UInt64) -> Bool { noExecute && entry & PageWalker.executeDisable != 0 }

    /// Rights are the AND over levels (XD the OR). A legacy PAE PDPTE has no
    /// R/W, U/S or XD: it passes through `walkDirectory` as `table` only.
    @inline(__always)
    private func combine(_ translation: inout PageTranslation, with upper: UInt64) {
        translation.writable = translation.writable && upper & PageWalker.writable != 0
        translation.user = translation.user && upper & PageWalker.user != 0
        translation.executable = translation.executable && !executeDisabled(upper)
    }

    /// A paging-structure entry in guest RAM, or nil (read as not present)
    /// when the address is not RAM.
    private func readEntry(_ physical: UInt64, wide: Bool) -> UInt64? {
        guard let host = ramPointer(physical) else { return nil }
        return wide ? host.load(as: UInt64.self) : UInt64(host.load(as: UInt32.self))
    }

    /// Sets A (and D) in an entry with an atomic OR on its low dword (both bits
    /// live there in 32-bit and PAE entries), only when one is missing.
    private func setBits(_ bits: UInt64, in value: UInt64, at physical: UInt64) {
        guard value & bits != bits, let host = ramPointer(physical) else { return }
        let word = host.assumingMemoryBound(to: Atomic<UInt32>.self)
        word.pointee.bitwiseOr(UInt32(bits), ordering: .sequentiallyConsistent)
    }

    private func ramPointer(_ physical: PhysicalAddress) -> UnsafeMutableRawPointer? {
        guard addressSpace.backingKind(at: physical) == .ram else { return nil }
        return addressSpace.hostPointer(at: physical)
    }
}

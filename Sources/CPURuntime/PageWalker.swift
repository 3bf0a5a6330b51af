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
/// only through PAE or PSE-36, where the RAM above the PCI hole is) and the
/// rights combined over every level that controlled it.
struct PageTranslation {
    var physical: PhysicalAddress
    /// R/W was 1 at every level.
    var writable: Bool
    /// U/S was 1 at every level.
    var user: Bool
    /// The leaf's D bit after the walk (always set after a write walk).
    var dirty: Bool
    /// G in the leaf with CR4.PGE: a CR3 write keeps the TLB entry.
    var global: Bool
    /// Mapped by a 4 MiB or 2 MiB page: INVLPG anywhere in it drops the entry.
    var large: Bool

    /// Whether an access is allowed (SDM 4.6; no NX, no SMEP/SMAP). Reads and
    /// fetches need only U/S for user accesses; writes also need R/W, which a
    /// supervisor ignores while CR0.WP is clear.
    @inline(__always)
    func allows(_ access: PageAccess, _ privilege: PagePrivilege, writeProtect: Bool) -> Bool {
        if privilege.isUser && !user { return false }
        guard access == .write, !writable else { return true }
        return !privilege.isUser && !writeProtect
    }
}

enum PageWalkResult {
    case mapped(PageTranslation)
    /// A page fault: its error code (P, W/R, U/S, RSVD). CR2 is the linear address.
    case fault(errorCode: UInt32)
}

/// The page-table walk of an i686 with PSE, PAE and PGE (SDM vol. 3, chapter 4):
/// 32-bit paging with 4 KiB and 4 MiB pages, PAE paging with 4 KiB and 2 MiB
/// pages. Sets A in each entry it uses and D in the leaf on a write, with
/// atomic ORs in guest RAM. Entries outside RAM read as not present.
///
/// MAXPHYADDR is 36: 4 MiB pages take physical bits 35:32 from PDE bits 16:13
/// (PSE-36), and PAE reserves bits 63:36. The PDPTEs are read at every walk
/// rather than loaded by MOV CR3, so a PDPTE with reserved bits set faults here
/// (#PF with RSVD) instead of at the CR3 write (#GP there).
struct PageWalker {
    let addressSpace: AddressSpace
    let cr0: UInt64
    let cr3: UInt64
    let cr4: UInt64
    let a20Mask: UInt64

    // Entry bits, the same in 32-bit and PAE entries.
    static let present: UInt64 = 1 << 0
    static let writable: UInt64 = 1 << 1
    static let user: UInt64 = 1 << 2
    static let accessed: UInt64 = 1 << 5
    static let dirty: UInt64 = 1 << 6
    static let pageSize: UInt64 = 1 << 7
    static let global: UInt64 = 1 << 8

    // Page-fault error code bits.
    static let errorPresent: UInt32 = 1 << 0
    static let errorWrite: UInt32 = 1 << 1
    static let errorUser: UInt32 = 1 << 2
    static let errorReserved: UInt32 = 1 << 3

    /// MAXPHYADDR, as CPUID 0x80000008 declares it; the address space ends there too.
    static let physicalLimit: UInt64 = AddressSpace.physicalLimit
    /// Bits above MAXPHYADDR, XD (no NX here) included.
    static let highReserved: UInt64 = ~(physicalLimit - 1)
    static let pdpteReserved: UInt64 = highReserved | 0x1E6
    static let paeLargeReserved: UInt64 = highReserved | 0x1F_E000
    /// 4 MiB PDE bits 21:17: above the PSE-36 address bits.
    static let pse36Reserved: UInt64 = 0x3E_0000

    init(addressSpace: AddressSpace, state: UnsafePointer<CPUState>) {
        self.addressSpace = addressSpace
        cr0 = state.pointee.cr0
        cr3 = state.pointee.cr3
        cr4 = state.pointee.cr4
        a20Mask = state.pointee.a20Mask
    }

    var pagingEnabled: Bool { cr0 & ControlRegister.paging != 0 }
    var writeProtect: Bool { cr0 & ControlRegister.writeProtect != 0 }

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
        let walk = cr4 & ControlRegister.cr4PAE != 0
            ? walkPAE(linear, errorCode: errorCode) : walk32(linear, errorCode: errorCode)
        let leafAddress: UInt64, leafValue: UInt64
        var translation: PageTranslation
        let directory: (address: UInt64, value: UInt64)?
        switch walk {
        case let .fault(code): return .fault(errorCode: code)
        case let .leaf(address, value, found, upper): (leafAddress, leafValue, translation, directory) = (address, value, found, upper)
        }
        guard translation.allows(access, privilege, writeProtect: writeProtect) else {
            return .fault(errorCode: errorCode | PageWalker.errorPresent)
        }
        // A walk that faults leaves every accessed bit alone, as the 386 and Bochs do.
        if let directory { setBits(PageWalker.accessed, in: directory.value, at: directory.address) }
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
        let walk = cr4 & ControlRegister.cr4PAE != 0 ? walkPAE(linear, errorCode: 0) : walk32(linear, errorCode: 0)
        guard case let .leaf(_, _, found, _) = walk else { return nil }
        return found.physical
    }

    /// Where the walk ended: the leaf entry (its address and value), the
    /// translation before the access check and the directory entry above a
    /// small page (whose A bit a successful access sets), or a fault.
    private enum Walk {
        case leaf(address: UInt64, value: UInt64, PageTranslation, directory: (address: UInt64, value: UInt64)?)
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
                         translation(base | (linear & 0x3F_FFFF), pde, large: true), directory: nil)
        }
        let pteAddress = masked((pde & 0xFFFF_F000) | ((linear >> 10) & 0xFFC))
        guard let pte = readEntry(pteAddress, wide: false), pte & PageWalker.present != 0 else { return .fault(errorCode) }
        var result = translation((pte & 0xFFFF_F000) | (linear & 0xFFF), pte, large: false)
        combine(&result, with: pde)
        return .leaf(address: pteAddress, value: pte, result, directory: (pdeAddress, pde))
    }

    /// PAE paging: CR3 → PDPTE (linear 31:30) → page directory (29:21) → page
    /// table (20:12), or a 2 MiB page when the PDE's PS is set. PDPTEs have no
    /// R/W, U/S or A bits.
    private func walkPAE(_ linear: LinearAddress, errorCode: UInt32) -> Walk {
        let rsvd = errorCode | PageWalker.errorPresent | PageWalker.errorReserved
        let pdpteAddress = masked((cr3 & 0xFFFF_FFE0) | ((linear >> 30) & 3) << 3)
        guard let pdpte = readEntry(pdpteAddress, wide: true), pdpte & PageWalker.present != 0 else { return .fault(errorCode) }
        if pdpte & PageWalker.pdpteReserved != 0 { return .fault(rsvd) }
        let pdeAddress = masked((pdpte & 0xF_FFFF_F000) | ((linear >> 18) & 0xFF8))
        guard let pde = readEntry(pdeAddress, wide: true), pde & PageWalker.present != 0 else { return .fault(errorCode) }
        if pde & PageWalker.pageSize != 0 {
            if pde & PageWalker.paeLargeReserved != 0 { return .fault(rsvd) }
            return .leaf(address: pdeAddress, value: pde,
                         translation((pde & 0xF_FFE0_0000) | (linear & 0x1F_FFFF), pde, large: true), directory: nil)
        }
        if pde & PageWalker.highReserved != 0 { return .fault(rsvd) }
        let pteAddress = masked((pde & 0xF_FFFF_F000) | ((linear >> 9) & 0xFF8))
        guard let pte = readEntry(pteAddress, wide: true), pte & PageWalker.present != 0 else { return .fault(errorCode) }
        if pte & PageWalker.highReserved != 0 { return .fault(rsvd) }
        var result = translation((pte & 0xF_FFFF_F000) | (linear & 0xFFF), pte, large: false)
        combine(&result, with: pde)
        return .leaf(address: pteAddress, value: pte, result, directory: (pdeAddress, pde))
    }

    @inline(__always)
    private func translation(_ physical: UInt64, _ leaf: UInt64, large: Bool) -> PageTranslation {
        PageTranslation(physical: masked(physical), writable: leaf & PageWalker.writable != 0,
                        user: leaf & PageWalker.user != 0, dirty: false, global: false, large: large)
    }

    /// Rights are the AND over levels.
    @inline(__always)
    private func combine(_ translation: inout PageTranslation, with upper: UInt64) {
        translation.writable = translation.writable && upper & PageWalker.writable != 0
        translation.user = translation.user && upper & PageWalker.user != 0
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

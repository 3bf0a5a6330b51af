import Memory
import X86Frontend
import X86State

/// Linear-to-host translation for guest loads and stores: a direct-mapped TLB
/// per MMU mode whose hit path is a tag compare and an add, and a slow path
/// that walks the page tables (`PageWalker`), raises page faults and reaches
/// MMIO. Without paging a linear address is physical, masked by the A20 gate.
///
/// MMU index 0 is supervisor (CPL 0-2, and the CPU's implicit supervisor
/// accesses to descriptor tables and the TSS whatever the CPL); 1 is user (CPL 3).
///
/// A TLB entry's plain tags are granted only for what its mode may do: read
/// and code tags when reads are allowed, a write tag when writes are allowed
/// and the page is already dirty (so the first write walks and sets D), on
/// RAM that holds no translated code. Pages that must always take the slow
/// path (MMIO, ROM writes, code pages) keep their tag with `TLBEntry.slowPath`
/// or `TLBEntry.codePage` set, so the slow path reuses the translation without
/// walking again. The flushes the CPU must call are in SoftMMU+Flush.swift.
final class SoftMMU {
    unowned(unsafe) let cpu: X86CPU
    // The CPU's parts the miss path uses, held here so reaching them
    // retains nothing.
    let stateBlock: CPUStateBlock
    let translationCache: TranslationCache
    let addressSpace: AddressSpace
    static let pageMask: LinearAddress = ~0xFFF
    static let supervisorIndex = 0
    static let userIndex = 1
    /// Where the last `readCode` stopped at a page fault: reported by `raiseCodeFault`.
    var codeFault: (linear: LinearAddress, errorCode: UInt32)?
    /// `codeFault`'s error code for a fetch from a non-canonical address (#GP, not #PF).
    static let nonCanonicalFault: UInt32 = ~0
    /// A 1 GiB page was cached since the last full flush: INVLPG then
    /// flushes everything (`LargePageRegions` tracks only 4 MiB regions).
    var hugePageCached = false
    /// The victim entry the next refill's eviction goes to.
    var victimCursor = 0

    /// One bit per 4 MiB of linear space where an entry was filled from a
    /// large page since the last full flush: INVLPG elsewhere has no large
    /// entries to look for.
    let largeRegions = LargePageRegions()

    init(cpu: X86CPU, addressSpace: AddressSpace) {
        self.cpu = cpu
        stateBlock = cpu.stateBlock
        translationCache = cpu.translationCache
        self.addressSpace = addressSpace
        addressSpace.addDirtyLogCleanedListener { [weak self] host, bytes in self?.withholdWrites(host: host, bytes: bytes) }
    }

    @inline(__always)
    func entry(_ linear: LinearAddress, mmu: Int) -> UnsafeMutablePointer<TLBEntry> {
        stateBlock.tlb(mmu: mmu) + Int(truncatingIfNeeded: linear >> 12) & (CPUStateBlock.tlbEntries - 1)
    }

    @inline(__always)
    func load(_ linear: LinearAddress, bytes: Int, mmu: Int) -> UInt64 {
        GuestMemoryAccessors.hitLoad(UnsafeMutableRawPointer(cpu.state), linear, bytes: bytes, mmu: UInt32(mmu))
            ?? slowLoad(linear, bytes: bytes, mmu: mmu)
    }

    @inline(__always)
    func store(_ linear: LinearAddress, _ value: UInt64, bytes: Int, mmu: Int) {
        if !GuestMemoryAccessors.hitStore(UnsafeMutableRawPointer(cpu.state), linear, value, bytes: bytes, mmu: UInt32(mmu)) {
            slowStore(linear, value, bytes: bytes, mmu: mmu)
        }
    }

    @inline(never)
    func slowLoad(_ linear: LinearAddress, bytes: Int, mmu: Int) -> UInt64 {
        if Int(linear & 0xFFF) > 4096 - bytes {
            // Crosses a page: byte by byte, little-endian; a fault stops it.
            var value: UInt64 = 0
            for index in 0..<bytes {
                value |= load(cpu.addressSize.mask(linear &+ LinearAddress(index)), bytes: 1, mmu: mmu) << (8 * UInt64(index))
                if cpu.state.pointee.pendingException >= 0 { return 0 }
            }
            return value
        }
        guard let physical = translate(linear, access: .read, mmu: mmu) else { return 0 }
        if cpu.debugger.watching && cpu.watchAccess(linear, bytes: bytes, write: false) { return 0 }
        // The translation left a plain entry for RAM and ROM: no region lookup.
        return GuestMemoryAccessors.hitLoad(UnsafeMutableRawPointer(cpu.state), linear, bytes: bytes, mmu: UInt32(mmu))
            ?? physicalLoad(physical, bytes: bytes)
    }

    @inline(never)
    func slowStore(_ linear: LinearAddress, _ value: UInt64, bytes: Int, mmu: Int) {
        if Int(linear & 0xFFF) > 4096 - bytes {
            // Crosses a page: both pages must allow the write before any byte
            // is written, so a fault on the second leaves the first untouched.
            let secondPage = cpu.addressSize.mask(linear &+ LinearAddress(bytes - 1)) & SoftMMU.pageMask
            guard translate(linear, access: .write, mmu: mmu) != nil,
                  translate(secondPage, access: .write, mmu: mmu) != nil else { return }
            for index in 0..<bytes {
                store(cpu.addressSize.mask(linear &+ LinearAddress(index)), (value >> (8 * UInt64(index))) & 0xFF, bytes: 1, mmu: mmu)
                if cpu.state.pointee.pendingException >= 0 { return }
            }
            return
        }
        guard let physical = translate(linear, access: .write, mmu: mmu) else { return }
        if cpu.debugger.watching && cpu.watchAccess(linear, bytes: bytes, write: true) { return }
        let slot = entry(linear, mmu: mmu)
        if slot.pointee.writeTag & TLBEntry.notDirty != 0 { logFirstWrite(slot, physical: physical) }
        // A plain write tag means RAM with no translated code: no region lookup.
        if GuestMemoryAccessors.hitStore(UnsafeMutableRawPointer(cpu.state), linear, value, bytes: bytes, mmu: UInt32(mmu)) { return }
        let page = physical >> 12
        if translationCache.holdsCode(physicalPage: page),
           translationCache.writeTouchesCode(physical: physical, bytes: bytes),
           cpu.holdBackStoreAheadOfCode(linear: linear, physicalPage: page) { return }
        physicalStore(physical, value, bytes: bytes)
    }

    /// The physical address for an access that missed the hit path: from the
    /// TLB when its entry already allows the access (a slow-path page), else
    /// from a walk that refills the entry. Nil after raising #PF.
    func translate(_ linear: LinearAddress, access: PageAccess, mmu: Int) -> PhysicalAddress? {
        let slot = entry(linear, mmu: mmu)
        if slot.pointee.allows(access, page: linear & SoftMMU.pageMask)
            || swapInVictim(linear, access: access, slot: slot, mmu: mmu) {
            return slot.pointee.physicalPage | (linear & 0xFFF)
        }
        // Only 64-bit mode makes non-canonical addresses; none is ever in the
        // TLB. A stack access's #SS is reported as #GP: the MMU does not know the segment.
        guard CanonicalAddress.isCanonical(linear) else {
            cpu.raiseException(ExceptionVector.generalProtection, errorCode: 0)
            return nil
        }
        switch walker.translate(linear, access: access, privilege: SoftMMU.privilege(mmu: mmu)) {
        case let .fault(errorCode):
            pageFault(at: linear, errorCode: errorCode)
            return nil
        case let .mapped(translation):
            fill(linear: linear, translation, mmu: mmu)
            return translation.physical
        }
    }

    var walker: PageWalker { PageWalker(addressSpace: addressSpace, state: UnsafePointer(cpu.state)) }

    static func privilege(mmu: Int) -> PagePrivilege { mmu == userIndex ? .user : .supervisor }

    /// Records #PF with CR2 = the faulting linear address (unless an earlier
    /// fault of the same instruction is already pending).
    func pageFault(at linear: LinearAddress, errorCode: UInt32) {
        guard cpu.state.pointee.pendingException < 0 else { return }
        cpu.state.pointee.cr2 = linear
        cpu.raiseException(ExceptionVector.pageFault, errorCode: errorCode)
    }

    /// Loads the TLB entry for a page from a translation (see the type's comment
    /// for which tags it gets). Pages past the physical address space get none.
    func fill(linear: LinearAddress, _ translation: PageTranslation, mmu: Int) {
        let slot = entry(linear, mmu: mmu)
        retire(slot, for: linear & SoftMMU.pageMask, mmu: mmu)
        stateBlock.willFill(slot)
        var fresh = TLBEntry()
        fresh.flags = (translation.global ? TLBEntry.global : 0) | (translation.large ? TLBEntry.largePage : 0)
        if translation.large { largeRegions.mark(linear) }
        if translation.huge { hugePageCached = true }
        guard translation.physical < AddressSpace.physicalLimit else {
            slot.pointee = fresh
            return
        }
        let page = linear & SoftMMU.pageMask
        let physicalPage = translation.physical & SoftMMU.pageMask
        fresh.physicalPage = physicalPage
        let privilege = SoftMMU.privilege(mmu: mmu)
        let writeProtect = cpu.state.pointee.cr0 & ControlRegister.writeProtect != 0
        let readable = translation.allows(.read, privilege, writeProtect: writeProtect)
        let writable = translation.dirty && translation.allows(.write, privilege, writeProtect: writeProtect)
        var readFlags = TLBEntry.slowPath, writeFlags = TLBEntry.slowPath
        if let host = addressSpace.hostPointer(at: physicalPage) {
            fresh.addend = Int(bitPattern: host) &- Int(truncatingIfNeeded: page)
            readFlags = 0
            switch addressSpace.backingKind(at: physicalPage) {
            case .ram: writeFlags = translationCache.holdsCode(physicalPage: physicalPage >> 12) ? TLBEntry.codePage : 0
            case .deviceRAM:
                writeFlags = translationCache.holdsCode(physicalPage: physicalPage >> 12) ? TLBEntry.codePage : 0
                if addressSpace.isLoggedClean(physicalPage) { writeFlags |= TLBEntry.notDirty }
            default: break
            }
        }
        if translation.allows(.execute, privilege, writeProtect: writeProtect) { fresh.codeTag = page | readFlags }
        if cpu.debugger.watching {
            // A debugger's watchpoint: every access to the page is checked on the slow path.
            let watched = cpu.debugger.watches(page: UInt32(truncatingIfNeeded: page >> 12))
            if watched.reads { readFlags |= TLBEntry.slowPath }
            if watched.writes { writeFlags |= TLBEntry.slowPath }
        }
        if readable { fresh.readTag = page | readFlags }
        if writable { fresh.writeTag = page | writeFlags }
        slot.pointee = fresh
    }

    /// A load from a physical address: RAM and ROM directly, MMIO through its
    /// device, all ones from nothing.
    func physicalLoad(_ physical: PhysicalAddress, bytes: Int) -> UInt64 {
        let ones = bytes == 8 ? UInt64.max : UInt64(AccessSize(rawValue: bytes)!.mask)
        guard let host = addressSpace.hostPointer(at: physical) else {
            guard addressSpace.backingKind(at: physical) == .mmio else { return ones }
            // Devices take at most a dword: a quadword (64-bit code's MOV, an
            // HPET register read with READQ) is two, the low half first.
            if bytes == 8 {
                let low = UInt64(addressSpace.read(physical, size: .dword))
                return low | UInt64(addressSpace.read(physical &+ 4, size: .dword)) << 32
            }
            return UInt64(addressSpace.read(physical, size: AccessSize(rawValue: bytes) ?? .dword))
        }
        switch bytes {
        case 1: return UInt64(host.load(as: UInt8.self))
        case 2: return UInt64(host.loadUnaligned(as: UInt16.self))
        case 4: return UInt64(host.loadUnaligned(as: UInt32.self))
        default: return host.loadUnaligned(as: UInt64.self)
        }
    }

    /// A store to a physical address: drops the blocks of a code page first
    /// when it lands on translated bytes; ROM and nothing ignore it.
    func physicalStore(_ physical: PhysicalAddress, _ value: UInt64, bytes: Int) {
        guard physical < AddressSpace.physicalLimit else { return }
        if translationCache.holdsCode(physicalPage: physical >> 12),
           translationCache.writeTouchesCode(physical: physical, bytes: bytes) {
            cpu.invalidateCode(physicalPage: physical >> 12)
        }
        let kind = addressSpace.backingKind(at: physical)
        switch kind {
        case .mmio, .rom:
            // Plain ROM drops the store; a ROM device's handler takes it.
            // A quadword is two dwords, the low half first.
            addressSpace.write(physical, value: UInt32(truncatingIfNeeded: value), size: AccessSize(rawValue: bytes) ?? .dword)
            if bytes == 8 { addressSpace.write(physical &+ 4, value: UInt32(truncatingIfNeeded: value >> 32), size: .dword) }
        case .none:
            return
        case .ram, .deviceRAM:
            guard let host = addressSpace.hostPointer(at: physical) else { return }
            if kind == .deviceRAM { addressSpace.markWritten(physical) }
            switch bytes {
            case 1: host.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
            case 2: host.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
            case 4: host.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
            default: host.storeBytes(of: value, as: UInt64.self)
            }
        }
    }
}

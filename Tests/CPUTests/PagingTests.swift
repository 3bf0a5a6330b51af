import CPURuntime
import Memory
import Timing
import X86State
import XCTest

/// Paging in the software MMU: page tables written into guest RAM by hand,
/// control registers set directly, accesses made through the MMU as the
/// interpreter makes them (hit path, slow path, walk).
final class PagingTests: XCTestCase {
    // Entry bits.
    let P: UInt64 = 1, RW: UInt64 = 2, US: UInt64 = 4, A: UInt64 = 0x20, D: UInt64 = 0x40, PS: UInt64 = 0x80, G: UInt64 = 0x100
    // Error code bits.
    let errP: UInt32 = 1, errW: UInt32 = 2, errU: UInt32 = 4, errRSVD: UInt32 = 8

    let pagingOn = ControlRegister.protectionEnable | ControlRegister.paging | ControlRegister.extensionType
    /// 32-bit paging: page directory at 0x1000, page tables at 0x2000 and 0x3000.
    let directory: UInt32 = 0x1000, table: UInt32 = 0x2000, table2: UInt32 = 0x3000

    var ram: GuestRAM!
    var cpu: X86CPU!
    var device: CountingDevice!

    final class CountingDevice: MMIOHandler {
        var reads = 0, writes: [UInt32] = []
        override func read(offset: UInt32, size: AccessSize) -> UInt32 { reads += 1; return 0xAB00 | offset }
        override func write(offset: UInt32, value: UInt32, size: AccessSize) { writes.append(value) }
    }

    override func setUp() {
        ram = try! GuestRAM(size: 8 << 20)
        let space = AddressSpace(ram: ram)
        try! space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        device = CountingDevice()
        try! space.map("device", at: 0xFEC0_0000, size: 0x1000, kind: .mmio(device))
        cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
    }

    // MARK: guest memory

    func put32(_ address: UInt32, _ value: UInt64) { ram.base.storeBytes(of: UInt32(truncatingIfNeeded: value), toByteOffset: Int(address), as: UInt32.self) }
    func get32(_ address: UInt32) -> UInt64 { UInt64(ram.base.loadUnaligned(fromByteOffset: Int(address), as: UInt32.self)) }
    func put64(_ address: UInt32, _ value: UInt64) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: UInt64.self) }
    func get64(_ address: UInt32) -> UInt64 { ram.base.loadUnaligned(fromByteOffset: Int(address), as: UInt64.self) }
    func byte(_ address: UInt32) -> UInt8 { ram.base.load(fromByteOffset: Int(address), as: UInt8.self) }

    /// 32-bit paging: PDE for `linear` → `table`, PTE for `linear` → `physical`.
    func map32(_ linear: UInt32, to physical: UInt32, pde: UInt64 = 7, pte: UInt64 = 7, table: UInt32? = nil) {
        let pt = table ?? self.table
        put32(directory + (linear >> 22) * 4, UInt64(pt) | pde)
        put32(pt + ((linear >> 12) & 0x3FF) * 4, UInt64(physical) | pte)
    }

    func enable32(cr4: UInt64 = 0, writeProtect: Bool = false) {
        cpu.setControlRegisters(cr0: pagingOn | (writeProtect ? ControlRegister.writeProtect : 0), cr3: UInt64(directory), cr4: cr4)
    }

    func pf(_ errorCode: UInt32, _ cr2: LinearAddress) -> TestLinearAccess { .fault(vector: 14, errorCode: errorCode, cr2: cr2) }

    // MARK: 32-bit paging

    func testNotPresentDirectoryEntry() {
        enable32()
        XCTAssertEqual(cpu.testLinearRead(0x0040_1234, bytes: 4), pf(0, 0x0040_1234))
        XCTAssertEqual(cpu.testLinearRead(0x0040_1234, bytes: 4, user: true), pf(errU, 0x0040_1234))
        XCTAssertEqual(cpu.testLinearWrite(0x0040_1238, 1, bytes: 2), pf(errW, 0x0040_1238))
        XCTAssertEqual(cpu.testLinearWrite(0x0040_1238, 1, bytes: 1, user: true), pf(errW | errU, 0x0040_1238))
    }

    func testNotPresentTableEntry() {
        enable32()
        map32(0x0040_3000, to: 0x5000, pte: 6)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3010, bytes: 1), pf(0, 0x0040_3010))
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3010, 1, bytes: 1, user: true), pf(errW | errU, 0x0040_3010))
        // A walk that faults sets no accessed bit, not even the PDE's (as the 386,
        // Bochs and KVM's walker do); a successful access then sets it.
        XCTAssertEqual(get32(directory + 4) & A, 0)
        XCTAssertEqual(get32(table + 3 * 4) & A, 0)
        map32(0x0040_3000, to: 0x5000, pte: 7)
        XCTAssertNotEqual(cpu.testLinearRead(0x0040_3010, bytes: 1), pf(0, 0x0040_3010))
        XCTAssertEqual(get32(directory + 4) & A, A)
    }

    func testFourKiBPageAndAccessedDirtyBits() {
        map32(0x0040_3000, to: 0x5000)
        put32(0x5010, 0xDEAD_BEEF)
        enable32()
        XCTAssertEqual(cpu.testLinearRead(0x0040_3010, bytes: 4), .value(0xDEAD_BEEF))
        XCTAssertEqual(get32(directory + 4), UInt64(table) | 7 | A, "a read sets A in the PDE only")
        XCTAssertEqual(get32(table + 3 * 4), 0x5000 | 7 | A, "a read sets A, not D, in the PTE")
        // The read filled the TLB without a write tag (D was clear): this write walks and sets D.
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3012, 0x1234, bytes: 2), .value(0))
        XCTAssertEqual(get32(table + 3 * 4), 0x5000 | 7 | A | D)
        XCTAssertEqual(get32(directory + 4) & D, 0, "D is set only in the entry that maps the page")
        XCTAssertEqual(get32(0x5010), 0x1234_BEEF)
        // Hit path now: the same values through the TLB.
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3014, 0x55, bytes: 1), .value(0))
        XCTAssertEqual(cpu.testLinearRead(0x0040_3010, bytes: 8), .value(0x55_1234_BEEF))
        // Without paging the same linear address is physical.
        cpu.setControlRegisters(cr0: ControlRegister.protectionEnable | ControlRegister.extensionType)
        put32(0x0040_3010, 0x7777)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3010, bytes: 4), .value(0x7777))
    }

    func testFourMiBPageWithPSE() {
        put32(directory + 4, 0x0040_0000 | 7 | PS)
        put32(0x0041_2344, 0xCAFE_F00D)
        enable32(cr4: ControlRegister.cr4PSE)
        XCTAssertEqual(cpu.testLinearRead(0x0041_2344, bytes: 4), .value(0xCAFE_F00D))
        XCTAssertEqual(cpu.testLinearWrite(0x007F_FFFC, 0x1111, bytes: 4), .value(0))
        XCTAssertEqual(get32(0x007F_FFFC), 0x1111)
        XCTAssertEqual(get32(directory + 4), 0x0040_0000 | 7 | PS | A | D, "the 4 MiB PDE is the leaf: A and D")
    }

    func testPageSizeBitIgnoredWithoutPSE() {
        // With CR4.PSE clear the PDE points to a page table even with PS set.
        put32(directory + 4, 0x0040_0000 | 7 | PS)
        put32(0x0040_0000 + 0x12 * 4, 0x6000 | 7)
        put32(0x6344, 0x600D)
        put32(0x0041_2344, 0xBAD)
        enable32()
        XCTAssertEqual(cpu.testLinearRead(0x0041_2344, bytes: 4), .value(0x600D))
    }

    func testFourMiBPageReservedBits() {
        // PSE-36: PDE bits 16:13 are physical bits 35:32 (nothing is there), 21:17 reserved.
        put32(directory + 4, 0x0040_0000 | 7 | PS | (1 << 21))
        put32(directory + 8, 0x0040_0000 | 7 | PS | (1 << 13))
        enable32(cr4: ControlRegister.cr4PSE)
        XCTAssertEqual(cpu.testLinearRead(0x0040_0000, bytes: 4), pf(errP | errRSVD, 0x0040_0000))
        XCTAssertEqual(cpu.testLinearRead(0x0080_0000, bytes: 4), .value(0xFFFF_FFFF), "above 4 GiB: no memory")
        XCTAssertEqual(cpu.testLinearWrite(0x0080_0000, 0, bytes: 4), .value(0))
    }

    func testUserAccessNeedsUserOnEveryLevel() {
        map32(0x0040_3000, to: 0x5000, pde: 7, pte: 3)   // PTE supervisor-only
        map32(0x0080_3000, to: 0x6000, pde: 3, pte: 7, table: table2)   // PDE supervisor-only
        put32(0x5000, 0x11)
        put32(0x6000, 0x22)
        enable32()
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4, user: true), pf(errP | errU, 0x0040_3000))
        XCTAssertEqual(cpu.testLinearRead(0x0080_3000, bytes: 4, user: true), pf(errP | errU, 0x0080_3000))
        XCTAssertEqual(cpu.testLinearWrite(0x0080_3000, 0, bytes: 4, user: true), pf(errP | errW | errU, 0x0080_3000))
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x11))
        XCTAssertEqual(cpu.testLinearRead(0x0080_3000, bytes: 4), .value(0x22))
        // The supervisor's TLB entry must not serve the user.
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4, user: true), pf(errP | errU, 0x0040_3000))
    }

    func testReadOnlyPagesWithAndWithoutWriteProtect() {
        map32(0x0040_3000, to: 0x5000, pde: 7, pte: 5)   // PTE read-only
        map32(0x0080_3000, to: 0x6000, pde: 5, pte: 7, table: table2)   // PDE read-only
        enable32()
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4, user: true), .value(0))
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3000, 1, bytes: 4, user: true), pf(errP | errW | errU, 0x0040_3000))
        XCTAssertEqual(cpu.testLinearWrite(0x0080_3000, 1, bytes: 4, user: true), pf(errP | errW | errU, 0x0080_3000))
        // CR0.WP clear: the supervisor writes read-only pages (and sets D).
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3000, 0x41, bytes: 4), .value(0))
        XCTAssertEqual(cpu.testLinearWrite(0x0080_3000, 0x42, bytes: 4), .value(0))
        XCTAssertEqual(get32(0x5000), 0x41)
        XCTAssertEqual(get32(0x6000), 0x42)
        XCTAssertEqual(get32(table + 3 * 4) & D, D)
        // Setting WP must drop the write tags those writes left.
        enable32(writeProtect: true)
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3000, 0x51, bytes: 4), pf(errP | errW, 0x0040_3000))
        XCTAssertEqual(cpu.testLinearWrite(0x0080_3000, 0x52, bytes: 1), pf(errP | errW, 0x0080_3000))
        XCTAssertEqual(get32(0x5000), 0x41)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x41))
    }

    func testUserWriteTagOnlyWhenAllowed() {
        // The user may read but not write; the supervisor may write (and has dirtied the page).
        map32(0x0040_3000, to: 0x5000, pde: 7, pte: 5 | D)
        enable32()
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3000, 0x33, bytes: 4), .value(0))
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4, user: true), .value(0x33))
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3000, 0x44, bytes: 4, user: true), pf(errP | errW | errU, 0x0040_3000))
        XCTAssertEqual(get32(0x5000), 0x33)
    }

    // MARK: PAE

    /// PAE: PDPT at 0x1000, page directory at 0x2000, page table at 0x3000.
    func enablePAE(pdpte: UInt64 = 0x2000 | 1, pde: UInt64, pte: UInt64? = nil, linear: LinearAddress, cr4: UInt64 = 0) {
        let linear = UInt32(linear)
        put64(directory + (linear >> 30) * 8, pdpte)
        put64(0x2000 + ((linear >> 21) & 0x1FF) * 8, pde)
        if let pte { put64(0x3000 + ((linear >> 12) & 0x1FF) * 8, pte) }
        cpu.setControlRegisters(cr0: pagingOn, cr3: UInt64(directory), cr4: ControlRegister.cr4PAE | cr4)
    }

    func testPAEFourKiBPage() {
        let linear: LinearAddress = 0x8060_5123
        enablePAE(pde: 0x3000 | 7, pte: 0x7000 | 7, linear: linear)
        put32(0x7123, 0xFACE)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), .value(0xFACE))
        XCTAssertEqual(cpu.testLinearWrite(linear, 0xBEEF, bytes: 2, user: true), .value(0))
        XCTAssertEqual(get32(0x7123), 0xBEEF)
        XCTAssertEqual(get64(0x2000 + 3 * 8), 0x3000 | 7 | A)
        XCTAssertEqual(get64(0x3000 + 5 * 8), 0x7000 | 7 | A | D)
        XCTAssertEqual(get64(directory + 2 * 8), 0x2000 | 1, "PDPTEs have no accessed bit")
        XCTAssertEqual(cpu.testLinearRead(0x0060_5123, bytes: 4), pf(0, 0x0060_5123), "PDPTE 0 is not present")
    }

    func testPAETwoMiBPage() {
        let linear: LinearAddress = 0x4060_0010
        enablePAE(pde: 0x0060_0000 | 7 | PS, linear: linear)
        put32(0x0060_0010, 0x2222)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), .value(0x2222))
        XCTAssertEqual(cpu.testLinearWrite(0x407F_FFF0, 0x3333, bytes: 4), .value(0))
        XCTAssertEqual(get32(0x007F_FFF0), 0x3333)
        XCTAssertEqual(get64(0x2000 + 3 * 8), 0x0060_0000 | 7 | PS | A | D)
    }

    func testPAEUserAndWriteRights() {
        let linear: LinearAddress = 0x0040_3000
        enablePAE(pde: 0x3000 | 3, pte: 0x7000 | 7, linear: linear, cr4: 0)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4, user: true), pf(errP | errU, linear))
        put64(0x2000 + 2 * 8, 0x3000 | 5)
        cpu.testFlushTLB()
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4, user: true), .value(0))
        XCTAssertEqual(cpu.testLinearWrite(linear, 1, bytes: 4, user: true), pf(errP | errW | errU, linear))
    }

    func testPAEReservedBits() {
        let linear: LinearAddress = 0x0040_3000
        // A PTE with a physical address bit above MAXPHYADDR (36).
        enablePAE(pde: 0x3000 | 7, pte: 0x7000 | 7 | (1 << 40), linear: linear)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), pf(errP | errRSVD, linear))
        XCTAssertEqual(cpu.testLinearWrite(linear, 0, bytes: 4, user: true), pf(errP | errRSVD | errW | errU, linear))
        // XD is reserved: this CPU has no NX.
        put64(0x3000 + 3 * 8, 0x7000 | 7 | (1 << 63))
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), pf(errP | errRSVD, linear))
        // A not-present entry's other bits are ignored.
        put64(0x3000 + 3 * 8, 0xFFFF_FFFF_FFFF_FFFE)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), pf(0, linear))
        // A PS=1 PDE with bits 20:13 set.
        put64(0x2000 + 2 * 8, 0x0040_0000 | 7 | PS | (1 << 13))
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), pf(errP | errRSVD, linear))
        // A PS=0 PDE with bit 36.
        put64(0x2000 + 2 * 8, 0x3000 | 7 | (1 << 36))
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), pf(errP | errRSVD, linear))
        // A PDPTE with reserved bit 1 (R/W has no meaning there).
        put64(0x2000 + 2 * 8, 0x3000 | 7)
        put64(directory, 0x2000 | 1 | 2)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), pf(errP | errRSVD, linear))
        put64(directory, 0x2000 | 1)
        put64(0x3000 + 3 * 8, 0x7000 | 7)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), .value(0))
    }

    func testPAEPhysicalAboveFourGiBIsNothing() {
        let linear: LinearAddress = 0x0040_3000
        enablePAE(pde: 0x3000 | 7, pte: 0x1_0000_7000 | 7, linear: linear)
        put32(0x7000, 0x1234)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), .value(0xFFFF_FFFF))
        XCTAssertEqual(cpu.testLinearWrite(linear, 0, bytes: 4), .value(0))
        XCTAssertEqual(get32(0x7000), 0x1234)
    }

    // MARK: TLB flushes

    func testGlobalEntriesSurviveCR3WriteButNotFullFlush() {
        map32(0x0040_3000, to: 0x5000, pte: 7 | G)
        map32(0x0040_4000, to: 0x6000, pte: 7)
        put32(0x5000, 0x55)
        put32(0x6000, 0x66)
        put32(0x8000, 0x88)
        enable32(cr4: ControlRegister.cr4PGE)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x55))
        XCTAssertEqual(cpu.testLinearRead(0x0040_4000, bytes: 4, user: true), .value(0x66))
        // Remap both to 0x8000 without telling the TLB: both stay cached.
        put32(table + 3 * 4, 0x8000 | 7 | G)
        put32(table + 4 * 4, 0x8000 | 7)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x55))
        XCTAssertEqual(cpu.testLinearRead(0x0040_4000, bytes: 4, user: true), .value(0x66))
        // A CR3 write (same value) drops only the non-global entry.
        cpu.setControlRegisters(cr3: UInt64(directory))
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x55))
        XCTAssertEqual(cpu.testLinearRead(0x0040_4000, bytes: 4, user: true), .value(0x88))
        // Clearing CR4.PGE drops everything.
        cpu.setControlRegisters(cr4: 0)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x88))
    }

    func testRepeatedCR3WritesKeepOnlyGlobalEntries() {
        map32(0x0040_3000, to: 0x5000, pte: 7 | G)
        map32(0x0040_4000, to: 0x6000, pte: 7)
        map32(0x0040_7000, to: 0x7000, pte: 7)
        put32(0x5000, 0x55)
        put32(0x6000, 0x66)
        put32(0x7000, 0x77)
        put32(0x8000, 0x88)
        enable32(cr4: ControlRegister.cr4PGE)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x55))
        XCTAssertEqual(cpu.testLinearRead(0x0040_4000, bytes: 4), .value(0x66))
        cpu.setControlRegisters(cr3: UInt64(directory))
        // Filled after the first CR3 write, dropped by the second.
        XCTAssertEqual(cpu.testLinearRead(0x0040_7000, bytes: 4), .value(0x77))
        for index: UInt32 in [3, 4, 7] { put32(table + index * 4, 0x8000 | 7 | (index == 3 ? G : 0)) }
        cpu.setControlRegisters(cr3: UInt64(directory))
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x55))
        XCTAssertEqual(cpu.testLinearRead(0x0040_4000, bytes: 4), .value(0x88))
        XCTAssertEqual(cpu.testLinearRead(0x0040_7000, bytes: 4), .value(0x88))
    }

    func testCR3WriteDropsEveryEntryWhenMoreWereFilledThanTheTLBHolds() {
        // A page table mapping 4 MiB: 1024 pages in each mode fill every entry.
        for page: UInt32 in 0..<1024 { put32(table + page * 4, UInt64(0x0040_0000 + page << 12) | 7) }
        put32(directory + 4, UInt64(table) | 7)
        put32(0x007F_F000, 0x7F)
        put32(0x5000, 0x05)
        enable32()
        for page: UInt64 in 0..<1024 { _ = cpu.testLinearRead(0x0040_0000 + page << 12, bytes: 1) }
        for page: UInt64 in 0..<1023 { _ = cpu.testLinearRead(0x0040_0000 + page << 12, bytes: 1, user: true) }
        // Emptied and filled again, an entry counts twice: the last fill is one too many.
        cpu.testInvalidatePage(0x0040_0000)
        _ = cpu.testLinearRead(0x0040_0000, bytes: 1)
        XCTAssertEqual(cpu.testLinearRead(0x007F_F000, bytes: 4, user: true), .value(0x7F))
        put32(table + 1023 * 4, 0x5000 | 7)
        cpu.setControlRegisters(cr3: UInt64(directory))
        XCTAssertEqual(cpu.testLinearRead(0x007F_F000, bytes: 4, user: true), .value(0x05))
    }

    func testGlobalBitNeedsPGE() {
        map32(0x0040_3000, to: 0x5000, pte: 7 | G)
        put32(0x5000, 0x55)
        put32(0x8000, 0x88)
        enable32()
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x55))
        put32(table + 3 * 4, 0x8000 | 7 | G)
        cpu.setControlRegisters(cr3: UInt64(directory))
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x88))
    }

    func testInvalidatePage() {
        map32(0x0040_3000, to: 0x5000, pte: 7 | G)
        map32(0x0040_4000, to: 0x6000, pte: 7)
        put32(0x5000, 0x55)
        put32(0x6000, 0x66)
        put32(0x8000, 0x88)
        enable32(cr4: ControlRegister.cr4PGE)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x55))
        XCTAssertEqual(cpu.testLinearRead(0x0040_4000, bytes: 4), .value(0x66))
        put32(table + 3 * 4, 0x8000 | 7 | G)
        put32(table + 4 * 4, 0x8000 | 7)
        // INVLPG drops a global page too, and only the page named.
        cpu.testInvalidatePage(0x0040_3FFF)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x88))
        XCTAssertEqual(cpu.testLinearRead(0x0040_4000, bytes: 4), .value(0x66))
    }

    func testPagesSharingAnEntryStayCachedThroughTheVictims() {
        // 4 MiB apart: the same direct-mapped entry.
        map32(0x0040_3000, to: 0x5000)
        map32(0x0080_3000, to: 0x6000, table: table2)
        put32(0x5000, 0x55)
        put32(0x6000, 0x66)
        put32(0x8000, 0x88)
        enable32()
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x55))
        XCTAssertEqual(cpu.testLinearRead(0x0080_3000, bytes: 4), .value(0x66))
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3004, 0x56, bytes: 4), .value(0))
        // Remapped without telling the TLB: neither walks again.
        put32(table + 3 * 4, 0x8000 | 7)
        put32(table2 + 3 * 4, 0x8000 | 7)
        for _ in 0..<3 {
            XCTAssertEqual(cpu.testLinearRead(0x0080_3000, bytes: 4), .value(0x66))
            XCTAssertEqual(cpu.testLinearRead(0x0040_3004, bytes: 4), .value(0x56))
        }
        // INVLPG reaches the victim; the other page stays cached.
        cpu.testInvalidatePage(0x0080_3000)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x55))
        XCTAssertEqual(cpu.testLinearRead(0x0080_3000, bytes: 4), .value(0x88))
        // A CR3 write drops the victims too.
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x55))
        cpu.setControlRegisters(cr3: UInt64(directory))
        XCTAssertEqual(cpu.testLinearRead(0x0080_3000, bytes: 4), .value(0x88))
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x88))
    }

    func testInvalidatePageDropsEveryPieceOfALargePage() {
        put32(directory + 4, 0x0040_0000 | 7 | PS)
        put32(0x0040_0000, 0x40)
        put32(0x0040_5000, 0x45)
        put32(0x0000_0000, 0x00)
        put32(0x0000_5000, 0x05)
        enable32(cr4: ControlRegister.cr4PSE)
        XCTAssertEqual(cpu.testLinearRead(0x0040_0000, bytes: 4), .value(0x40))
        XCTAssertEqual(cpu.testLinearRead(0x0040_5000, bytes: 4), .value(0x45))
        put32(directory + 4, 0x0000_0000 | 7 | PS)
        cpu.testInvalidatePage(0x0040_0000)
        XCTAssertEqual(cpu.testLinearRead(0x0040_5000, bytes: 4), .value(0x05))
        XCTAssertEqual(cpu.testLinearRead(0x0040_0000, bytes: 4), .value(0x00))
    }

    // MARK: page-crossing accesses

    func testCrossingStoreFaultsOnSecondPageWithoutWriting() {
        map32(0x0040_3000, to: 0x5000)
        enable32()
        put32(0x5FFC, 0x1122_3344)
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3FFE, 0xAABB_CCDD, bytes: 4), pf(errW, 0x0040_4000))
        XCTAssertEqual(get32(0x5FFC), 0x1122_3344, "no byte of the first page is written")
        // The same with the second page present but read-only for the user.
        map32(0x0040_4000, to: 0x6000, pte: 5)
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3FFF, 0xAABB_CCDD, bytes: 4, user: true), pf(errP | errW | errU, 0x0040_4000))
        XCTAssertEqual(get32(0x5FFC), 0x1122_3344)
        XCTAssertEqual(get32(0x6000), 0)
        // A fault on the first page reports the first byte.
        XCTAssertEqual(cpu.testLinearWrite(0x0040_2FFF, 0xAABB, bytes: 2), pf(errW, 0x0040_2FFF))
    }

    func testCrossingAccessesSpanNonContiguousPhysicalPages() {
        map32(0x0040_3000, to: 0x6000)
        map32(0x0040_4000, to: 0x5000)
        enable32()
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3FFE, 0xAABB_CCDD, bytes: 4), .value(0))
        XCTAssertEqual(byte(0x6FFE), 0xDD)
        XCTAssertEqual(byte(0x6FFF), 0xCC)
        XCTAssertEqual(byte(0x5000), 0xBB)
        XCTAssertEqual(byte(0x5001), 0xAA)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3FFD, bytes: 8), .value(0x0000_00AA_BBCC_DD00))
        put32(table + 4 * 4, 0)
        cpu.setControlRegisters(cr3: UInt64(directory))
        XCTAssertEqual(cpu.testLinearRead(0x0040_3FFE, bytes: 4), pf(0, 0x0040_4000))
    }

    func testAccessesAcrossFourGiBWrapToLinearZero() {
        // 32-bit modes: the last page's access goes on at linear 0 (SDM vol. 3, 3.3.6).
        map32(0xFFFF_F000, to: 0x5000, table: table2)
        map32(0, to: 0x6000)
        enable32()
        XCTAssertEqual(cpu.testLinearWrite(0xFFFF_FFFE, 0xAABB_CCDD, bytes: 4), .value(0))
        XCTAssertEqual(byte(0x5FFE), 0xDD)
        XCTAssertEqual(byte(0x5FFF), 0xCC)
        XCTAssertEqual(byte(0x6000), 0xBB)
        XCTAssertEqual(byte(0x6001), 0xAA)
        XCTAssertEqual(cpu.testLinearRead(0xFFFF_FFFE, bytes: 4), .value(0xAABB_CCDD))
        // A fault on the second page reports linear 0, the wrapped address.
        put32(table, 0)
        cpu.setControlRegisters(cr3: UInt64(directory))
        XCTAssertEqual(cpu.testLinearRead(0xFFFF_FFFF, bytes: 2), pf(0, 0))
    }

    // MARK: physical side

    func testA20MaskAppliesAfterPaging() {
        map32(0x0040_3000, to: 0x0010_5000)
        put32(0x0010_5000, 0x1111)
        put32(0x0000_5000, 0x2222)
        enable32()
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x1111))
        cpu.setA20(false)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x2222))
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3000, 0x3333, bytes: 4), .value(0))
        XCTAssertEqual(get32(0x0000_5000), 0x3333)
        XCTAssertEqual(get32(0x0010_5000), 0x1111)
        // Page-table reads are physical accesses too: CR3 at 1 MiB + 0x1000 reads 0x1000.
        cpu.setControlRegisters(cr3: 0x0010_1000)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), .value(0x3333))
        cpu.setA20(true)
        XCTAssertEqual(cpu.testLinearRead(0x0040_3000, bytes: 4), pf(0, 0x0040_3000))
    }

    func testPageTablesOutsideRAMAreNotPresent() {
        cpu.setControlRegisters(cr0: pagingOn, cr3: 0x1000_0000, cr4: 0)
        XCTAssertEqual(cpu.testLinearRead(0x1234, bytes: 1), pf(0, 0x1234))
        // A directory in RAM whose table is in MMIO space.
        put32(directory, 0xFEC0_0000 | 7)
        cpu.setControlRegisters(cr3: UInt64(directory))
        XCTAssertEqual(cpu.testLinearRead(0x1234, bytes: 1), pf(0, 0x1234))
        XCTAssertEqual(device.reads, 0)
    }

    func testMMIOThroughPaging() {
        map32(0x0040_3000, to: 0xFEC0_0000)
        enable32()
        XCTAssertEqual(cpu.testLinearRead(0x0040_3010, bytes: 4), .value(0xAB10))
        XCTAssertEqual(cpu.testLinearRead(0x0040_3020, bytes: 2), .value(0xAB20))
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3000, 0x77, bytes: 4), .value(0))
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3000, 0x78, bytes: 4), .value(0))
        XCTAssertEqual(device.reads, 2, "every access reaches the device")
        XCTAssertEqual(device.writes, [0x77, 0x78])
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3000, 0x79, bytes: 4, user: true), .value(0))
        put32(table + 3 * 4, 0xFEC0_0000 | 5)
        cpu.setControlRegisters(cr3: UInt64(directory))
        XCTAssertEqual(cpu.testLinearWrite(0x0040_3000, 0x7A, bytes: 4, user: true), pf(errP | errW | errU, 0x0040_3000))
        XCTAssertEqual(device.writes, [0x77, 0x78, 0x79])
    }

    // MARK: instruction fetch

    func testReadCodeStopsAtAFaultingPage() {
        map32(0x0040_3000, to: 0x5000)
        for index in 0..<16 { ram.base.storeBytes(of: UInt8(0x90 + index), toByteOffset: 0x5FF8 + index, as: UInt8.self) }
        enable32()
        XCTAssertEqual(cpu.testFetchPhysical(0x0040_3FF8), 0x5FF8)
        let (bytes, fault) = cpu.testReadCode(0x0040_3FF8, count: 15)
        XCTAssertEqual(bytes, (0..<8).map { UInt8(0x90 + $0) })
        XCTAssertEqual(fault, pf(0, 0x0040_4000), "a supervisor fetch: no I/D bit without NX")
        // A fetch from a not-present page gives a physical PC no block can have.
        XCTAssertNotEqual(cpu.testFetchPhysical(0x0040_4010) & 0xFFF, 0x010)
        map32(0x0040_4000, to: 0x6000)
        let (all, none) = cpu.testReadCode(0x0040_3FF8, count: 15)
        XCTAssertEqual(all.count, 15)
        XCTAssertNil(none)
    }

    func testUserFetchNeedsAUserPage() {
        map32(0x0040_3000, to: 0x5000, pde: 7, pte: 3)
        put32(0x5000, 0x90)
        enable32()
        XCTAssertEqual(cpu.testReadCode(0x0040_3000, count: 1).bytes, [0x90], "CPL 0 fetches from a supervisor page")
        cpu.setTestPrivilege(3)
        let (bytes, fault) = cpu.testReadCode(0x0040_3000, count: 1)
        XCTAssertEqual(bytes, [])
        XCTAssertEqual(fault, pf(errP | errU, 0x0040_3000))
        XCTAssertNotEqual(cpu.testFetchPhysical(0x0040_3000), 0x5000)
        put32(table + 3 * 4, 0x5000 | 7)
        cpu.setControlRegisters(cr3: UInt64(directory))
        XCTAssertEqual(cpu.testFetchPhysical(0x0040_3000), 0x5000)
        XCTAssertEqual(cpu.testReadCode(0x0040_3000, count: 1).bytes, [0x90])
    }

    func testExecutesFromAPagedAddressAndReportsFetchFaults() {
        // mov ax, 0x1234; hlt at physical 0x5000, linear 0x40000 (CS base).
        for (index, value) in [0xB8, 0x34, 0x12, 0xF4].enumerated() {
            ram.base.storeBytes(of: UInt8(value), toByteOffset: 0x5000 + index, as: UInt8.self)
        }
        map32(0x0004_0000, to: 0x5000)
        enable32()
        cpu.loadRealModeSegment(.cs, selector: 0x4000)
        cpu.state.pointee.eip = 0
        cpu.step()
        XCTAssertEqual(cpu.generalRegister(0) & 0xFFFF, 0x1234)
        XCTAssertEqual(cpu.state.pointee.eip, 3)
        // Jump to a page that is not present: the fetch raises #PF with CR2 at it.
        // An empty IDT turns its delivery into #GP, #DF, then a triple fault, none
        // of which touches memory, so CR2 still names the fetch.
        cpu.state.pointee.idtLimit = 0
        cpu.state.pointee.eip = 0x2000
        cpu.step()
        XCTAssertEqual(cpu.state.pointee.cr2, 0x0004_2000)
        XCTAssertTrue(cpu.tripleFault)
    }
}

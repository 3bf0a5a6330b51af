@testable import CPURuntime
import Memory
import Timing
import X86State
import XCTest

/// Long mode's side of the MMU: entering long mode through CR0, CR4 and
/// EFER (and the #GPs that guard it), 4-level paging with 4 KiB, 2 MiB and
/// 1 GiB pages, XD with EFER.NXE, reserved bits and canonical addresses.
/// Page tables are written into guest RAM by hand; accesses go through the
/// MMU as the interpreter makes them. Expected values follow the SDM vol. 3
/// chapter 4 tables (the walk QEMU and Bochs implement the same way).
final class LongModePagingTests: XCTestCase {
    let P: UInt64 = 1, RW: UInt64 = 2, US: UInt64 = 4, A: UInt64 = 0x20, D: UInt64 = 0x40, PS: UInt64 = 0x80
    let XD: UInt64 = 1 << 63
    let errP: UInt32 = 1, errW: UInt32 = 2, errU: UInt32 = 4, errRSVD: UInt32 = 8, errID: UInt32 = 16

    /// PML4 at 0x1000, PDPT at 0x2000, page directory at 0x3000, page table at 0x4000.
    let pml4: UInt32 = 0x1000, pdpt: UInt32 = 0x2000, directory: UInt32 = 0x3000, table: UInt32 = 0x4000
    let pagingOn = ControlRegister.protectionEnable | ControlRegister.paging | ControlRegister.extensionType

    var ram: GuestRAM!
    var cpu: X86CPU!

    override func setUp() {
        ram = try! GuestRAM(size: 8 << 20)
        let space = AddressSpace(ram: ram)
        try! space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
    }

    func put64(_ address: UInt32, _ value: UInt64) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: UInt64.self) }
    func get64(_ address: UInt32) -> UInt64 { ram.base.loadUnaligned(fromByteOffset: Int(address), as: UInt64.self) }
    func put32(_ address: UInt32, _ value: UInt32) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: UInt32.self) }

    func pf(_ errorCode: UInt32, _ cr2: LinearAddress) -> TestLinearAccess { .fault(vector: 14, errorCode: errorCode, cr2: cr2) }
    var gp: TestLinearAccess { .fault(vector: 13, errorCode: 0, cr2: cpu.state.pointee.cr2) }

    func index(_ linear: LinearAddress, level: Int) -> UInt32 { UInt32((linear >> (12 + 9 * UInt64(level))) & 0x1FF) }

    /// Maps `linear` down to the level its leaf is at (3: 1 GiB page in the
    /// PDPT, 2: 2 MiB page in the directory, 1: 4 KiB page in the table).
    func map(_ linear: LinearAddress, leaf: UInt64, level: Int = 1, upper: UInt64 = 7) {
        put64(pml4 + index(linear, level: 3) * 8, UInt64(pdpt) | upper)
        if level == 3 { put64(pdpt + index(linear, level: 2) * 8, leaf); return }
        put64(pdpt + index(linear, level: 2) * 8, UInt64(directory) | upper)
        if level == 2 { put64(directory + index(linear, level: 1) * 8, leaf); return }
        put64(directory + index(linear, level: 1) * 8, UInt64(table) | upper)
        put64(table + index(linear, level: 0) * 8, leaf)
    }

    /// Long mode as a kernel enters it: PAE, CR3, EFER.LME (and NXE), then CR0.PG.
    func enterLongMode(noExecute: Bool = false) throws {
        try cpu.writeControlRegister(4, ControlRegister.cr4PAE)
        try cpu.writeControlRegister(3, UInt64(pml4))
        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.efer, EFER.longModeEnable | (noExecute ? EFER.noExecuteEnable : 0)))
        try cpu.writeControlRegister(0, ControlRegister.protectionEnable)
        try cpu.writeControlRegister(0, pagingOn)
        XCTAssertEqual(cpu.state.pointee.efer & EFER.longModeActive, EFER.longModeActive)
    }

    // MARK: entering and leaving long mode

    func testPagingWithLMEAndPAEActivatesLongMode() throws {
        try cpu.writeControlRegister(0, ControlRegister.protectionEnable)
        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.efer, EFER.longModeEnable))
        // PG with LME but without PAE: #GP, nothing changes.
        XCTAssertThrowsError(try cpu.writeControlRegister(0, pagingOn))
        XCTAssertEqual(cpu.state.pointee.cr0 & ControlRegister.paging, 0)
        XCTAssertEqual(cpu.state.pointee.efer, EFER.longModeEnable)
        try enterLongMode()
        XCTAssertEqual(cpu.readLongModeMSR(X86CPU.LongModeMSR.efer), EFER.longModeEnable | EFER.longModeActive)
        let flags = HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags)
        XCTAssertTrue(flags.contains(.longMode))
        XCTAssertFalse(flags.contains(.code64), "CS has no L bit yet: compatibility mode")
        // Long mode forbids clearing PAE and changing LME while paging.
        XCTAssertThrowsError(try cpu.writeControlRegister(4, 0))
        XCTAssertThrowsError(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.efer, 0))
        // A write keeps LMA as it is (the CPU owns it).
        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.efer, EFER.longModeEnable | EFER.systemCallEnable))
        XCTAssertEqual(cpu.state.pointee.efer, EFER.longModeEnable | EFER.longModeActive | EFER.systemCallEnable)
        // From compatibility mode, clearing PG leaves long mode.
        try cpu.writeControlRegister(0, ControlRegister.protectionEnable)
        XCTAssertEqual(cpu.state.pointee.efer & EFER.longModeActive, 0)
        XCTAssertFalse(HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags).contains(.longMode))
    }

    func testCodeSegmentLBitSelectsSixtyFourBitMode() throws {
        try enterLongMode()
        var cs = cpu.segmentRegister(.cs)
        cs.flags |= SegmentCache.long | SegmentCache.code
        cs.flags &= ~SegmentCache.big
        cpu.setSegmentRegister(.cs, cs)
        var flags = HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags)
        XCTAssertTrue(flags.contains(.code64))
        XCTAssertEqual(flags.addressSize, .bits64)
        XCTAssertFalse(flags.contains(.segmentBases), "64-bit mode ignores DS, ES and SS bases")
        // In 64-bit mode paging cannot be turned off.
        XCTAssertThrowsError(try cpu.writeControlRegister(0, ControlRegister.protectionEnable))
        // The same L bit outside long mode means nothing.
        cpu.extendedFeatureEnable = 0
        flags = HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags)
        XCTAssertFalse(flags.contains(.code64))
        XCTAssertEqual(flags.addressSize, .bits32)
    }

    func testEFERReservedBitsAndMSRs() throws {
        XCTAssertThrowsError(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.efer, 1 << 1))
        XCTAssertThrowsError(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.efer, 1 << 12))
        // Canonical addresses only in the base and target MSRs.
        XCTAssertThrowsError(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.lstar, 0x0000_8000_0000_0000))
        XCTAssertThrowsError(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.gsBase, 0x1234_0000_0000_0000))
        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.lstar, 0xFFFF_8000_0010_0000))
        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.fsBase, 0x0000_7FFF_F000_0000))
        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.kernelGSBase, 0xFFFF_FFFF_8000_0000))
        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.star, 0x0023_0010_0000_0000))
        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.fmask, 0xFFFF_FFFF_0004_7700))
        XCTAssertEqual(cpu.readLongModeMSR(X86CPU.LongModeMSR.lstar), 0xFFFF_8000_0010_0000)
        XCTAssertEqual(cpu.segmentRegister(.fs).base, 0x0000_7FFF_F000_0000)
        XCTAssertEqual(cpu.readLongModeMSR(X86CPU.LongModeMSR.fsBase), 0x0000_7FFF_F000_0000)
        XCTAssertEqual(cpu.readLongModeMSR(X86CPU.LongModeMSR.kernelGSBase), 0xFFFF_FFFF_8000_0000)
        XCTAssertEqual(cpu.readLongModeMSR(X86CPU.LongModeMSR.star), 0x0023_0010_0000_0000)
        XCTAssertEqual(cpu.readLongModeMSR(X86CPU.LongModeMSR.fmask), 0x0004_7700, "SFMASK keeps 32 bits")
        XCTAssertNil(cpu.readLongModeMSR(0xC000_0090))
    }

    // MARK: 4-level paging

    func testFourKiBPageSetsAccessedOnEveryLevel() throws {
        let linear: LinearAddress = 0x0000_7F12_3456_7ABC
        map(linear, leaf: 0x7000 | 7)
        put64(0x7ABC, 0x1122_3344_5566_7788)
        try enterLongMode()
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 8), .value(0x1122_3344_5566_7788))
        XCTAssertEqual(get64(pml4 + index(linear, level: 3) * 8), UInt64(pdpt) | 7 | A)
        XCTAssertEqual(get64(pdpt + index(linear, level: 2) * 8), UInt64(directory) | 7 | A)
        XCTAssertEqual(get64(directory + index(linear, level: 1) * 8), UInt64(table) | 7 | A)
        XCTAssertEqual(get64(table + index(linear, level: 0) * 8), 0x7000 | 7 | A)
        XCTAssertEqual(cpu.testLinearWrite(linear, 0xAB, bytes: 1, user: true), .value(0))
        XCTAssertEqual(get64(table + index(linear, level: 0) * 8), 0x7000 | 7 | A | D)
        XCTAssertEqual(get64(0x7ABC) & 0xFF, 0xAB)
        // The same low 32 bits in another PML4 slot are another page: not present.
        let other = linear ^ 0x0000_0080_0000_0000
        XCTAssertEqual(cpu.testLinearRead(other, bytes: 4), pf(0, other))
    }

    func testTwoMiBAndOneGiBPagesAtKernelAddresses() throws {
        let large: LinearAddress = 0xFFFF_8000_0060_1234
        let huge: LinearAddress = 0xFFFF_FFFF_C012_3456
        map(large, leaf: 0x0060_0000 | 3 | PS, level: 2, upper: 3)
        map(huge, leaf: 0 | 3 | PS, level: 3, upper: 3)
        put32(0x0000_1234 + 0x0060_0000, 0x600D)
        put32(0x0012_3456, 0xBEEF)
        try enterLongMode()
        XCTAssertEqual(cpu.testLinearRead(large, bytes: 4), .value(0x600D))
        XCTAssertEqual(cpu.testLinearRead(huge, bytes: 4), .value(0xBEEF))
        XCTAssertEqual(get64(pdpt + index(huge, level: 2) * 8), 3 | PS | A)
        // Supervisor pages: the user faults with P set.
        XCTAssertEqual(cpu.testLinearRead(huge, bytes: 4, user: true), pf(errP | errU, huge))
        // INVLPG anywhere in the 1 GiB page drops what was cached from it.
        put64(pdpt + index(huge, level: 2) * 8, 0x4000_0000 | 3 | PS)
        cpu.testInvalidatePage(huge &+ 0x1000_0000)
        XCTAssertEqual(cpu.testLinearRead(huge, bytes: 4), .value(0xFFFF_FFFF), "remapped past the RAM")
    }

    func testNonCanonicalAccessesRaiseGeneralProtection() throws {
        try enterLongMode()
        var cs = cpu.segmentRegister(.cs)
        cs.flags |= SegmentCache.long
        cpu.setSegmentRegister(.cs, cs)
        let cr2 = cpu.state.pointee.cr2
        XCTAssertEqual(cpu.testLinearRead(0x0000_8000_0000_0000, bytes: 4), .fault(vector: 13, errorCode: 0, cr2: cr2))
        XCTAssertEqual(cpu.testLinearWrite(0xFFFF_7FFF_FFFF_F000, 1, bytes: 8), .fault(vector: 13, errorCode: 0, cr2: cr2))
        XCTAssertEqual(cpu.testReadCode(0x1234_5678_0000_0000, count: 4).fault, .fault(vector: 13, errorCode: 0, cr2: cr2))
    }

    func testReservedBits() throws {
        let linear: LinearAddress = 0x0000_0040_0000_0000
        try enterLongMode()
        let rsvd = errP | errRSVD
        // PS in a PML4E is reserved.
        map(linear, leaf: 0x7000 | 7)
        put64(pml4 + index(linear, level: 3) * 8, UInt64(pdpt) | 7 | PS)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), pf(rsvd, linear))
        // Bits 51:36 (above MAXPHYADDR) are reserved; 62:52 are ignored.
        put64(pml4 + index(linear, level: 3) * 8, UInt64(pdpt) | 7 | 1 << 40)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), pf(rsvd, linear))
        put64(pml4 + index(linear, level: 3) * 8, UInt64(pdpt) | 7 | 1 << 55)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), .value(0))
        cpu.testFlushTLB()
        // XD without NXE is reserved.
        put64(table + index(linear, level: 0) * 8, 0x7000 | 7 | XD)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), pf(rsvd, linear))
        // A 1 GiB page's bits 29:13 and a 2 MiB page's 20:13 are reserved.
        let huge: LinearAddress = 0x0000_0000_4000_0000
        map(huge, leaf: 3 | PS | 1 << 13, level: 3)
        XCTAssertEqual(cpu.testLinearRead(huge, bytes: 4), pf(rsvd, huge))
        let large: LinearAddress = 0x0000_0000_0060_0000
        map(large, leaf: 0x0060_0000 | 3 | PS | 1 << 20, level: 2)
        XCTAssertEqual(cpu.testLinearRead(large, bytes: 4), pf(rsvd, large))
    }

    func testNoExecute() throws {
        let data: LinearAddress = 0x0000_0000_0040_0000
        map(data, leaf: 0x7000 | 7 | XD)
        put32(0x7000, 0x90C3)
        try enterLongMode(noExecute: true)
        XCTAssertEqual(cpu.testLinearRead(data, bytes: 4), .value(0x90C3), "XD pages are readable")
        XCTAssertEqual(cpu.testReadCode(data, count: 2).fault, pf(errP | errID, data))
        XCTAssertEqual(cpu.testReadCode(data, count: 2).fault, pf(errP | errID, data), "the read's TLB entry has no code tag")
        // A not-present fetch carries I/D too; XD in an upper level forbids fetches under it.
        let absent = data &+ 0x20_0000
        XCTAssertEqual(cpu.testReadCode(absent, count: 1).fault, pf(errID, absent))
        map(data, leaf: 0x7000 | 7, upper: 7 | XD)
        cpu.testFlushTLB()
        XCTAssertEqual(cpu.testReadCode(data, count: 2).fault, pf(errP | errID, data))
        map(data, leaf: 0x7000 | 7)
        cpu.testFlushTLB()
        XCTAssertEqual(cpu.testReadCode(data, count: 2).bytes, [0xC3, 0x90])
    }

    func testLegacyPAEWithNoExecute() throws {
        // PAE outside long mode: XD with NXE, a reserved bit without it.
        let linear: LinearAddress = 0x0040_0000
        put64(0x1000, 0x2000 | 1)   // PDPTE 0
        put64(0x2000 + 2 * 8, 0x3000 | 7)
        put64(0x3000, 0x7000 | 7 | XD)
        cpu.setControlRegisters(cr0: pagingOn, cr3: 0x1000, cr4: ControlRegister.cr4PAE)
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), pf(errP | errRSVD, linear))
        cpu.extendedFeatureEnable = EFER.noExecuteEnable
        XCTAssertFalse(HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags).contains(.longMode))
        XCTAssertEqual(cpu.testLinearRead(linear, bytes: 4), .value(0))
        XCTAssertEqual(cpu.testReadCode(linear, count: 1).fault, pf(errP | errID, linear))
    }
}

import Memory
import PCEmuSupport
import XCTest

/// A device that remembers what it was asked, to check offsets and sizes.
final class RecordingMMIO: MMIOHandler {
    var lastWrite: (offset: UInt32, value: UInt32, size: AccessSize)?
    override func read(offset: UInt32, size: AccessSize) -> UInt32 { 0xA000_0000 | offset }
    override func write(offset: UInt32, value: UInt32, size: AccessSize) { lastWrite = (offset, value, size) }
}

final class AddressSpaceTests: XCTestCase {
    func makeSpace(ramMiB: Int = 2) throws -> AddressSpace {
        AddressSpace(ram: try GuestRAM(size: ramMiB << 20))
    }

    func testOverlappingRegionsAreRefused() throws {
        let space = try makeSpace()
        try space.map("ram", at: 0, size: 0x10_0000, kind: .ram(offset: 0))
        XCTAssertThrowsError(try space.map("vga", at: 0xF_F000, size: 0x2000, kind: .mmio(RecordingMMIO()))) { error in
            XCTAssertTrue("\(error)".contains("overlaps ram"), "\(error)")
        }
        // Touching but not overlapping is fine.
        XCTAssertNoThrow(try space.map("vga", at: 0x10_0000, size: 0x1000, kind: .mmio(RecordingMMIO())))
    }

    func testMisalignedAndOversizedRegionsAreRefused() throws {
        let space = try makeSpace()
        XCTAssertThrowsError(try space.map("odd", at: 0x800, size: 0x1000, kind: .mmio(RecordingMMIO())))
        XCTAssertThrowsError(try space.map("odd", at: 0x1000, size: 0x10, kind: .mmio(RecordingMMIO())))
        XCTAssertThrowsError(try space.map("top", at: 0xFFFF_F000, size: 0x2000, kind: .mmio(RecordingMMIO())))
        XCTAssertThrowsError(try space.map("big", at: 0, size: 4 << 20, kind: .ram(offset: 0)), "past the end of RAM")
    }

    func testLookupsFindTheRightRegion() throws {
        let space = try makeSpace()
        try space.map("ram-low", at: 0, size: 0xA_0000, kind: .ram(offset: 0))
        try space.map("mmio", at: 0xFEE0_0000, size: 0x1000, kind: .mmio(RecordingMMIO()))
        XCTAssertEqual(space.region(at: 0x9_FFFF)?.name, "ram-low")
        XCTAssertNil(space.region(at: 0xA_0000))
        XCTAssertEqual(space.region(at: 0xFEE0_0FFF)?.name, "mmio")
        XCTAssertNil(space.region(at: 0xFEE0_1000))
        XCTAssertNotNil(space.hostPointer(at: 0x1234))
        XCTAssertNil(space.hostPointer(at: 0xFEE0_0000), "MMIO has no host pointer")
    }

    func testRAMReadsBackWhatWasWrittenLittleEndian() throws {
        let space = try makeSpace()
        try space.map("ram", at: 0, size: 0x10_0000, kind: .ram(offset: 0))
        space.write(0x1000, value: 0x1122_3344, size: .dword)
        XCTAssertEqual(space.read(0x1000, size: .byte), 0x44)
        XCTAssertEqual(space.read(0x1001, size: .word), 0x2233)
        XCTAssertEqual(space.read(0x1000, size: .dword), 0x1122_3344)
        XCTAssertEqual(space.ram.base.load(fromByteOffset: 0x1003, as: UInt8.self), 0x11)
    }

    func testMMIOSeesOffsetsInsideItsRegion() throws {
        let space = try makeSpace()
        let device = RecordingMMIO()
        try space.map("dev", at: 0xE000_0000, size: 0x2000, kind: .mmio(device))
        XCTAssertEqual(space.read(0xE000_1004, size: .dword), 0xA000_1004)
        space.write(0xE000_0010, value: 0xBEEF, size: .word)
        XCTAssertEqual(device.lastWrite?.offset, 0x10)
        XCTAssertEqual(device.lastWrite?.value, 0xBEEF)
        XCTAssertEqual(device.lastWrite?.size, .word)
    }

    func testROMIgnoresWritesAndNothingReadsAllOnes() throws {
        let space = try makeSpace()
        let storage = UnsafeMutableRawPointer.allocate(byteCount: 0x1000, alignment: 16)
        defer { storage.deallocate() }
        storage.initializeMemory(as: UInt8.self, repeating: 0x5A, count: 0x1000)
        try space.map("rom", at: 0xF_0000, size: 0x1000, kind: .rom(storage))
        space.write(0xF_0000, value: 0, size: .dword)
        XCTAssertEqual(space.read(0xF_0000, size: .dword), 0x5A5A_5A5A)
        XCTAssertEqual(space.read(0x5000_0000, size: .word), 0xFFFF)
    }

    func testAccessStraddlingTwoRegionsIsSplit() throws {
        let space = try makeSpace()
        try space.map("a", at: 0, size: 0x1000, kind: .ram(offset: 0))
        try space.map("b", at: 0x1000, size: 0x1000, kind: .ram(offset: 0x10_0000))
        space.write(0xFFE, value: 0xAABB_CCDD, size: .dword)
        XCTAssertEqual(space.read(0xFFE, size: .dword), 0xAABB_CCDD)
        XCTAssertEqual(space.ram.base.load(fromByteOffset: 0x10_0000, as: UInt8.self), 0xBB)
    }

    func testUnmapFreesTheRange() throws {
        let space = try makeSpace()
        let index = try space.map("bar", at: 0xE000_0000, size: 0x1000, kind: .mmio(RecordingMMIO()))
        space.unmap(index)
        XCTAssertNil(space.region(at: 0xE000_0000))
        XCTAssertNoThrow(try space.map("bar", at: 0xE000_0000, size: 0x1000, kind: .mmio(RecordingMMIO())))
    }

    func testAddressesPastFourGiBHoldNothingUntilMapped() throws {
        let space = try makeSpace()
        try space.map("ram", at: 0, size: 0x1000, kind: .ram(offset: 0))
        space.write(0x10, value: 0x5A, size: .byte)
        // The same low bits one and two 4 GiB further on: nothing is there, nothing wraps.
        for address: PhysicalAddress in [0x1_0000_0010, 0x2_0000_0010, AddressSpace.physicalLimit + 0x10, .max - 0xFFF] {
            XCTAssertNil(space.region(at: address))
            XCTAssertNil(space.hostPointer(at: address))
            XCTAssertEqual(space.backingKind(at: address), BackingKind.none)
            XCTAssertEqual(space.read(address, size: .dword), 0xFFFF_FFFF)
            space.write(address, value: 0, size: .byte)
        }
        XCTAssertEqual(space.read(0x10, size: .byte), 0x5A)
    }

    /// RAM split as the pc machine does it for -m 5G, scaled down: the block's
    /// first part low, its tail from 4 GiB up, one host block behind both.
    func testRAMAboveFourGiBIsTheTailOfTheSameBlock() throws {
        let space = try makeSpace(ramMiB: 4)
        try space.map("ram-low", at: 0, size: 0x10_0000, kind: .ram(offset: 0))
        try space.map("ram-above-4g", at: 0x1_0000_0000, size: 0x30_0000, kind: .ram(offset: 0x10_0000))
        XCTAssertEqual(space.region(at: 0x1_0000_0000)?.name, "ram-above-4g")
        XCTAssertEqual(space.region(at: 0x1_002F_FFFF)?.name, "ram-above-4g")
        XCTAssertNil(space.region(at: 0x1_0030_0000), "past its end")
        XCTAssertNil(space.region(at: 0xFFFF_F000), "below 4 GiB: the hole")
        XCTAssertEqual(space.backingKind(at: 0x1_0012_3456), .ram)
        XCTAssertEqual(space.hostPointer(at: 0x1_0012_3456), space.ram.base + 0x22_3456)
        space.write(0x1_0020_0000, value: 0xCAFE_F00D, size: .dword)
        XCTAssertEqual(space.ram.base.load(fromByteOffset: 0x30_0000, as: UInt32.self), 0xCAFE_F00D)
        XCTAssertEqual(space.read(0x1_0020_0001, size: .word), 0xFEF0)
        XCTAssertEqual(space.read(0x20_0000, size: .dword), 0xFFFF_FFFF, "nothing at the low alias")
        XCTAssertEqual(space.read(0x1_0030_0000, size: .dword), 0xFFFF_FFFF)
        // A dword over the end of the high RAM: its first byte in RAM, the rest nothing.
        space.write(0x1_002F_FFFF, value: 0x4433_2211, size: .dword)
        XCTAssertEqual(space.read(0x1_002F_FFFF, size: .dword), 0xFFFF_FF11)
    }

    func testHighRegionsMapUnmapAndAreCheckedLikeLowOnes() throws {
        let space = try makeSpace()
        let device = RecordingMMIO()
        let index = try space.map("bar64", at: 0x8_0000_0000, size: 0x2000, kind: .mmio(device))
        XCTAssertEqual(space.read(0x8_0000_1004, size: .dword), 0xA000_1004)
        XCTAssertNil(space.hostPointer(at: 0x8_0000_0000))
        XCTAssertEqual(space.backingKind(at: 0x8_0000_0000), .mmio)
        XCTAssertThrowsError(try space.map("over", at: 0x8_0000_1000, size: 0x1000, kind: .ram(offset: 0))) {
            XCTAssertTrue("\($0)".contains("overlaps bar64"), "\($0)")
        }
        space.unmap(index)
        XCTAssertNil(space.region(at: 0x8_0000_1004))
        XCTAssertEqual(space.read(0x8_0000_1004, size: .dword), 0xFFFF_FFFF)
        // The last page of the physical space can be mapped; past it, or across 4 GiB, nothing can.
        let top = AddressSpace.physicalLimit - 0x1000
        XCTAssertNoThrow(try space.map("top", at: top, size: 0x1000, kind: .ram(offset: 0)))
        XCTAssertEqual(space.region(at: AddressSpace.physicalLimit - 1)?.name, "top")
        try space.map("low", at: 0, size: 0x1000, kind: .ram(offset: 0x1000))
        space.write(0, value: 0x77, size: .byte)
        space.write(AddressSpace.physicalLimit - 2, value: 0x4433_2211, size: .dword)
        XCTAssertEqual(space.read(AddressSpace.physicalLimit - 2, size: .dword), 0xFFFF_2211, "nothing past the end")
        XCTAssertEqual(space.read(0, size: .byte), 0x77, "and no wrap to 0")
        XCTAssertThrowsError(try space.map("past", at: AddressSpace.physicalLimit, size: 0x1000, kind: .ram(offset: 0)))
        XCTAssertThrowsError(try space.map("huge", at: 0x1_0000_0000, size: .max & ~0xFFF, kind: .mmio(device)))
        XCTAssertThrowsError(try space.map("across", at: 0xFFFF_F000, size: 0x2000, kind: .mmio(device)))
        XCTAssertThrowsError(try space.map("big", at: 0x1_0000_0000, size: 4 << 20, kind: .ram(offset: 0)), "past the end of RAM")
    }

    func testGuestRAMRefusesMoreThanTheHostHas() {
        let tooMuch = Int(min(GuestRAM.hostMemoryBytes, 1 << 50)) + (1 << 30)
        XCTAssertThrowsError(try GuestRAM(size: tooMuch)) {
            XCTAssertTrue("\($0)".contains("more than the host's"), "\($0)")
        }
    }

    func testGuestRAMRefusesBadSizes() {
        XCTAssertThrowsError(try GuestRAM(size: 0))
        XCTAssertThrowsError(try GuestRAM(size: 1000))
    }
}

final class AddressSpaceListenerTests: XCTestCase {
    func testListenersHearEveryMapAndUnmapButNoRefusedMap() throws {
        let space = AddressSpace(ram: try GuestRAM(size: 1 << 20))
        var changes = 0
        space.addMapChangeListener { changes += 1 }
        let index = try space.map("ram", at: 0, size: 0x1000, kind: .ram(offset: 0))
        XCTAssertEqual(changes, 1)
        XCTAssertThrowsError(try space.map("again", at: 0, size: 0x1000, kind: .ram(offset: 0)))
        XCTAssertEqual(changes, 1)
        space.unmap(index)
        XCTAssertEqual(changes, 2)
        space.unmap(index)
        XCTAssertEqual(changes, 2, "nothing was there any more")
    }
}

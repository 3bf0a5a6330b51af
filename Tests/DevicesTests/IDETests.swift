import Foundation
import Memory
import Storage
import TestSupport
import XCTest
@testable import Devices

/// The PIIX3 IDE function driven through its ports as SeaBIOS and Linux's
/// ata_piix drive it: IDENTIFY, PIO and DMA reads and writes on a real image.
final class IDETests: XCTestCase {
    var harness: PortHarness!
    var directory: URL!
    var imagePath: String!
    var ide: PIIX3IDE!
    var irq14: LineProbe!
    var irq15: LineProbe!
    var ram: GuestRAM!
    var memory: AddressSpace!
    var written: [(UInt64, Int)] = []
    var pci: PCIBus!
    let sectors = 2048
    static let busMasterBase: UInt16 = 0xC000

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-ide")
        imagePath = directory.appendingPathComponent("disk.raw").path
        var bytes = [UInt8](repeating: 0, count: sectors * 512)
        for sector in 0..<sectors {
            for i in 0..<512 { bytes[sector * 512 + i] = UInt8(truncatingIfNeeded: sector &* 7 &+ i) }
        }
        FileManager.default.createFile(atPath: imagePath, contents: Data(bytes))
        try build(master: DiskImage.open(path: imagePath, format: .raw, readOnly: false))
    }

    func build(master: BlockImage) throws {
        harness = PortHarness()
        irq14 = LineProbe()
        irq15 = LineProbe()
        ram = try GuestRAM(size: 1 << 20)
        memory = AddressSpace(ram: ram)
        try memory.map("ram", at: 0, size: 1 << 20, kind: .ram(offset: 0))
        let primary = IDEChannel(name: "ide0", irq: irq14.line)
        primary.connect(ATADrive(image: master, serial: "QM00001"), at: 0)
        let secondary = IDEChannel(name: "ide1", irq: irq15.line)
        ide = PIIX3IDE(primary: primary, secondary: secondary, memory: memory) { [unowned self] in self.written.append(($0, $1)) }
        pci = PCIBus()
        try pci.attach(to: harness.bus)
        try pci.plug(I440FX(), slot: 0)
        try pci.plug(PIIX3(setISAIRQ: { _, _ in }), slot: 1)
        try pci.plug(ide, slot: 1, function: 1)
        try ide.attach(to: harness.bus)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Guest-side helpers

    func status() -> UInt8 { harness.inb(0x1F7) }

    func command(_ command: UInt8, lba: UInt32, count: UInt8, device: UInt8 = 0xE0) {
        harness.out(0x1F6, device | UInt8((lba >> 24) & 0x0F))
        harness.out(0x1F2, count)
        harness.out(0x1F3, UInt8(truncatingIfNeeded: lba))
        harness.out(0x1F4, UInt8(truncatingIfNeeded: lba >> 8))
        harness.out(0x1F5, UInt8(truncatingIfNeeded: lba >> 16))
        harness.out(0x1F7, command)
    }

    func readSector() -> [UInt8] {
        (0..<256).flatMap { _ -> [UInt8] in
            let word = harness.inw(0x1F0)
            return [UInt8(truncatingIfNeeded: word), UInt8(word >> 8)]
        }
    }

    func expectedSector(_ sector: Int) -> [UInt8] { (0..<512).map { UInt8(truncatingIfNeeded: sector &* 7 &+ $0) } }

    func fileSector(_ sector: Int) -> [UInt8] {
        Array(FileManager.default.contents(atPath: imagePath)![(sector * 512)..<(sector * 512 + 512)])
    }

    // MARK: Tests

    func testPCIFunctionIdentifiesAsPIIX3IDE() {
        XCTAssertEqual(harness.pciReadl(slot: 1, function: 1, 0x00), 0x7010_8086)
        XCTAssertEqual(harness.pciReadl(slot: 1, function: 1, 0x08) >> 8, 0x01_01_80)
        XCTAssertEqual(harness.pciReadw(slot: 1, function: 1, 0x40) & 0x8000, 0x8000)
        XCTAssertEqual(harness.pciReadw(slot: 1, function: 1, 0x42) & 0x8000, 0x8000)
        harness.pciWritel(slot: 1, function: 1, 0x20, 0xFFFF_FFFF)
        XCTAssertEqual(harness.pciReadl(slot: 1, function: 1, 0x20), 0xFFFF_FFF1, "BAR4 is 16 I/O ports")
    }

    func testIdentifyDevice() {
        XCTAssertEqual(status(), 0x50)
        command(0xEC, lba: 0, count: 0, device: 0xA0)
        XCTAssertTrue(irq14.level)
        XCTAssertEqual(harness.inb(0x3F6), 0x58, "alternate status leaves the interrupt")
        XCTAssertTrue(irq14.level)
        XCTAssertEqual(status(), 0x58)
        XCTAssertFalse(irq14.level, "reading status acknowledges")
        let data = readSector()
        XCTAssertEqual(status(), 0x50)
        func word(_ i: Int) -> Int { Int(data[2 * i]) | Int(data[2 * i + 1]) << 8 }
        let model = String(decoding: (27..<47).flatMap { [UInt8(word($0) >> 8), UInt8(word($0) & 0xFF)] }, as: UTF8.self)
        XCTAssertEqual(model.trimmingCharacters(in: .whitespaces), "PCEmu HARDDISK")
        XCTAssertEqual(word(60) | word(61) << 16, sectors)
        XCTAssertEqual(word(100), sectors)
        XCTAssertEqual(word(49) & 0x300, 0x300, "LBA and DMA")
        XCTAssertEqual(word(83) & 0x400, 0x400, "LBA48")
        XCTAssertEqual([word(1), word(3), word(6)], [2, 16, 63])
    }

    func testAbsentSlaveReadsZeroAndIgnoresCommands() {
        harness.out(0x1F6, 0xB0)
        XCTAssertEqual(status(), 0)
        harness.out(0x1F7, 0xEC)
        XCTAssertFalse(irq14.level)
        XCTAssertEqual(harness.inb(0x177), 0, "the empty secondary channel")
    }

    func testPIOReadSectorsOneInterruptPerSector() {
        command(0x20, lba: 100, count: 3)
        for sector in 100..<103 {
            XCTAssertTrue(irq14.level)
            XCTAssertEqual(status(), 0x58)
            XCTAssertEqual(readSector(), expectedSector(sector))
        }
        XCTAssertEqual(status(), 0x50)
        XCTAssertEqual(irq14.risingEdges, 3)
        XCTAssertEqual(harness.inb(0x1F3), 102, "the task file names the last sector")
    }

    func testThirtyTwoBitDataReads() {
        command(0x20, lba: 5, count: 1)
        let data = (0..<128).flatMap { _ -> [UInt8] in
            let value = harness.inl(0x1F0)
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }
        XCTAssertEqual(data, expectedSector(5))
    }

    func testPIOWriteSectorsReachesTheImage() {
        command(0x30, lba: 7, count: 2)
        XCTAssertFalse(irq14.level, "no interrupt before the first block")
        XCTAssertEqual(harness.inb(0x3F6), 0x58)
        for value in [UInt16(0x1234), 0xBEEF] {
            for _ in 0..<256 { harness.outw(0x1F0, value) }
            XCTAssertTrue(irq14.level)
            _ = status()
        }
        XCTAssertEqual(status(), 0x50)
        harness.out(0x1F7, 0xE7)  // FLUSH CACHE
        XCTAssertEqual(status(), 0x50)
        XCTAssertEqual(fileSector(7), [UInt8](repeating: 0, count: 256).flatMap { _ in [0x34, 0x12] })
        XCTAssertEqual(fileSector(8), [UInt8](repeating: 0, count: 256).flatMap { _ in [0xEF, 0xBE] })
        XCTAssertEqual(fileSector(9), expectedSector(9))
    }

    func testReadMultipleAfterSetMultiple() {
        command(0xC4, lba: 0, count: 8)
        XCTAssertEqual(status() & 0x05, 0x01, "READ MULTIPLE before SET MULTIPLE aborts")
        XCTAssertEqual(harness.inb(0x1F1), 0x04)
        command(0xC6, lba: 0, count: 4)
        XCTAssertEqual(status(), 0x50)
        let edges = irq14.risingEdges
        command(0xC4, lba: 10, count: 10)
        for block in 0..<3 {
            XCTAssertEqual(status(), 0x58)
            for sector in (10 + 4 * block)..<min(20, 14 + 4 * block) { XCTAssertEqual(readSector(), expectedSector(sector)) }
        }
        XCTAssertEqual(status(), 0x50)
        XCTAssertEqual(irq14.risingEdges - edges, 3)
        command(0xC6, lba: 0, count: 3)
        XCTAssertEqual(status() & 0x01, 0x01, "not a power of two")
    }

    func testSectorsPastTheEndFailWithIDNotFound() {
        command(0x20, lba: UInt32(sectors - 1), count: 2)
        XCTAssertEqual(status(), 0x51)
        XCTAssertEqual(harness.inb(0x1F1), 0x10)
        XCTAssertTrue(readSector().allSatisfy { $0 == 0xFF }, "no data offered")
    }

    func testCHSAddressing() {
        // Cylinder 1, head 2, sector 3 with 16 heads and 63 sectors: LBA (1*16+2)*63+2.
        harness.out(0x1F6, 0xA2)
        harness.out(0x1F2, 1)
        harness.out(0x1F3, 3)
        harness.out(0x1F4, 1)
        harness.out(0x1F5, 0)
        harness.out(0x1F7, 0x20)
        XCTAssertEqual(readSector(), expectedSector((1 * 16 + 2) * 63 + 2))
    }

    func testLBA48ReachesPast128GiB() throws {
        let sparse = directory.appendingPathComponent("big.raw").path
        let lba: UInt64 = 0x1_2345_6789
        FileManager.default.createFile(atPath: sparse, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: sparse))
        try handle.truncate(atOffset: (lba + 16) * 512)
        try handle.seek(toOffset: lba * 512)
        try handle.write(contentsOf: Data(expectedSector(42)))
        try handle.close()
        try build(master: DiskImage.open(path: sparse, format: .raw, readOnly: false))
        harness.out(0x1F6, 0x40)
        func byte(_ shift: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: lba >> shift) }
        for (register, high, low) in [(UInt16(0x1F2), UInt8(0), UInt8(1)), (0x1F3, byte(24), byte(0)),
                                      (0x1F4, byte(32), byte(8)), (0x1F5, byte(40), byte(16))] {
            harness.out(register, high)
            harness.out(register, low)
        }
        harness.out(0x1F7, 0x24)  // READ SECTORS EXT
        XCTAssertEqual(status(), 0x58)
        XCTAssertEqual(readSector(), expectedSector(42))
        harness.out(0x3F6, 0x80)  // HOB
        XCTAssertEqual(harness.inb(0x1F3), byte(24))
        XCTAssertEqual(harness.inb(0x1F4), byte(32))
        harness.out(0x3F6, 0x00)
        XCTAssertEqual(harness.inb(0x1F3), byte(0))
    }

    func testSoftwareResetLeavesTheDiskSignature() {
        command(0x20, lba: 0, count: 1)
        harness.out(0x3F6, 0x04)
        XCTAssertEqual(harness.inb(0x3F6) & 0x80, 0x80)
        harness.out(0x3F6, 0x00)
        XCTAssertEqual(status(), 0x50)
        XCTAssertEqual([0x1F2, 0x1F3, 0x1F4, 0x1F5].map { harness.inb($0) }, [1, 1, 0, 0])
        XCTAssertEqual(harness.inb(0x1F1), 0x01)
    }

    func testInterruptDisableHoldsTheLineLow() {
        harness.out(0x3F6, 0x02)
        command(0xEC, lba: 0, count: 0, device: 0xA0)
        XCTAssertFalse(irq14.level)
        harness.out(0x3F6, 0x00)
        XCTAssertTrue(irq14.level, "the pending interrupt shows once enabled")
    }

    // MARK: DMA

    func enableBusMaster() {
        harness.pciWritel(slot: 1, function: 1, 0x20, UInt32(IDETests.busMasterBase))
        harness.pciWritew(slot: 1, function: 1, 0x04, 0x0005)
    }

    /// Writes a PRD table at 0x1000 describing `segments`.
    func writePRDs(_ segments: [(address: UInt32, count: Int)]) {
        for (i, segment) in segments.enumerated() {
            let entry = 0x1000 + UInt32(i) * 8
            memory.write(UInt64(entry), value: segment.address, size: .dword)
            let end: UInt32 = i == segments.count - 1 ? 0x8000_0000 : 0
            memory.write(UInt64(entry) + 4, value: UInt32(segment.count & 0xFFFF) | end, size: .dword)
        }
        harness.outl(IDETests.busMasterBase + 4, 0x1000)
    }

    func guestBytes(_ address: Int, _ count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: ram.uncheckedPointer(at: address), count: count))
    }

    func testDMAReadScattersAcrossThePRDTable() {
        enableBusMaster()
        writePRDs([(0x20000, 1024), (0x30000, 512), (0x40000, 1536)])
        command(0xC8, lba: 50, count: 6)    // READ DMA
        XCTAssertFalse(irq14.level, "nothing happens before the bus master starts")
        harness.out(IDETests.busMasterBase, 0x09)  // start, device to memory
        XCTAssertTrue(irq14.level)
        XCTAssertEqual(harness.inb(IDETests.busMasterBase + 2) & 0x07, 0x04, "interrupt, inactive at the table's end")
        harness.out(IDETests.busMasterBase, 0x08)
        XCTAssertEqual(status(), 0x50)
        XCTAssertEqual(guestBytes(0x20000, 1024), expectedSector(50) + expectedSector(51))
        XCTAssertEqual(guestBytes(0x30000, 512), expectedSector(52))
        XCTAssertEqual(guestBytes(0x40000, 1536), expectedSector(53) + expectedSector(54) + expectedSector(55))
        XCTAssertEqual(written.map { $0.1 }.reduce(0, +), 3072, "the CPU hears of every byte written")
        harness.out(IDETests.busMasterBase + 2, 0x04)
        XCTAssertEqual(harness.inb(IDETests.busMasterBase + 2) & 0x04, 0, "interrupt bit cleared by writing one")
    }

    func testDMAWriteGathersFromMemory() {
        enableBusMaster()
        for i in 0..<1024 { ram.uncheckedPointer(at: 0x50000 + i).storeBytes(of: UInt8(i % 251), as: UInt8.self) }
        writePRDs([(0x50000, 1024)])
        harness.out(IDETests.busMasterBase, 0x00)  // memory to device
        harness.out(0x1F6, 0x40)
        for register in [UInt16(0x1F2), 0x1F3, 0x1F4, 0x1F5] { harness.out(register, 0) }
        harness.out(0x1F2, 2); harness.out(0x1F3, 9)
        harness.out(0x1F7, 0x35)  // WRITE DMA EXT
        harness.out(IDETests.busMasterBase, 0x01)
        XCTAssertTrue(irq14.level)
        XCTAssertEqual(status(), 0x50)
        XCTAssertEqual(fileSector(9) + fileSector(10), (0..<1024).map { UInt8($0 % 251) })
    }

    func testShortPRDTableAbortsTheCommand() {
        enableBusMaster()
        writePRDs([(0x20000, 512)])
        command(0xC8, lba: 0, count: 2)
        harness.out(IDETests.busMasterBase, 0x09)
        XCTAssertEqual(status() & 0x01, 0x01)
        XCTAssertEqual(harness.inb(IDETests.busMasterBase + 2) & 0x03, 0x02, "error, not active")
    }

    func testReadOnlyImageRefusesWrites() throws {
        try build(master: DiskImage.open(path: imagePath, format: .raw, readOnly: true))
        command(0x30, lba: 0, count: 1)
        XCTAssertEqual(status(), 0x51)
        XCTAssertEqual(harness.inb(0x1F1), 0x04)
    }
}

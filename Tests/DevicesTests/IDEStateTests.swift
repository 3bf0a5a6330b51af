import Foundation
import Lifecycle
import Memory
import Storage
import TestSupport
import XCTest
@testable import Devices

/// The PIIX3 IDE function saved mid-transfer (a PIO READ MULTIPLE half
/// read, a READ DMA waiting for the bus master) and loaded into a fresh
/// function on the same disk: the guest reads the same data, the bus master
/// ports are where BAR4 says, the DMA lands in the same memory.
final class IDEStateTests: XCTestCase {
    static let busMaster: UInt16 = 0xC000
    var directory: URL!
    var imagePath: String!
    let sectors = 1024

    final class Rig {
        let harness = PortHarness()
        let irq14 = LineProbe(), irq15 = LineProbe()
        let ram = try! GuestRAM(size: 1 << 20)
        let memory: AddressSpace
        let pci = PCIBus()
        let ide: PIIX3IDE

        init(disk: BlockImage, cdrom: BlockImage?) {
            memory = AddressSpace(ram: ram)
            try! memory.map("ram", at: 0, size: 1 << 20, kind: .ram(offset: 0))
            let primary = IDEChannel(name: "ide0", irq: irq14.line)
            primary.connect(ATADrive(image: disk, serial: "QM00001"), at: 0)
            let secondary = IDEChannel(name: "ide1", irq: irq15.line)
            secondary.connect(ATAPIDrive(medium: cdrom, serial: "QM00003"), at: 0)
            ide = PIIX3IDE(primary: primary, secondary: secondary, memory: memory) { _, _ in }
            try! pci.attach(to: harness.bus)
            try! pci.plug(ide, slot: 1, function: 1)
            try! ide.attach(to: harness.bus)
        }

        func command(_ command: UInt8, lba: UInt32, count: UInt8) {
            for (port, byte) in [(0x1F6, 0xE0 | UInt8(lba >> 24)), (0x1F2, count), (0x1F3, UInt8(truncatingIfNeeded: lba)),
                                 (0x1F4, UInt8(truncatingIfNeeded: lba >> 8)), (0x1F5, UInt8(truncatingIfNeeded: lba >> 16)),
                                 (0x1F7, command)] as [(UInt16, UInt8)] {
                harness.out(port, byte)
            }
        }

        func readWords(_ count: Int) -> [UInt16] { (0..<count).map { _ in harness.inw(0x1F0) } }
        func guestBytes(_ address: Int, _ count: Int) -> [UInt8] {
            Array(UnsafeRawBufferPointer(start: ram.uncheckedPointer(at: address), count: count))
        }
        var registers: [UInt8] { [0x1F1, 0x1F2, 0x1F3, 0x1F4, 0x1F5, 0x1F6, 0x3F6, 0x171, 0x176, 0x376].map { harness.inb($0) } }
    }

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-ide-state")
        imagePath = directory.appendingPathComponent("disk.raw").path
        let bytes = (0..<sectors * 512).map { UInt8(truncatingIfNeeded: $0 / 512 &* 13 &+ $0) }
        FileManager.default.createFile(atPath: imagePath, contents: Data(bytes))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func makeRig() throws -> Rig {
        Rig(disk: try DiskImage.open(path: imagePath, format: .raw, readOnly: true), cdrom: nil)
    }

    func copy(of rig: Rig) throws -> Rig {
        let saved = try StateRecordCodec.decode(StateRecordCodec.encode(rig.pci.savedState()))
        let copy = try makeRig()
        try copy.pci.loadState(saved)
        XCTAssertEqual(copy.pci.savedState(), rig.pci.savedState())
        XCTAssertEqual(copy.registers, rig.registers)
        XCTAssertEqual(copy.irq14.level, rig.irq14.level)
        return copy
    }

    func testPIOAndDMATransfersGoOnAfterALoad() throws {
        let rig = try makeRig()
        rig.harness.pciWritel(slot: 1, function: 1, 0x20, UInt32(IDEStateTests.busMaster))
        rig.harness.pciWritew(slot: 1, function: 1, 0x04, 0x0005)
        rig.command(0xC6, lba: 0, count: 8)  // SET MULTIPLE MODE: 8 sectors a block
        _ = rig.harness.inb(0x1F7)
        rig.command(0xC4, lba: 100, count: 20)  // READ MULTIPLE
        let before = rig.readWords(3000)  // into the second block
        XCTAssertEqual(rig.harness.inb(0x3F6) & 0x08, 0x08, "DRQ: more to read")

        let pio = try copy(of: rig)
        let rest = rig.readWords(20 * 256 - 3000)
        XCTAssertEqual(pio.readWords(20 * 256 - 3000), rest)
        let data = (before + rest).flatMap { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)] }
        let expected = (100 * 512..<120 * 512).map { UInt8(truncatingIfNeeded: $0 / 512 &* 13 &+ $0) }
        XCTAssertEqual(data, expected)
        XCTAssertEqual(pio.harness.inb(0x1F7), rig.harness.inb(0x1F7))

        // READ DMA set up, the bus master not yet started.
        for address: UInt32 in [0x1000] {
            rig.memory.write(UInt64(address), value: 0x20000, size: .dword)
            rig.memory.write(UInt64(address) + 4, value: 0x8000_0000 | 2048, size: .dword)
        }
        rig.harness.outl(IDEStateTests.busMaster + 4, 0x1000)
        rig.command(0xC8, lba: 7, count: 4)
        let dma = try copy(of: rig)
        dma.memory.write(0x1000, value: 0x20000, size: .dword)  // RAM is not the IDE's to save
        dma.memory.write(0x1004, value: 0x8000_0000 | 2048, size: .dword)
        XCTAssertEqual(dma.harness.inl(IDEStateTests.busMaster + 4), 0x1000, "BAR4's ports are mapped")
        for target in [rig, dma] { target.harness.out(IDEStateTests.busMaster, 0x09) }
        XCTAssertTrue(dma.irq14.level)
        XCTAssertEqual(dma.guestBytes(0x20000, 2048), rig.guestBytes(0x20000, 2048))
        XCTAssertEqual(dma.guestBytes(0x20000, 2048), (7 * 512..<11 * 512).map { UInt8(truncatingIfNeeded: $0 / 512 &* 13 &+ $0) })
        XCTAssertEqual(dma.harness.inb(IDEStateTests.busMaster + 2), rig.harness.inb(IDEStateTests.busMaster + 2))
    }

    func testADamagedRecordOrAnotherDiskIsRefusedAndChangesNothing() throws {
        let rig = try makeRig()
        rig.command(0x20, lba: 5, count: 2)  // READ SECTORS
        _ = rig.readWords(10)
        let saved = rig.pci.savedState()
        let target = try makeRig()
        target.command(0xEC, lba: 0, count: 0)  // IDENTIFY, unread
        let before = target.pci.savedState(), registers = target.registers

        func damaged(_ change: (inout StateRecord) -> Void) -> StateRecord {
            var function = try! saved.record("01.1")
            var channels = try! function.records("channels")
            var disk = try! channels[0].record("device0")
            change(&disk)
            channels[0].put("device0", disk)
            function.put("channels", channels)
            var bus = saved
            bus.put("01.1", function)
            return bus
        }
        XCTAssertThrowsError(try target.pci.loadState(damaged { $0.put("sectorCount", UInt64(4096)) })) {
            XCTAssertEqual($0 as? StateRecordError, .configurationMismatch(record: "ata-disk", reason: "a disk of 4096 sectors, this one has 1024"))
        }
        XCTAssertThrowsError(try target.pci.loadState(damaged { $0.put("bufferPosition", 600) })) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "ata-disk", field: "bufferPosition"))
        }
        XCTAssertThrowsError(try target.pci.loadState(damaged { $0.put("transferLBA", UInt64(1020)); $0.put("transferRemaining", 10) })) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "ata-disk", field: "transferLBA"))
        }
        XCTAssertThrowsError(try target.pci.loadState(damaged { $0.put("multipleSectors", 3) }))
        var withCD = saved
        var function = try saved.record("01.1")
        var channels = try function.records("channels")
        var cdrom = try channels[1].record("device0")
        cdrom.put("hasMedium", true)
        channels[1].put("device0", cdrom)
        function.put("channels", channels)
        withCD.put("01.1", function)
        XCTAssertThrowsError(try target.pci.loadState(withCD)) {
            XCTAssertEqual($0 as? StateRecordError, .configurationMismatch(record: "atapi-cdrom", reason: "a disc was in, none is here"))
        }
        XCTAssertEqual(target.pci.savedState(), before)
        XCTAssertEqual(target.registers, registers)
        XCTAssertEqual(target.harness.inb(0x3F6) & 0x08, 0x08, "IDENTIFY's data still waits to be read")
    }
}

import Foundation
import Memory
import Storage
import TestSupport
import XCTest
@testable import Devices

/// The CD-ROM at the secondary master, driven with PACKET commands the way
/// SeaBIOS (PIO, one block per DRQ) and Linux's sr (DMA, MMC queries) do.
final class ATAPITests: XCTestCase {
    var harness: PortHarness!
    var directory: URL!
    var drive: ATAPIDrive!
    var irq15: LineProbe!
    var ram: GuestRAM!
    var memory: AddressSpace!
    var pci: PCIBus!
    var ide: PIIX3IDE!
    let blocks = 40
    static let busMasterBase: UInt16 = 0xC000

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-atapi")
        let path = directory.appendingPathComponent("disc.iso").path
        var bytes = [UInt8](repeating: 0, count: blocks * 2048)
        for block in 0..<blocks { for i in 0..<2048 { bytes[block * 2048 + i] = UInt8(truncatingIfNeeded: block * 3 + i / 7) } }
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        harness = PortHarness()
        irq15 = LineProbe()
        ram = try GuestRAM(size: 1 << 20)
        memory = AddressSpace(ram: ram)
        try memory.map("ram", at: 0, size: 1 << 20, kind: .ram(offset: 0))
        drive = ATAPIDrive(medium: try DiskImage.open(path: path, format: .raw, readOnly: true), serial: "QM00003")
        let secondary = IDEChannel(name: "ide1", irq: irq15.line)
        secondary.connect(drive, at: 0)
        ide = PIIX3IDE(primary: IDEChannel(name: "ide0", irq: .unconnected()), secondary: secondary, memory: memory) { _, _ in }
        pci = PCIBus()
        try pci.attach(to: harness.bus)
        try pci.plug(ide, slot: 1, function: 1)
        try ide.attach(to: harness.bus)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func expectedBlock(_ block: Int) -> [UInt8] { (0..<2048).map { UInt8(truncatingIfNeeded: block * 3 + $0 / 7) } }

    func status() -> UInt8 { harness.inb(0x177) }

    /// Issues PACKET with `packet` (padded to 12 bytes) and a byte count limit.
    func sendPacket(_ packet: [UInt8], limit: UInt16 = 2048, dma: Bool = false) {
        harness.out(0x176, 0xA0)
        harness.out(0x171, dma ? 1 : 0)
        harness.out(0x174, UInt8(limit & 0xFF))
        harness.out(0x175, UInt8(limit >> 8))
        harness.out(0x177, 0xA0)
        XCTAssertEqual(harness.inb(0x376) & 0x88, 0x08, "DRQ for the packet")
        XCTAssertEqual(harness.inb(0x172) & 0x03, 0x01, "CoD: the device wants the command")
        let bytes = packet + [UInt8](repeating: 0, count: 12 - packet.count)
        for i in 0..<6 { harness.outw(0x170, UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8) }
    }

    /// Reads every PIO chunk the device offers, as SeaBIOS does.
    func readReply() -> [UInt8] {
        var data: [UInt8] = []
        while status() & 0x08 != 0 {
            XCTAssertEqual(harness.inb(0x172) & 0x03, 0x02, "IO: data to the host")
            let count = Int(harness.inb(0x174)) | Int(harness.inb(0x175)) << 8
            for _ in 0..<(count / 2) {
                let word = harness.inw(0x170)
                data += [UInt8(truncatingIfNeeded: word), UInt8(word >> 8)]
            }
        }
        return data
    }

    func testSignatureAndIdentifyPacketDevice() {
        harness.out(0x176, 0xA0)
        XCTAssertEqual([0x172, 0x173, 0x174, 0x175].map { harness.inb($0) }, [1, 1, 0x14, 0xEB])
        harness.out(0x177, 0xEC)
        XCTAssertEqual(status() & 0x01, 0x01, "IDENTIFY DEVICE is refused")
        harness.out(0x177, 0xA1)
        XCTAssertTrue(irq15.level)
        XCTAssertEqual(status(), 0x58)
        let words = (0..<256).map { _ in harness.inw(0x170) }
        XCTAssertEqual(words[0] >> 14, 2, "ATAPI")
        XCTAssertEqual((words[0] >> 8) & 0x1F, 5, "CD-ROM")
        XCTAssertEqual(words[49] & 0x100, 0x100, "DMA")
    }

    func testTestUnitReadyInquiryAndCapacity() {
        sendPacket([0x00])
        XCTAssertEqual(status(), 0x50)
        XCTAssertEqual(harness.inb(0x172) & 0x03, 0x03, "status phase")
        sendPacket([0x12, 0, 0, 0, 36])
        let inquiry = readReply()
        XCTAssertEqual(inquiry.count, 36)
        XCTAssertEqual(inquiry[0], 0x05)
        XCTAssertEqual(String(decoding: inquiry[8..<16], as: UTF8.self), "PCEmu   ")
        sendPacket([0x25])
        XCTAssertEqual(readReply(), [0, 0, 0, UInt8(blocks - 1), 0, 0, 0x08, 0])
    }

    func testRead10InByteCountLimitedChunks() {
        sendPacket([0x28, 0, 0, 0, 0, 5, 0, 0, 3], limit: 1024)
        var chunks = 0
        var data: [UInt8] = []
        while status() & 0x08 != 0 {
            chunks += 1
            let count = Int(harness.inb(0x174)) | Int(harness.inb(0x175)) << 8
            XCTAssertEqual(count, 1024)
            for _ in 0..<(count / 2) {
                let word = harness.inw(0x170)
                data += [UInt8(truncatingIfNeeded: word), UInt8(word >> 8)]
            }
        }
        XCTAssertEqual(chunks, 6)
        XCTAssertEqual(data, expectedBlock(5) + expectedBlock(6) + expectedBlock(7))
        XCTAssertEqual(status(), 0x50)
    }

    func testRead12PastTheEndIsIllegalRequest() {
        sendPacket([0xA8, 0, 0, 0, 0, UInt8(blocks - 1), 0, 0, 0, 2])
        XCTAssertEqual(status(), 0x51)
        XCTAssertEqual(harness.inb(0x171) >> 4, 0x05)
        sendPacket([0x03, 0, 0, 0, 18])
        let sense = readReply()
        XCTAssertEqual(sense[2], 0x05)
        XCTAssertEqual(sense[12], 0x21)
    }

    func testReadTOCInLBAAndMSF() {
        sendPacket([0x43, 0, 0, 0, 0, 0, 0, 0, 20])
        let toc = readReply()
        XCTAssertEqual(toc.count, 20)
        XCTAssertEqual(Array(toc[0..<4]), [0, 18, 1, 1])
        XCTAssertEqual(Array(toc[4..<12]), [0, 0x14, 1, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(toc[12..<20]), [0, 0x16, 0xAA, 0, 0, 0, 0, UInt8(blocks)])
        sendPacket([0x43, 0x02, 0, 0, 0, 0, 0, 0, 12])
        XCTAssertEqual(Array(readReply()[8..<12]), [0, 0, 2, 0], "track 1 at 00:02:00")
        sendPacket([0x43, 0, 1, 0, 0, 0, 0, 0, 12])
        XCTAssertEqual(Array(readReply()[0..<4]), [0, 0x0A, 1, 1])
    }

    func testConfigurationModeSenseAndEvents() {
        sendPacket([0x46, 0, 0, 0, 0, 0, 0, 0, 16])
        let configuration = readReply()
        XCTAssertEqual(Array(configuration[6..<8]), [0, 8], "current profile CD-ROM")
        sendPacket([0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 30])
        let page = readReply()
        XCTAssertEqual(page[8], 0x2A)
        XCTAssertEqual(page[9], 20)
        sendPacket([0x5A, 0, 0x05, 0, 0, 0, 0, 0, 30])
        XCTAssertEqual(status() & 0x01, 0x01, "unknown page")
        sendPacket([0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8])
        XCTAssertEqual(readReply(), [0, 6, 4, 0x10, 0, 0x02, 0, 0])
    }

    func testMediumChangeIsReportedOnce() {
        drive.change(medium: nil)
        sendPacket([0x00])
        XCTAssertEqual(harness.inb(0x171) >> 4, 0x06, "UNIT ATTENTION")
        sendPacket([0x03, 0, 0, 0, 18])
        XCTAssertEqual(readReply()[12], 0x28)
        sendPacket([0x00])
        XCTAssertEqual(harness.inb(0x171) >> 4, 0x02, "NOT READY: no disc")
        sendPacket([0x03, 0, 0, 0, 18])
        XCTAssertEqual(readReply()[12], 0x3A)
    }

    func testDMARead() {
        harness.pciWritel(slot: 1, function: 1, 0x20, UInt32(ATAPITests.busMasterBase))
        harness.pciWritew(slot: 1, function: 1, 0x04, 0x0005)
        memory.write(0x1000, value: 0x20000, size: .dword)
        memory.write(0x1004, value: 0x8000_0000 | 4096, size: .dword)
        harness.outl(ATAPITests.busMasterBase + 8 + 4, 0x1000)
        harness.out(ATAPITests.busMasterBase + 8, 0x08)
        sendPacket([0x28, 0, 0, 0, 0, 9, 0, 0, 2], dma: true)
        harness.out(ATAPITests.busMasterBase + 8, 0x09)
        XCTAssertTrue(irq15.level)
        XCTAssertEqual(status(), 0x50)
        XCTAssertEqual(harness.inb(ATAPITests.busMasterBase + 10) & 0x05, 0x04)
        let data = Array(UnsafeRawBufferPointer(start: ram.uncheckedPointer(at: 0x20000), count: 4096))
        XCTAssertEqual(data, expectedBlock(9) + expectedBlock(10))
    }

    func testUnknownCommandIsIllegalRequest() {
        sendPacket([0xFF])
        XCTAssertEqual(status(), 0x51)
        XCTAssertEqual(harness.inb(0x171) >> 4, 0x05)
    }
}

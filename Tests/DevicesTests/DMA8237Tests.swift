import XCTest
import Memory
@testable import Devices

final class DMA8237Tests: XCTestCase {
    var harness: PortHarness!
    var ram: GuestRAM!
    var memory: AddressSpace!
    var dma: DMA8237!

    override func setUp() {
        harness = PortHarness()
        ram = try! GuestRAM(size: 1 << 20)
        memory = AddressSpace(ram: ram)
        try! memory.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        dma = DMA8237(memory: memory)
        try! dma.attach(to: harness.bus)
        // What SeaBIOS does at boot: master clear both, channel 4 cascade, unmasked.
        harness.out(0x0D, 0)
        harness.out(0xDA, 0)
        harness.out(0xD6, 0xC0)
        harness.out(0xD4, 0x00)
    }

    /// Linux's floppy/SB sequence for an 8-bit channel: mask, clear flip-flop,
    /// mode, address, page, count, unmask.
    func program8(channel: UInt8, mode: UInt8, address: UInt32, count: Int) {
        let pagePorts: [UInt16] = [0x87, 0x83, 0x81, 0x82]
        harness.out(0x0A, 0x04 | channel)
        harness.out(0x0C, 0)
        harness.out(0x0B, mode | channel)
        harness.out(UInt16(channel) * 2, UInt8(address & 0xFF))
        harness.out(UInt16(channel) * 2, UInt8((address >> 8) & 0xFF))
        harness.out(pagePorts[Int(channel)], UInt8(address >> 16))
        harness.out(UInt16(channel) * 2 + 1, UInt8((count - 1) & 0xFF))
        harness.out(UInt16(channel) * 2 + 1, UInt8((count - 1) >> 8))
        harness.out(0x0A, channel)
    }

    /// The same for a 16-bit channel (4-7): byte address and count in bytes,
    /// programmed as words.
    func program16(channel: UInt8, mode: UInt8, address: UInt32, bytes: Int) {
        let pagePorts: [UInt16] = [0x8F, 0x8B, 0x89, 0x8A]
        let index = channel - 4
        let words = bytes / 2
        harness.out(0xD4, 0x04 | index)
        harness.out(0xD8, 0)
        harness.out(0xD6, mode | index)
        let wordAddress = (address >> 1) & 0xFFFF
        harness.out(0xC0 + UInt16(index) * 4, UInt8(wordAddress & 0xFF))
        harness.out(0xC0 + UInt16(index) * 4, UInt8(wordAddress >> 8))
        harness.out(pagePorts[Int(index)], UInt8((address >> 16) & 0xFE))
        harness.out(0xC2 + UInt16(index) * 4, UInt8((words - 1) & 0xFF))
        harness.out(0xC2 + UInt16(index) * 4, UInt8((words - 1) >> 8))
        harness.out(0xD4, index)
    }

    func ramBytes(at address: Int, count: Int) -> [UInt8] {
        (0..<count).map { ram.uncheckedPointer(at: address + $0).load(as: UInt8.self) }
    }

    func fillRAM(at address: Int, _ bytes: [UInt8]) {
        try! bytes.withUnsafeBytes { try ram.load($0, at: address) }
    }

    func write(channel: Int, _ bytes: [UInt8]) -> DMA8237.Transfer {
        bytes.withUnsafeBytes { dma.writeToMemory(channel: channel, from: $0) }
    }

    func read(channel: Int, count: Int) -> ([UInt8], DMA8237.Transfer) {
        var buffer = [UInt8](repeating: 0, count: count)
        let result = buffer.withUnsafeMutableBytes { dma.readFromMemory(channel: channel, into: $0) }
        return (Array(buffer.prefix(result.bytes)), result)
    }

    func testWriteTransferFillsMemoryAndStopsAtTerminalCount() {
        // Floppy read of 512 bytes to 0x12340 on channel 2, single mode, write.
        program8(channel: 2, mode: 0x44, address: 0x1_2340, count: 512)
        XCTAssertTrue(dma.isReady(2))
        XCTAssertEqual(dma.remainingBytes(2), 512)
        let data = (0..<600).map { UInt8($0 & 0xFF) }
        let first = write(channel: 2, Array(data[0..<100]))
        XCTAssertEqual(first, .init(bytes: 100, terminalCount: false))
        let rest = write(channel: 2, Array(data[100..<600]))
        XCTAssertEqual(rest, .init(bytes: 412, terminalCount: true))
        XCTAssertEqual(ramBytes(at: 0x1_2340, count: 512), Array(data[0..<512]))
        XCTAssertEqual(ramBytes(at: 0x1_2340 + 512, count: 1), [0], "nothing past the count")
        XCTAssertFalse(dma.isReady(2), "terminal count without auto-init masks the channel")
        XCTAssertEqual(harness.inb(0x08) & 0x0F, 0x04, "status shows channel 2's terminal count")
        XCTAssertEqual(harness.inb(0x08) & 0x0F, 0, "reading the status clears it")
        XCTAssertEqual(harness.inb(0x0F) & 0x04, 0x04, "mask register shows channel 2 masked")
    }

    func testCurrentAddressAndCountReadThroughTheFlipFlop() {
        program8(channel: 1, mode: 0x48, address: 0x2_0010, count: 0x100)
        _ = read(channel: 1, count: 0x10)
        harness.out(0x0C, 0)
        let address = UInt16(harness.inb(0x02)) | UInt16(harness.inb(0x02)) << 8
        let count = UInt16(harness.inb(0x03)) | UInt16(harness.inb(0x03)) << 8
        XCTAssertEqual(address, 0x0020)
        XCTAssertEqual(count, 0xEF)
    }

    func testReadTransferTakesMemoryAndAutoInitReloads() {
        fillRAM(at: 0x3_0000, (0..<8).map { UInt8(0xA0 + $0) })
        // SB16 8-bit auto-init playback: channel 1, read, auto-init, single.
        program8(channel: 1, mode: 0x58, address: 0x3_0000, count: 8)
        let (first, result) = read(channel: 1, count: 20)
        XCTAssertEqual(result, .init(bytes: 8, terminalCount: true))
        XCTAssertEqual(first, (0..<8).map { UInt8(0xA0 + $0) })
        XCTAssertTrue(dma.isReady(1), "auto-init keeps the channel unmasked")
        let (again, second) = read(channel: 1, count: 3)
        XCTAssertEqual(second.bytes, 3)
        XCTAssertEqual(again, [0xA0, 0xA1, 0xA2], "the base address was reloaded")
        XCTAssertEqual(harness.inb(0x08) & 0x02, 0x02)
    }

    func testDecrementModeWalksDownAndWrapsInsideThePage() {
        fillRAM(at: 0x4_0000, [1, 2, 3])
        fillRAM(at: 0x4_FFFF, [9])
        program8(channel: 3, mode: 0x68, address: 0x4_0002, count: 4)
        let (bytes, result) = read(channel: 3, count: 4)
        XCTAssertEqual(bytes, [3, 2, 1, 9], "the address wraps within its 64 KiB page; the page does not change")
        XCTAssertTrue(result.terminalCount)
    }

    func testSixteenBitChannelMovesWordsWithPageBitZeroIgnored() {
        fillRAM(at: 0x5_0004, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66])
        program16(channel: 5, mode: 0x48, address: 0x5_0004, bytes: 4)
        harness.out(0x8B, 0x05)  // bit 0 of the page is not an address bit for 16-bit channels
        XCTAssertEqual(dma.remainingBytes(5), 4)
        let (bytes, result) = read(channel: 5, count: 7)
        XCTAssertEqual(bytes, [0x11, 0x22, 0x33, 0x44])
        XCTAssertEqual(result, .init(bytes: 4, terminalCount: true))
        XCTAssertEqual(harness.inb(0xD0) & 0x0F, 0x02, "channel 5 is bit 1 of the 16-bit controller's status")
    }

    func testSixteenBitChannelMovesOnlyWholeWords() {
        program16(channel: 5, mode: 0x44, address: 0x6_0000, bytes: 8)
        XCTAssertEqual(write(channel: 5, [1, 2, 3]).bytes, 2)
        XCTAssertEqual(ramBytes(at: 0x6_0000, count: 3), [1, 2, 0])
    }

    func testMasksAndCascade() {
        program8(channel: 1, mode: 0x48, address: 0x1000, count: 16)
        XCTAssertTrue(dma.isReady(1))
        harness.out(0x0A, 0x05)
        XCTAssertFalse(dma.isReady(1), "single mask set")
        harness.out(0x0E, 0)
        XCTAssertTrue(dma.isReady(1), "clear mask unmasks all")
        harness.out(0x0F, 0x0F)
        XCTAssertFalse(dma.isReady(1), "write all masks")
        harness.out(0x0F, 0x00)
        harness.out(0xD4, 0x04)
        XCTAssertFalse(dma.isReady(1), "channel 4 masked cuts the 8-bit controller off")
        XCTAssertEqual(read(channel: 1, count: 4).1.bytes, 0)
        harness.out(0xD4, 0x00)
        XCTAssertTrue(dma.isReady(1))
        XCTAssertFalse(dma.isReady(4), "the cascade channel moves no data itself")
        harness.out(0x08, 0x04)
        XCTAssertFalse(dma.isReady(1), "controller disabled by the command register")
    }

    func testMasterClearMasksEverythingAndResetsTheFlipFlop() {
        program8(channel: 2, mode: 0x44, address: 0x1000, count: 16)
        harness.out(0x04, 0x34)  // flip-flop now expects the high byte
        harness.out(0x0D, 0)
        XCTAssertFalse(dma.isReady(2))
        XCTAssertEqual(harness.inb(0x0F) & 0x0F, 0x0F)
        harness.out(0x04, 0x78)  // low byte again after master clear
        harness.out(0x04, 0x56)
        harness.out(0x0C, 0)
        XCTAssertEqual(harness.inb(0x04), 0x78)
        XCTAssertEqual(harness.inb(0x04), 0x56)
    }

    func testVerifyAndWrongDirectionMoveNoMemoryButCount() {
        program8(channel: 2, mode: 0x40, address: 0x7000, count: 4)
        XCTAssertEqual(write(channel: 2, [1, 2, 3, 4]), .init(bytes: 4, terminalCount: true))
        XCTAssertEqual(ramBytes(at: 0x7000, count: 4), [0, 0, 0, 0])
        program8(channel: 2, mode: 0x48, address: 0x7000, count: 4)
        XCTAssertEqual(write(channel: 2, [1, 2]).bytes, 2, "a read channel asked to write moves nothing")
        XCTAssertEqual(ramBytes(at: 0x7000, count: 2), [0, 0])
    }

    func testAddressesOutsideRAMAreHarmless() {
        // Page 0xFF: 0xFF0000 is past this 1 MiB of RAM.
        program8(channel: 2, mode: 0x44, address: 0xFF_FFF0, count: 32)
        XCTAssertEqual(write(channel: 2, [UInt8](repeating: 7, count: 32)).bytes, 32)
        program8(channel: 1, mode: 0x48, address: 0xFF_FFF0, count: 4)
        XCTAssertEqual(read(channel: 1, count: 4).0, [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(read(channel: 9, count: 4).1.bytes, 0, "no channel 9")
    }

    func testRequestBitsShowInStatusAndPageRegistersAreStorage() {
        dma.setRequest(1, true)
        XCTAssertEqual(harness.inb(0x08) & 0xF0, 0x20)
        dma.setRequest(1, false)
        harness.out(0x09, 0x06)  // software request, channel 2
        XCTAssertEqual(harness.inb(0x08) & 0xF0, 0x40)
        harness.out(0x80, 0x42)
        XCTAssertEqual(harness.inb(0x80), 0x42)
    }
}

import XCTest
import Memory
@testable import Devices

final class FirmwareConfigTests: XCTestCase {
    var harness: PortHarness!
    var ram: GuestRAM!
    var memory: AddressSpace!
    var fwcfg: FirmwareConfig!

    override func setUp() {
        harness = PortHarness()
        ram = try! GuestRAM(size: 0x10_0000)
        memory = AddressSpace(ram: ram)
        try! memory.map("ram", at: 0, size: 0x10_0000, kind: .ram(offset: 0))
        fwcfg = FirmwareConfig(memory: memory)
        try! fwcfg.attach(to: harness.bus)
    }

    /// SeaBIOS qemu_cfg_read_entry over the traditional interface.
    func readEntry(_ key: UInt16, count: Int) -> [UInt8] {
        harness.outw(0x510, key)
        return (0..<count).map { _ in harness.inb(0x511) }
    }

    func bigEndian32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// SeaBIOS romfile lookup: the directory's count, then 64-byte entries.
    func findFile(_ name: String) -> (size: Int, key: UInt16)? {
        harness.outw(0x510, 0x19)
        let count = bigEndian32((0..<4).map { _ in harness.inb(0x511) }[...])
        for _ in 0..<count {
            let entry = (0..<64).map { _ in harness.inb(0x511) }
            let entryName = String(decoding: entry[8...].prefix { $0 != 0 }, as: UTF8.self)
            if entryName == name {
                return (Int(bigEndian32(entry[0..<4])), UInt16(entry[4]) << 8 | UInt16(entry[5]))
            }
        }
        return nil
    }

    func testSignatureAndDMAFeatureLikeSeaBIOSDetection() {
        XCTAssertEqual(readEntry(0x00, count: 4), Array("QEMU".utf8))
        XCTAssertEqual(readEntry(0x01, count: 4), [0x03, 0, 0, 0], "traditional and DMA interfaces")
        XCTAssertEqual(harness.inl(0x514), 0x554D_4551, "'QEMU' of the DMA signature in port order")
        XCTAssertEqual(harness.inl(0x518), 0x4746_4320)
    }

    func testReadingPastTheEndGivesZerosAndSelectingRestarts() {
        fwcfg.setItem(0x05, uint16: 2)
        XCTAssertEqual(readEntry(0x05, count: 4), [2, 0, 0, 0])
        XCTAssertEqual(readEntry(0x05, count: 1), [2], "a new selection starts at offset 0")
        XCTAssertEqual(readEntry(0x7FF, count: 2), [0, 0], "no such item")
    }

    func testFixedItems() {
        fwcfg.setRAMSize(128 << 20)
        fwcfg.setCPUCount(1, maximum: 4)
        XCTAssertEqual(readEntry(0x03, count: 8), [0, 0, 0, 0x08, 0, 0, 0, 0])
        XCTAssertEqual(readEntry(0x05, count: 2), [1, 0])
        XCTAssertEqual(readEntry(0x0F, count: 2), [4, 0])
    }

    func testDirectoryListsFilesBigEndian() throws {
        try fwcfg.setBootFailWait(milliseconds: 5000)
        try fwcfg.setBootOrder(["/pci@i0cf8/ide@1,1/drive@0/disk@0", "/rom@genroms/linuxboot_dma.bin"])
        try fwcfg.setE820([.init(address: 0, length: 0x9FC00, type: 1),
                           .init(address: 0x10_0000, length: 0x7F0_0000, type: 1)])
        let wait = try XCTUnwrap(findFile("etc/boot-fail-wait"))
        XCTAssertEqual(wait.size, 4)
        XCTAssertGreaterThanOrEqual(wait.key, 0x20)
        XCTAssertEqual(readEntry(wait.key, count: 4), [0x88, 0x13, 0, 0])
        let bootorder = try XCTUnwrap(findFile("bootorder"))
        let text = readEntry(bootorder.key, count: bootorder.size)
        XCTAssertEqual(text.last, 0)
        XCTAssertEqual(String(decoding: text.dropLast(), as: UTF8.self),
                       "/pci@i0cf8/ide@1,1/drive@0/disk@0\n/rom@genroms/linuxboot_dma.bin")
        let e820 = try XCTUnwrap(findFile("etc/e820"))
        XCTAssertEqual(e820.size, 40)
        let entries = readEntry(e820.key, count: 40)
        XCTAssertEqual(Array(entries[20..<28]), [0, 0, 0x10, 0, 0, 0, 0, 0], "second entry's le64 address")
        XCTAssertEqual(Array(entries[36..<40]), [1, 0, 0, 0], "its type")
        XCTAssertNil(findFile("etc/missing"))
    }

    func testReplacingAFileKeepsItsKey() throws {
        try fwcfg.addFile(name: "etc/a", data: [1])
        let first = try XCTUnwrap(findFile("etc/a"))
        try fwcfg.addFile(name: "etc/a", data: [1, 2, 3])
        let second = try XCTUnwrap(findFile("etc/a"))
        XCTAssertEqual(first.key, second.key)
        XCTAssertEqual(second.size, 3)
        XCTAssertThrowsError(try fwcfg.addFile(name: String(repeating: "x", count: 56), data: []))
    }

    // MARK: DMA

    func storeBigEndian32(_ value: UInt32, at address: UInt32) {
        memory.write(UInt64(address), value: value.byteSwapped, size: .dword)
    }

    /// SeaBIOS qemu_cfg_dma_transfer: the request in memory, then its
    /// address to 0x514/0x518, each half byte-swapped.
    func dma(control: UInt32, length: UInt32, address: UInt32, request: UInt32 = 0x1000) -> UInt32 {
        storeBigEndian32(control, at: request)
        storeBigEndian32(length, at: request + 4)
        storeBigEndian32(0, at: request + 8)
        storeBigEndian32(address, at: request + 12)
        harness.outl(0x514, UInt32(0).byteSwapped)
        harness.outl(0x518, request.byteSwapped)
        return memory.read(UInt64(request), size: .dword).byteSwapped
    }

    func bytes(at address: UInt32, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(memory.read(UInt64(address) + UInt64($0), size: .byte)) }
    }

    func testDMASelectAndRead() throws {
        let kernel = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        fwcfg.setLinuxBoot(setupAddress: 0x1_0000, setup: [0xAA, 0xBB], kernelAddress: 0x10_0000, kernel: kernel,
                           initrdAddress: 0, initrd: [], commandLineAddress: 0x2_0000, commandLine: "console=ttyS0")
        // Select the kernel and read 10000 bytes across pages to 0x3F00.
        let status = dma(control: 0x11 << 16 | 0x08 | 0x02, length: 10_000, address: 0x3F00)
        XCTAssertEqual(status, 0, "done, no error")
        XCTAssertEqual(bytes(at: 0x3F00, count: 10_000), kernel)
        XCTAssertEqual(readEntry(0x14, count: 4), [14, 0, 0, 0], "command line size includes the NUL")
        XCTAssertEqual(readEntry(0x15, count: 14), Array("console=ttyS0".utf8) + [0])
        XCTAssertEqual(readEntry(0x08, count: 4), [0x10, 0x27, 0, 0])
    }

    func testDMAReportsTheRangesItWrote() {
        var written: [ClosedRange<UInt64>] = []
        fwcfg = FirmwareConfig(memory: memory) { address, length in written.append(address...(address + UInt64(length) - 1)) }
        harness = PortHarness()
        try! fwcfg.attach(to: harness.bus)
        fwcfg.setItem(0x0E, data: [UInt8](repeating: 0xAB, count: 6000))
        XCTAssertEqual(dma(control: 0x0E << 16 | 0x08 | 0x02, length: 8192, address: 0x8800, request: 0x1000), 0)
        // Every destination byte (the item, then zeros) is in some reported range, and so is the request's status.
        for address: UInt64 in [0x8800, 0x8FFF, 0x9000, 0x9F6F, 0x9F70, 0xA7FF, 0x1000] {
            XCTAssertTrue(written.contains { $0.contains(address) }, "0x\(String(address, radix: 16)) \(written)")
        }
        XCTAssertFalse(written.contains { $0.contains(0xA800) })
        XCTAssertEqual(bytes(at: 0x9F6F, count: 2), [0xAB, 0])
    }

    func testDMASkipThenReadAndZeroFill() {
        fwcfg.setItem(0x0E, data: [1, 2, 3, 4, 5])
        memory.write(0x5000, value: 0xFFFF_FFFF, size: .dword)
        memory.write(0x5004, value: 0xFFFF_FFFF, size: .dword)
        XCTAssertEqual(dma(control: 0x0E << 16 | 0x08 | 0x04, length: 3, address: 0), 0)
        XCTAssertEqual(dma(control: 0x02, length: 6, address: 0x5000), 0)
        XCTAssertEqual(bytes(at: 0x5000, count: 8), [4, 5, 0, 0, 0, 0, 0xFF, 0xFF])
    }

    func testDMAWriteIsRefusedWithError() {
        XCTAssertEqual(dma(control: 0x0E << 16 | 0x08 | 0x10, length: 1, address: 0x5000), 0x01)
    }

    func testTraditionalAndDMAShareTheOffset() {
        fwcfg.setItem(0x0E, data: [9, 8, 7, 6])
        XCTAssertEqual(readEntry(0x0E, count: 1), [9])
        XCTAssertEqual(dma(control: 0x02, length: 2, address: 0x6000), 0)
        XCTAssertEqual(bytes(at: 0x6000, count: 2), [8, 7])
        XCTAssertEqual(harness.inb(0x511), 6)
    }
}

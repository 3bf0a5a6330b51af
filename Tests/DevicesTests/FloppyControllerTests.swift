import Foundation
import Memory
import Storage
import TestSupport
import XCTest
@testable import Devices

/// The floppy controller driven through its ports the way SeaBIOS and
/// Linux's floppy driver drive it, on a real 1.44 MB image, with data moving
/// through the 8237's channel 2 into guest RAM.
final class FloppyControllerTests: XCTestCase {
    var harness: PortHarness!
    var directory: URL!
    var imagePath: String!
    var fdc: FloppyController!
    var irq6: LineProbe!
    var dma: DMA8237!
    var ram: GuestRAM!
    var written: [(UInt64, Int)] = []
    static let imageBytes = 1_474_560

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-fdc")
        imagePath = directory.appendingPathComponent("floppy.img").path
        var bytes = [UInt8](repeating: 0, count: FloppyControllerTests.imageBytes)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index / 512 &* 13 &+ index) }
        FileManager.default.createFile(atPath: imagePath, contents: Data(bytes))
        try build(drives: [FloppyDrive(image: DiskImage.open(path: imagePath, format: .raw, readOnly: false))])
    }

    func build(drives: [FloppyDrive]) throws {
        harness = PortHarness()
        irq6 = LineProbe()
        ram = try GuestRAM(size: 1 << 20)
        let memory = AddressSpace(ram: ram)
        try memory.map("ram", at: 0, size: 1 << 20, kind: .ram(offset: 0))
        dma = DMA8237(memory: memory)
        try dma.attach(to: harness.bus)
        fdc = FloppyController(drives: drives, dma: dma, irq: irq6.line) { [unowned self] in self.written.append(($0, $1)) }
        try fdc.attach(to: harness.bus)
        fdc.reset()
        // The BIOS's cascade: channel 4 unmasked so channels 0-3 reach the bus.
        harness.out(0xD6, 0xC0)
        harness.out(0xD4, 0x00)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Guest-side helpers

    var msr: UInt8 { harness.inb(0x3F4) }

    /// Writes a command as drivers do: each byte when MSR shows RQM and no DIO.
    func command(_ bytes: [UInt8]) {
        for byte in bytes {
            XCTAssertEqual(msr & 0xC0, 0x80, "controller not ready for byte 0x\(String(byte, radix: 16))")
            harness.out(0x3F5, byte)
        }
    }

    /// Reads result bytes while MSR shows RQM, DIO and busy.
    func results() -> [UInt8] {
        var bytes: [UInt8] = []
        while msr & 0xD0 == 0xD0 && bytes.count < 16 { bytes.append(harness.inb(0x3F5)) }
        return bytes
    }

    func senseInterrupt() -> [UInt8] {
        command([0x08])
        return results()
    }

    /// Leaves reset with IRQ/DMA enabled and drive 0's motor on, and takes the four polls.
    func enable() {
        harness.out(0x3F2, 0x00)
        harness.out(0x3F2, 0x1C)
        XCTAssertTrue(irq6.level)
        for drive in 0..<4 { XCTAssertEqual(senseInterrupt(), [0xC0 | UInt8(drive), 0]) }
        XCTAssertFalse(irq6.level)
    }

    /// Channel 2 programmed as Linux's fd_dma_setup does: mode 0x46 (write to memory) or 0x4A.
    func programDMA(toMemory: Bool, address: UInt32, count: Int) {
        harness.out(0x0A, 0x06)
        harness.out(0x0C, 0)
        harness.out(0x0B, toMemory ? 0x46 : 0x4A)
        harness.out(0x04, UInt8(address & 0xFF))
        harness.out(0x04, UInt8(address >> 8 & 0xFF))
        harness.out(0x81, UInt8(address >> 16))
        harness.out(0x05, UInt8((count - 1) & 0xFF))
        harness.out(0x05, UInt8((count - 1) >> 8))
        harness.out(0x0A, 0x02)
    }

    func guestBytes(at address: Int, count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: ram.uncheckedPointer(at: address), count: count))
    }

    func imageBytes(at offset: Int, count: Int) throws -> [UInt8] {
        let data = try Data(contentsOf: URL(fileURLWithPath: imagePath))
        return Array(data[offset..<offset + count])
    }

    // MARK: Tests

    func testResetGivesFourPollsThenSenseInterruptIsInvalid() {
        XCTAssertEqual(msr, 0, "held in reset at power-on")
        enable()
        XCTAssertEqual(msr, 0x80)
        XCTAssertEqual(senseInterrupt(), [0x80], "no interrupt pending")
        // A DSR reset does the same.
        harness.out(0x3F4, 0x80)
        XCTAssertTrue(irq6.level)
        XCTAssertEqual(senseInterrupt(), [0xC0, 0])
    }

    func testInterruptIsGatedByDOR() {
        harness.out(0x3F2, 0x04)  // out of reset, IRQ/DMA disabled
        XCTAssertFalse(irq6.level)
        harness.out(0x3F2, 0x0C)
        XCTAssertTrue(irq6.level, "the pending reset interrupt shows once enabled")
    }

    func testVersionDumpregLockAndInvalidCommand() {
        enable()
        command([0x10])
        XCTAssertEqual(results(), [0x90])
        command([0x03, 0xAF, 0x02])  // SPECIFY
        command([0x13, 0x00, 0x57, 0x05])  // CONFIGURE
        command([0x94])
        XCTAssertEqual(results(), [0x10])
        command([0x0E])
        XCTAssertEqual(results(), [0, 0, 0, 0, 0xAF, 0x02, 0, 0x80, 0x57, 0x05])
        command([0x14])
        XCTAssertEqual(results(), [0x00])
        command([0x18])  // PARTID: Linux takes "invalid" for a post-1991 82077
        XCTAssertEqual(results(), [0x80])
        command([0x12, 0x80])  // PERPENDICULAR MODE
        XCTAssertEqual(msr, 0x80)
    }

    func testSeekRecalibrateAndSenseDriveStatus() {
        enable()
        XCTAssertEqual(harness.inb(0x3F7) & 0x80, 0x80, "disk change set at power-on")
        command([0x0F, 0x04, 40])
        XCTAssertTrue(irq6.level)
        XCTAssertEqual(senseInterrupt(), [0x24, 40])
        XCTAssertFalse(irq6.level)
        XCTAssertEqual(harness.inb(0x3F7) & 0x80, 0, "a step clears disk change")
        command([0x04, 0x00])
        XCTAssertEqual(results(), [0x28], "ready, two-sided, not on track 0")
        command([0x07, 0x00])
        XCTAssertEqual(senseInterrupt(), [0x20, 0])
        command([0x04, 0x00])
        XCTAssertEqual(results(), [0x38], "ready, track 0, two-sided")
    }

    func testReadDataThroughDMAIntoGuestRAM() throws {
        enable()
        command([0x0F, 0x00, 1])
        _ = senseInterrupt()
        // Cylinder 1, head 1, sectors 17-18 and, multi-track, on to cylinder 2: stop by terminal count after 3 sectors.
        programDMA(toMemory: true, address: 0x2_3000, count: 3 * 512)
        command([0xE6, 0x04, 1, 1, 17, 2, 18, 0x1B, 0xFF])
        XCTAssertTrue(irq6.level)
        let reply = results()
        XCTAssertFalse(irq6.level)
        // Ended at the end of cylinder 1 (head 1, EOT): the next sector is C2 H0 R1.
        XCTAssertEqual(reply, [0x04, 0, 0, 2, 0, 1, 2])
        let offset = ((1 * 2 + 1) * 18 + 16) * 512
        XCTAssertEqual(guestBytes(at: 0x2_3000, count: 2 * 512), try imageBytes(at: offset, count: 2 * 512))
        XCTAssertEqual(written.first?.0, 0x2_3000)

        // Terminal count in the middle of a track.
        programDMA(toMemory: true, address: 0x4_0000, count: 2 * 512)
        command([0x46, 0x00, 0, 0, 3, 2, 18, 0x1B, 0xFF])
        XCTAssertEqual(results(), [0x00, 0, 0, 0, 0, 5, 2])
        XCTAssertEqual(guestBytes(at: 0x4_0000, count: 1024), try imageBytes(at: 2 * 512, count: 1024))
    }

    func testWriteDataReachesTheImage() throws {
        enable()
        let pattern = (0..<1024).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        pattern.withUnsafeBytes { source in
            ram.uncheckedPointer(at: 0x1_0000).copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        programDMA(toMemory: false, address: 0x1_0000, count: 1024)
        command([0xC5, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF])
        XCTAssertEqual(results(), [0x00, 0, 0, 0, 0, 3, 2])
        XCTAssertEqual(try imageBytes(at: 0, count: 1024), pattern)
    }

    func testFormatTrackFillsSectors() throws {
        enable()
        var ids: [UInt8] = []
        for sector in 1...18 { ids += [3, 1, UInt8(sector), 2] }
        ids.withUnsafeBytes { source in
            ram.uncheckedPointer(at: 0x8000).copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        programDMA(toMemory: false, address: 0x8000, count: ids.count)
        command([0x4D, 0x04, 2, 18, 0x54, 0xE5])
        XCTAssertEqual(results()[0...2], [0x04, 0, 0])
        let track = ((3 * 2 + 1) * 18) * 512
        XCTAssertEqual(try imageBytes(at: track, count: 18 * 512), [UInt8](repeating: 0xE5, count: 18 * 512))
    }

    func testReadIDAndDataRate() {
        enable()
        harness.out(0x3F7, 0x00)
        command([0x4A, 0x00])
        XCTAssertEqual(results(), [0x00, 0, 0, 0, 0, 1, 2])
        harness.out(0x3F7, 0x02)  // 250 kbit/s: a 1.44 MB disk shows no address marks
        command([0x4A, 0x00])
        XCTAssertEqual(results()[0...1], [0x40, 0x01])
    }

    func testMissingDiskAndWriteProtect() throws {
        enable()
        programDMA(toMemory: true, address: 0x2000, count: 512)
        command([0x46, 0x01, 0, 0, 1, 2, 18, 0x1B, 0xFF])  // drive 1: empty
        XCTAssertEqual(results()[0...1], [0x49, 0x01])
        XCTAssertEqual(guestBytes(at: 0x2000, count: 512), [UInt8](repeating: 0, count: 512))

        try build(drives: [FloppyDrive(image: DiskImage.open(path: imagePath, format: .raw, readOnly: true))])
        enable()
        command([0x04, 0x00])
        XCTAssertEqual(results(), [0x78], "write protected")
        programDMA(toMemory: false, address: 0x2000, count: 512)
        command([0xC5, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF])
        XCTAssertEqual(results()[0...1], [0x40, 0x02])
    }

    func testGeometryFromImageSize() throws {
        XCTAssertEqual(FloppyDrive.Geometry.matching(byteCount: 737_280)?.sectorsPerTrack, 9)
        XCTAssertEqual(FloppyDrive.Geometry.matching(byteCount: 2_949_120)?.sectorsPerTrack, 36)
        XCTAssertEqual(FloppyDrive.Geometry.matching(byteCount: 1_228_800)?.cmosType, 2)
        XCTAssertNil(FloppyDrive.Geometry.matching(byteCount: 1_000_000))
        // Shorter images take 1.44 MB (2.88 MB above it), as QEMU's drive does.
        XCTAssertEqual(FloppyDrive.Geometry.holding(byteCount: 1_296_384)?.cmosType, 4)
        XCTAssertEqual(FloppyDrive.Geometry.holding(byteCount: 1_000)?.cmosType, 4)
        XCTAssertEqual(FloppyDrive.Geometry.holding(byteCount: 1_500_000)?.cmosType, 5)
        XCTAssertNil(FloppyDrive.Geometry.holding(byteCount: 2_949_121))
        XCTAssertNil(FloppyDrive.Geometry.holding(byteCount: 0))
        let large = directory.appendingPathComponent("large.img").path
        FileManager.default.createFile(atPath: large, contents: Data(count: 5761 * 512))
        XCTAssertThrowsError(try FloppyDrive(image: DiskImage.open(path: large, format: .raw, readOnly: true)))
    }

    /// GRUB's rescue floppy is shorter than 1.44 MB: its sectors read as they
    /// are, the half sector at its end and the sectors after it as zeros, and
    /// a write past its end fails without growing the file.
    func testShortImageReadsZerosPastItsEnd() throws {
        let short = directory.appendingPathComponent("short.img").path
        let length = 40 * 512 + 256
        var bytes = [UInt8](repeating: 0, count: length)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index % 251 + 1) }
        FileManager.default.createFile(atPath: short, contents: Data(bytes))
        try build(drives: [FloppyDrive(image: DiskImage.open(path: short, format: .raw, readOnly: false))])
        enable()
        command([0x0F, 0x00, 1])
        _ = senseInterrupt()
        // Blocks 36-41: cylinder 1, head 0, sectors 1-6.
        programDMA(toMemory: true, address: 0x3000, count: 6 * 512)
        command([0xE6, 0x00, 1, 0, 1, 2, 6, 0x1B, 0xFF])
        XCTAssertEqual(results()[0...1], [0x00, 0x00])
        let read = guestBytes(at: 0x3000, count: 6 * 512)
        XCTAssertEqual(Array(read[0..<4 * 512 + 256]), Array(bytes[36 * 512..<length]))
        XCTAssertEqual(Array(read[4 * 512 + 256..<6 * 512]), [UInt8](repeating: 0, count: 512 + 256))
        programDMA(toMemory: false, address: 0x3000, count: 512)
        command([0xC5, 0x00, 1, 0, 7, 2, 7, 0x1B, 0xFF])
        XCTAssertEqual(results()[0] & 0xC0, 0x40, "abnormal termination")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: short)).count, length)
    }
}

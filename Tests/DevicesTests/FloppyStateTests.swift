import Foundation
import Lifecycle
import Memory
import Storage
import TestSupport
import XCTest
@testable import Devices

/// The floppy controller saved with resets still to be sensed, a seek's
/// interrupt pending and a READ DATA command half sent, loaded into a fresh
/// controller on the same image: the guest sees the same bytes, interrupts
/// and data in RAM.
final class FloppyStateTests: XCTestCase {
    var directory: URL!
    var imagePath: String!

    final class Rig {
        let harness = PortHarness()
        let irq6 = LineProbe()
        let ram = try! GuestRAM(size: 1 << 20)
        let dma: DMA8237
        let fdc: FloppyController

        init(image: BlockImage) throws {
            let memory = AddressSpace(ram: ram)
            try memory.map("ram", at: 0, size: 1 << 20, kind: .ram(offset: 0))
            dma = DMA8237(memory: memory)
            try dma.attach(to: harness.bus)
            fdc = FloppyController(drives: [try FloppyDrive(image: image), FloppyDrive()], dma: dma, irq: irq6.line)
            try fdc.attach(to: harness.bus)
            fdc.reset()
            harness.out(0xD6, 0xC0)
            harness.out(0xD4, 0x00)
        }

        var msr: UInt8 { harness.inb(0x3F4) }
        func send(_ bytes: [UInt8]) { for byte in bytes { harness.out(0x3F5, byte) } }
        func results() -> [UInt8] {
            var bytes: [UInt8] = []
            while msr & 0xD0 == 0xD0 && bytes.count < 16 { bytes.append(harness.inb(0x3F5)) }
            return bytes
        }
        var registers: [UInt8] { [0x3F2, 0x3F3, 0x3F4, 0x3F7].map { harness.inb($0) } }
    }

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-fdc-state")
        imagePath = directory.appendingPathComponent("floppy.img").path
        let bytes = (0..<1_474_560).map { UInt8(truncatingIfNeeded: $0 / 512 &* 11 &+ $0) }
        FileManager.default.createFile(atPath: imagePath, contents: Data(bytes))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func makeRig() throws -> Rig { try Rig(image: DiskImage.open(path: imagePath, format: .raw, readOnly: true)) }

    /// Linux's floppy driver: reset, two of the four polls sensed, SPECIFY,
    /// CONFIGURE, a seek to cylinder 3 (its interrupt not yet sensed).
    func drive(_ rig: Rig) {
        rig.harness.out(0x3F2, 0x00)
        rig.harness.out(0x3F2, 0x1C)
        for _ in 0..<2 { rig.send([0x08]); _ = rig.results() }
        rig.send([0x03, 0xDF, 0x02])  // SPECIFY
        rig.send([0x13, 0x00, 0x1A, 0x00])  // CONFIGURE
        rig.harness.out(0x3F7, 0x00)  // 500 kbit/s
    }

    func testRoundTripGoesOnWithTheSameResultsAndData() throws {
        let rig = try makeRig()
        drive(rig)
        let saved = try StateRecordCodec.decode(StateRecordCodec.encode(rig.fdc.savedState()))
        let copy = try makeRig()
        try copy.fdc.loadState(saved)
        XCTAssertEqual(copy.fdc.savedState(), rig.fdc.savedState())
        XCTAssertEqual(copy.registers, rig.registers)
        XCTAssertEqual(copy.irq6.level, rig.irq6.level)

        for target in [rig, copy] {
            target.send([0x08]); _ = target.results()
            target.send([0x08]); _ = target.results()  // the other two polls
            target.send([0x0F, 0x00, 3])  // SEEK drive 0 to cylinder 3
        }
        XCTAssertTrue(copy.irq6.level)
        let halfSent: [UInt8] = [0x46, 0x00, 3, 0]  // READ DATA, then the rest after the save
        for target in [rig, copy] { target.send([0x08]); _ = target.results(); target.send(halfSent) }

        let second = try makeRig()
        try second.fdc.loadState(try StateRecordCodec.decode(StateRecordCodec.encode(copy.fdc.savedState())))
        XCTAssertEqual(second.registers, rig.registers)
        for target in [rig, second] {
            // Channel 2 as fd_dma_setup programs it (the 8237 keeps its own state).
            for (port, byte) in [(0x0A, 0x06), (0x0C, 0), (0x0B, 0x46), (0x04, 0x00), (0x04, 0x30), (0x81, 0x02),
                                 (0x05, 0xFF), (0x05, 0x03), (0x0A, 0x02)] as [(UInt16, UInt8)] {
                target.harness.out(port, byte)
            }
            target.send([5, 2, 18, 0x1B, 0xFF])
        }
        XCTAssertTrue(second.irq6.level)
        let reply = rig.results()
        XCTAssertEqual(second.results(), reply)
        XCTAssertEqual(reply.first.map { $0 & 0xC0 }, 0, "normal termination")
        let offset = (3 * 2 * 18 + 4) * 512
        let expected = (offset..<offset + 1024).map { UInt8(truncatingIfNeeded: $0 / 512 &* 11 &+ $0) }
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: second.ram.uncheckedPointer(at: 0x2_3000), count: 1024)), expected)
        for target in [rig, second] { target.send([0x0E]) }  // DUMPREG
        XCTAssertEqual(second.results(), rig.results())
    }

    func testADamagedRecordOrAnotherDiskIsRefusedAndChangesNothing() throws {
        let rig = try makeRig()
        drive(rig)
        let saved = rig.fdc.savedState()
        let target = try makeRig()
        target.harness.out(0x3F2, 0x0C)
        let before = target.fdc.savedState(), registers = target.registers

        var diskInB = saved
        var drives = try saved.records("drives")
        drives[1].put("hasDisk", true)
        diskInB.put("drives", drives)
        XCTAssertThrowsError(try target.fdc.loadState(diskInB)) {
            XCTAssertEqual($0 as? StateRecordError, .configurationMismatch(record: "floppy-drive", reason: "a disk was in, none is here"))
        }
        var pastResult = saved
        pastResult.put("resultPosition", 3)
        XCTAssertThrowsError(try target.fdc.loadState(pastResult)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "fdc", field: "resultPosition"))
        }
        var longCommand = saved
        longCommand.put("command", [UInt8](repeating: 0x46, count: 10))
        XCTAssertThrowsError(try target.fdc.loadState(longCommand))
        var thirdHead = saved
        drives = try saved.records("drives")
        drives[0].put("head", UInt8(2))
        thirdHead.put("drives", drives)
        XCTAssertThrowsError(try target.fdc.loadState(thirdHead))
        XCTAssertEqual(target.fdc.savedState(), before)
        XCTAssertEqual(target.registers, registers)
    }
}

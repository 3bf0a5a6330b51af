import Lifecycle
import Memory
import XCTest
@testable import Devices

/// The Sound Blaster 16 saved in the middle of a 16-bit auto-init stream
/// (a command half written, a reply unread, a volume set) and loaded, with
/// the DMA controller and RAM, into a fresh card: block-end interrupts come
/// at the same guest times and the DMA pointer moves alike.
extension SoundBlaster16Tests {
    func busyCard() {
        programDMA16(address: 0x2_0000, bytes: 4096)
        command(0x41, 0x1F, 0x40)  // 8000 Hz
        command(0xB6, 0x30, 0xFF, 0x01)  // 512 samples a block: 32 ms
        harness.advance(by: 40_000_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 1)
        setMixer(0x22, 0xB7)
        command(0xE1)  // the version, left unread
        harness.out(0x22C, 0x40)  // a time constant, its argument still to come
        harness.out(0x224, 0x30)
    }

    /// Per millisecond for 120 ms: the IRQ 5 level (acknowledged when up), then replies and registers.
    func driveOn() -> [String] {
        var seen: [String] = []
        harness.out(0x22C, 131)
        seen.append("\(harness.inb(0x225)) \(readByte() ?? 0) \(readByte() ?? 0) \(readByte().map(String.init) ?? "none")")
        for _ in 0..<120 {
            harness.advance(by: 1_000_000)
            let level = irqs[5]!.level
            seen.append("\(level)")
            if level { _ = harness.inb(0x22F) }
        }
        harness.out(0xD8, 0)
        seen.append("dma \(harness.inb(0xC6)) \(harness.inb(0xC6)) mixer \((0..<256).map { mixer(UInt8($0)) })")
        return seen
    }

    func testRoundTripInterruptsAtTheSameGuestTimes() throws {
        busyCard()
        let clock = harness.clock.savedState(), dmaState = try throughBytes(dma.savedState())
        let saved = try throughBytes(sb.savedState())
        XCTAssertNotNil(harness.scheduler.nextDeadline)
        let original = (harness!, ram!, dma!, sb!, irqs)
        setUp()
        ram.base.copyMemory(from: original.1.base, byteCount: ram.size)
        try harness.clock.loadState(clock)
        try dma.loadState(dmaState)
        try sb.loadState(saved)
        XCTAssertEqual(sb.savedState(), original.3.savedState())
        XCTAssertTrue(irqs[5]!.level, "the unacknowledged block end holds IRQ 5")
        XCTAssertEqual(harness.scheduler.nextDeadline, original.0.scheduler.nextDeadline, "the block timer")
        let fromCopy = driveOn()
        (harness, ram, dma, sb, irqs) = original
        let fromOriginal = driveOn()
        XCTAssertEqual(fromOriginal[0], "184 4 5 none", "the volume, the version, nothing more")
        XCTAssertGreaterThanOrEqual(fromOriginal.filter { $0 == "true" }.count, 3)
        XCTAssertEqual(fromCopy, fromOriginal)
    }

    func testADamagedCardRecordIsRefusedAndChangesNothing() throws {
        busyCard()
        let saved = sb.savedState()
        let original = (harness!, ram!, dma!, sb!, irqs)
        setUp()
        command(0xF2)
        let before = sb.savedState(), deadline = harness.scheduler.nextDeadline
        func engine(_ change: (inout StateRecord) -> Void) -> StateRecord {
            var engines = try! saved.records("engines")
            change(&engines[1])
            var record = saved
            record.put("engines", engines)
            return record
        }
        var mixerRecord = try saved.record("mixer")
        var registers = try mixerRecord.bytes("registers")
        registers[0x80] = 0x12
        mixerRecord.put("registers", registers)
        var badMixer = saved
        badMixer.put("mixer", mixerRecord)
        var fullCommand = saved
        fullCommand.put("arguments", [UInt8(7)])
        var longReply = saved
        longReply.put("output", [UInt8](repeating: 0, count: 70_000))
        let refusals: [(StateRecord, StateRecordError)] = [
            (engine { $0.put("channel", 9) }, .outOfRange(record: "sb16-engine", field: "channel")),
            (engine { $0.put("bytesLeftInBlock", 5000) }, .outOfRange(record: "sb16-engine", field: "bytesLeftInBlock")),
            (engine { $0.put("origin", Int64.max) }, .outOfRange(record: "sb16-engine", field: "origin")),
            (badMixer, .outOfRange(record: "ct1745", field: "registers")),
            (fullCommand, .outOfRange(record: "sb16", field: "command")),
            (longReply, .outOfRange(record: "sb16", field: "output")),
        ]
        for (record, error) in refusals {
            XCTAssertThrowsError(try sb.loadState(record)) { XCTAssertEqual($0 as? StateRecordError, error) }
        }
        XCTAssertEqual(sb.savedState(), before)
        XCTAssertEqual(harness.scheduler.nextDeadline, deadline)
        XCTAssertTrue(irqs[5]!.level)
        (harness, ram, dma, sb, irqs) = original
    }
}

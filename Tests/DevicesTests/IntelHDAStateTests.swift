import Lifecycle
import Memory
import Timing
import XCTest
@testable import Devices

/// The HDA controller saved while stream 4 plays (a completion pending, the
/// CORB/RIRB in use, an immediate response unread), loaded with RAM into a
/// fresh controller on a fresh clock: completions interrupt at the same
/// guest times, LPIB and the position buffer move alike, the codec answers
/// alike.
extension IntelHDATests {
    /// Four 10 ms periods at 44.1 kHz; 35 ms played, the first two completions acknowledged.
    func playingController() {
        bringUp()
        startPlayback(format: 0x4011, periods: 4, periodBytes: 1764)
        for _ in 0..<35 {
            advance(by: 1_000_000)
            if clock.now < 20_500_000, probe.level { writeb(out0 + 3, 0x1C) }
        }
        XCTAssertTrue(probe.level, "the third completion is pending")
        writel(0x60, 2 << 20 | 0xB_A000)  // immediate: the DAC's left output amplifier
        writew(0x68, 1)
    }

    func driveOn(clock: VirtualClock, scheduler: EventScheduler) -> [String] {
        var seen = ["\(probe.level) \(readl(0x64)) \(readw(0x68))"]
        for _ in 0..<60 {
            let end = clock.now + 1_000_000
            while let deadline = scheduler.nextDeadline, deadline <= end {
                clock.skip(to: deadline)
                scheduler.runExpired(now: deadline)
            }
            clock.skip(to: end)
            seen.append("\(probe.level) \(readl(out0 + 4)) \(peek32(positions + 4 * 8))")
            if probe.level { writeb(out0 + 3, 0x1C) }
        }
        seen.append("\([0x08, 0x0C, 0x20, 0x24, 0x30, 0x40, 0x48, 0x4C, 0x50, 0x58, 0x5C, 0x70].map(readl))")
        seen.append("\(stride(from: UInt32(0), to: 0x20, by: 4).map { readl(out0 + $0) })")
        seen.append("\([(2, 0xB, 0xA000), (3, 0xF07, 0), (2, 0xF05, 0), (2, 0xF06, 0)].map { verb(node: $0.0, $0.1, $0.2) })")
        return seen
    }

    func testRoundTripCompletesPeriodsAtTheSameGuestTimes() throws {
        playingController()
        let savedClock = clock.savedState()
        let saved = try functionRecord(card)
        let original = (ram!, card!, probe!, pciBus!, router!)
        let freshClock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)), freshScheduler = EventScheduler()
        ram = try GuestRAM(size: original.0.size)
        ram.base.copyMemory(from: original.0.base, byteCount: ram.size)
        let space = AddressSpace(ram: ram)
        _ = try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        card = IntelHDA(codec: HDACodec(duplex: true), memory: space, memoryWritten: { _, _ in }, clock: freshClock, scheduler: freshScheduler)
        probe = LineProbe()
        pciBus = PCIBus()
        router = AC97Tests.Router(line: probe.line)
        pciBus.interruptRouter = router
        try pciBus.plug(card, slot: 0x1B)
        try freshClock.loadState(savedClock)
        try card.prepareFunctionLoad(saved)()
        XCTAssertEqual(try functionRecord(card), saved)
        XCTAssertTrue(probe.level, "INTA# at the saved level")
        XCTAssertEqual(freshScheduler.nextDeadline, scheduler.nextDeadline, "the stream's timer")
        let fromCopy = driveOn(clock: freshClock, scheduler: freshScheduler)
        (ram, card, probe, pciBus, router) = original
        let fromOriginal = driveOn(clock: clock, scheduler: scheduler)
        XCTAssertEqual(fromOriginal[0], "true 74 2", "the immediate response: 0 dB, unmuted")
        XCTAssertGreaterThanOrEqual(fromOriginal.filter { $0.hasPrefix("true") }.count, 5, "completions go on")
        XCTAssertEqual(fromCopy, fromOriginal)
    }

    func testADamagedControllerRecordIsRefusedAndChangesNothing() throws {
        playingController()
        let saved = try functionRecord(card)
        let original = (ram!, card!, probe!, pciBus!, router!)
        setUp()
        bringUp()
        let before = try functionRecord(card)
        func stream(_ index: Int, _ change: (inout StateRecord) -> Void) -> StateRecord {
            var streams = try! saved.records("streams")
            change(&streams[index])
            var record = saved
            record.put("streams", streams)
            return record
        }
        func codec(_ change: (inout StateRecord) -> Void) -> StateRecord {
            var inner = try! saved.record("codec")
            change(&inner)
            var record = saved
            record.put("codec", inner)
            return record
        }
        var pastTheRing = saved
        pastTheRing.put("corbReadPointer", UInt16(256))
        var future = saved
        future.put("wallClockOrigin", clock.now + 1)
        let refusals: [(StateRecord, StateRecordError)] = [
            (pastTheRing, .outOfRange(record: "intel-hda", field: "corbReadPointer")),
            (future, .outOfRange(record: "intel-hda", field: "wallClockOrigin")),
            (stream(4) { $0.put("linkPosition", UInt32(4 * 1764)) }, .outOfRange(record: "hda-stream4", field: "linkPosition")),
            (stream(4) { $0.put("status", UInt8(0x20)) }, .outOfRange(record: "hda-stream4", field: "status")),
            (stream(0) { $0.put("sampleBytes", 3) }, .outOfRange(record: "hda-stream0", field: "sampleBytes")),
            (codec { $0.put("dacAmp", [UInt8(0x60), 0x4A, 0, 0]) }, .outOfRange(record: "hda-codec", field: "dacAmp")),
            (codec { $0.put("power", [UInt8](repeating: 4, count: 5)) }, .outOfRange(record: "hda-codec", field: "power")),
        ]
        for (record, error) in refusals {
            XCTAssertThrowsError(try card.prepareFunctionLoad(record)) { XCTAssertEqual($0 as? StateRecordError, error) }
        }
        XCTAssertEqual(try functionRecord(card), before)
        (ram, card, probe, pciBus, router) = original

        // A record from the duplex codec does not fit the output-only one.
        let outputOnly = HDACodec(duplex: false)
        XCTAssertThrowsError(try outputOnly.prepareLoad(try saved.record("codec"))) {
            guard case .configurationMismatch(record: "hda-codec", reason: _)? = $0 as? StateRecordError else { return XCTFail("\($0)") }
        }
    }
}

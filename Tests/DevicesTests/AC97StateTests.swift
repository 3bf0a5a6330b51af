import Lifecycle
import Memory
import XCTest
@testable import Devices

/// AC'97 saved while PCM out plays through its descriptor list (an
/// interrupt pending, a buffer half played) and loaded, with RAM, into a
/// fresh card: buffer completions interrupt at the same guest times and
/// the box walks the list alike.
extension AC97Tests {
    /// 10 ms buffers at 44.1 kHz, four valid, 35 ms played with the first two completions serviced.
    func playingCard() {
        bringUp()
        writeList(samples: 882)
        startPlayback(lastValid: 3)
        for _ in 0..<35 {
            harness.advance(by: 1_000_000)
            if harness.clock.now < 20_500_000 { serviceInterrupt(moveLastValid: true) }
        }
        XCTAssertTrue(probe.level, "the third completion is pending")
        _ = harness.inb(CAS)  // the semaphore left taken
    }

    func driveOn() -> [String] {
        var seen: [String] = ["\(probe.level) \(harness.inb(CAS))"]
        for _ in 0..<60 {
            harness.advance(by: 1_000_000)
            seen.append("\(probe.level)")
            serviceInterrupt(moveLastValid: true)
        }
        seen.append("\((0..<12).map { harness.inb(PO + UInt16($0)) }) \(harness.inl(GLOB_STA)) \(harness.inl(GLOB_CNT))")
        seen.append("\((0..<64).map { harness.inw(AC97Tests.nam + UInt16(2 * $0)) })")
        return seen
    }

    func testRoundTripCompletesBuffersAtTheSameGuestTimes() throws {
        playingCard()
        let clock = harness.clock.savedState()
        let saved = try functionRecord(card)
        let original = (harness!, ram!, card!, probe!, pciBus!, router!)
        setUp()
        ram.base.copyMemory(from: original.1.base, byteCount: ram.size)
        try harness.clock.loadState(clock)
        try card.prepareFunctionLoad(saved)()
        XCTAssertEqual(try functionRecord(card), saved)
        XCTAssertTrue(probe.level, "INTA# at the saved level")
        XCTAssertEqual(harness.scheduler.nextDeadline, original.0.scheduler.nextDeadline, "the box's timer")
        let fromCopy = driveOn()
        (harness, ram, card, probe, pciBus, router) = original
        let fromOriginal = driveOn()
        XCTAssertGreaterThanOrEqual(fromOriginal.filter { $0 == "true" }.count, 5, "completions go on")
        XCTAssertEqual(fromCopy, fromOriginal)
    }

    func testADamagedCardRecordIsRefusedAndChangesNothing() throws {
        playingCard()
        let saved = try functionRecord(card)
        let original = (harness!, ram!, card!, probe!, pciBus!, router!)
        setUp()
        bringUp(rate: 22_050)
        let before = try functionRecord(card)
        func box(_ index: Int, _ change: (inout StateRecord) -> Void) -> StateRecord {
            var boxes = try! saved.records("channels")
            change(&boxes[index])
            var record = saved
            record.put("channels", boxes)
            return record
        }
        var codec = try saved.record("codec")
        var registers = try codec.words("registers", count: 64, as: UInt16.self)
        registers[0x2C >> 1] = 100
        codec.put("registers", words: registers)
        var slowCodec = saved
        slowCodec.put("codec", codec)
        var latched = saved
        latched.put("globalStatusLatched", UInt32(0x40))
        let refusals: [(StateRecord, StateRecordError)] = [
            (slowCodec, .outOfRange(record: "ac97-codec", field: "registers")),
            (latched, .outOfRange(record: "AC97", field: "globalStatusLatched")),
            (box(1) { $0.put("lastValidIndex", UInt8(40)) }, .outOfRange(record: "ac97-pcm-out", field: "lastValidIndex")),
            (box(1) { $0.put("control", UInt8(0x03)) }, .outOfRange(record: "ac97-pcm-out", field: "control")),
            (box(0) { $0.put("origin", Int64.max) }, .outOfRange(record: "ac97-pcm-in", field: "origin")),
            (box(2) { $0 = StateRecord(name: "ac97-mic-in", version: 9) }, .wrongVersion(record: "ac97-mic-in", expected: 1, found: 9)),
        ]
        for (record, error) in refusals {
            XCTAssertThrowsError(try card.prepareFunctionLoad(record)) { XCTAssertEqual($0 as? StateRecordError, error) }
        }
        XCTAssertEqual(try functionRecord(card), before)
        (harness, ram, card, probe, pciBus, router) = original
    }
}

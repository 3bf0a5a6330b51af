import Lifecycle
import XCTest
@testable import Devices

/// The OPL3 saved with a note sounding and timer 2 running, loaded into a
/// fresh chip: the note goes on sample for sample and the timer's flag
/// rises at the same guest time.
extension OPL3Tests {
    func playingChip() {
        write(0x20, 0x01); write(0x23, 0x01)
        write(0x40, 0x10); write(0x43, 0x00)
        write(0x60, 0xF2); write(0x63, 0xF3)
        write(0x80, 0x24); write(0x83, 0x25)
        write(0xC0, 0x36)
        write(0x105, 0x01)
        write(0xA0, UInt8(580 & 0xFF))
        write(0xB0, 0x20 | 4 << 2 | UInt8(580 >> 8))
        write(0x03, 0xF4)  // 3.84 ms
        write(0x04, 0x02)
        _ = render(seconds: 0.03)
        harness.advance(by: 3_000_000)
        harness.out(0x388, 0xA0)
    }

    func testRoundTripPlaysOnAlikeAndTheTimerFlagRisesAtTheSameTime() throws {
        playingChip()
        let clock = harness.clock.savedState()
        let saved = try StateRecordCodec.decode(StateRecordCodec.encode(opl.savedState()))
        let original = (harness!, opl!)
        setUp()
        try harness.clock.loadState(clock)
        try opl.loadState(saved)
        XCTAssertEqual(opl.savedState(), original.1.savedState())
        func driveOn() -> [String] {
            var seen = ["\(render(seconds: 0.02))"]
            harness.out(0x389, 0x07)  // the address left at 0xA0: F-number's low byte
            seen.append("\(render(seconds: 0.01))")
            for _ in 0..<10 {
                harness.advance(by: 200_000)
                seen.append("\(harness.inb(0x388))")
            }
            return seen
        }
        let fromCopy = driveOn()
        (harness, opl) = original
        let fromOriginal = driveOn()
        XCTAssertGreaterThan(render(seconds: 0.01).map(abs).max()!, 100, "the note sounds")
        XCTAssertTrue(fromOriginal.contains("160"), "timer 2's flag rises on the way")
        XCTAssertEqual(fromCopy, fromOriginal)
    }

    func testADamagedChipRecordIsRefusedAndChangesNothing() throws {
        playingChip()
        let saved = opl.savedState()
        let target = OPL3(clock: harness.clock)
        target.writePort(0, 0x20)
        target.writePort(1, 0x07)
        let before = target.savedState()
        var badStage = saved
        badStage.put("stages", [UInt8](repeating: 9, count: 36))
        var notANumber = saved
        notANumber.put("phases", words: [UInt64](repeating: Double.nan.bitPattern, count: 36))
        var futureTimer = saved
        var timers = try saved.records("timers")
        timers[1].put("start", harness.clock.now + 1)
        futureTimer.put("timers", timers)
        var badAddress = saved
        badAddress.put("address", 0x200)
        let refusals: [(StateRecord, StateRecordError)] = [
            (badStage, .outOfRange(record: "opl3", field: "stages")),
            (notANumber, .outOfRange(record: "opl3", field: "phases")),
            (futureTimer, .outOfRange(record: "opl3-timer", field: "start")),
            (badAddress, .outOfRange(record: "opl3", field: "address")),
            (StateRecord(name: "opl3", version: 2), .wrongVersion(record: "opl3", expected: 1, found: 2)),
        ]
        for (record, error) in refusals {
            XCTAssertThrowsError(try target.loadState(record)) { XCTAssertEqual($0 as? StateRecordError, error) }
        }
        XCTAssertEqual(target.savedState(), before)
    }
}

import XCTest
import Timing
@testable import Lifecycle

final class TimerStateTests: XCTestCase {
    func testArmedTimerFiresAtTheSameGuestTimeAfterLoad() throws {
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        let scheduler = EventScheduler()
        let timer = TimerEvent(name: "pit.counter0") {}
        clock.advance(instructions: 1_000)
        scheduler.schedule(timer, at: 1_750)
        var record = StateRecord(name: "pit", version: 1)
        record.putTimer(timer, clock: clock)
        let savedClock = clock.savedState()
        let decoded = try StateRecordCodec.decode(StateRecordCodec.encode(record))

        // A fresh machine at another time: the clock is loaded first, then the timer.
        let clock2 = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        clock2.advance(instructions: 99_999)
        let scheduler2 = EventScheduler()
        var fired: Int64?
        let timer2 = TimerEvent(name: "pit.counter0") { fired = clock2.now }
        try clock2.loadState(savedClock)
        XCTAssertEqual(clock2.now, 1_000)
        try decoded.loadTimer(timer2, clock: clock2, scheduler: scheduler2)
        XCTAssertTrue(timer2.isPending)
        XCTAssertEqual(timer2.deadline, 1_750)
        clock2.advance(instructions: 749)
        XCTAssertEqual(scheduler2.runExpired(now: clock2.now), 0)
        clock2.advance(instructions: 1)
        XCTAssertEqual(scheduler2.runExpired(now: clock2.now), 1)
        XCTAssertEqual(fired, 1_750)
    }

    func testDisarmedTimerIsCancelledOnLoad() throws {
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        let scheduler = EventScheduler()
        let idle = TimerEvent(name: "rtc.periodic") {}
        var record = StateRecord(name: "rtc", version: 1)
        record.putTimer(idle, clock: clock)
        scheduler.schedule(idle, at: 5)
        try record.loadTimer(idle, clock: clock, scheduler: scheduler)
        XCTAssertFalse(idle.isPending)
        XCTAssertEqual(scheduler.pendingCount, 0)
        // Another device's timer name is refused.
        XCTAssertThrowsError(try record.loadTimer(TimerEvent(name: "pit.counter0") {}, clock: clock, scheduler: scheduler))
    }

    func testHostClockLoadsToTheSavedTime() throws {
        let clock = VirtualClock()
        clock.pause()
        let before = clock.now
        var record = clock.makeRecord()
        record.put("now", before + 5_000_000_000)
        try clock.loadState(record)
        XCTAssertEqual(clock.now, before + 5_000_000_000)
        clock.resume()
        XCTAssertGreaterThanOrEqual(clock.now, before + 5_000_000_000)
    }
}

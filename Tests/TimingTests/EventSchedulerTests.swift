import Timing
import XCTest

final class EventSchedulerTests: XCTestCase {
    func testTimersFireInDeadlineOrderAndTiesInScheduleOrder() {
        let scheduler = EventScheduler()
        var fired: [String] = []
        let names = ["c", "a", "b", "a2", "d"]
        let deadlines: [Int64] = [30, 10, 20, 10, 40]
        let timers = names.map { name in TimerEvent(name: name) { fired.append(name) } }
        for (timer, deadline) in zip(timers, deadlines) { scheduler.schedule(timer, at: deadline) }
        XCTAssertEqual(scheduler.nextDeadline, 10)
        XCTAssertEqual(scheduler.runExpired(now: 25), 3)
        XCTAssertEqual(fired, ["a", "a2", "b"])
        XCTAssertEqual(scheduler.nextDeadline, 30)
        scheduler.runExpired(now: 100)
        XCTAssertEqual(fired, ["a", "a2", "b", "c", "d"])
        XCTAssertNil(scheduler.nextDeadline)
    }

    func testCancelAndRescheduleMoveATimer() {
        let scheduler = EventScheduler()
        var fired: [String] = []
        let early = TimerEvent(name: "early") { fired.append("early") }
        let late = TimerEvent(name: "late") { fired.append("late") }
        scheduler.schedule(early, at: 5)
        scheduler.schedule(late, at: 50)
        scheduler.schedule(early, at: 60)  // re-arming moves it, never duplicates it
        XCTAssertEqual(scheduler.pendingCount, 2)
        scheduler.cancel(late)
        XCTAssertFalse(late.isPending)
        scheduler.runExpired(now: 55)
        XCTAssertEqual(fired, [])
        scheduler.runExpired(now: 60)
        XCTAssertEqual(fired, ["early"])
        XCTAssertFalse(early.isPending)
    }

    func testPeriodicTimerReschedulesItselfFromItsCallback() {
        let scheduler = EventScheduler()
        var ticks: [Int64] = []
        var timer: TimerEvent!
        timer = TimerEvent(name: "tick") {
            ticks.append(timer.deadline)
            scheduler.schedule(timer, at: timer.deadline + 10)
        }
        scheduler.schedule(timer, at: 10)
        scheduler.runExpired(now: 45)
        XCTAssertEqual(ticks, [10, 20, 30, 40])
        XCTAssertEqual(scheduler.nextDeadline, 50)
    }

    func testManyTimersComeOutSorted() {
        let scheduler = EventScheduler()
        var fired: [Int64] = []
        var generator = SystemRandomNumberGenerator()
        var timers: [TimerEvent] = []
        for index in 0..<500 {
            let timer = TimerEvent(name: "t\(index)") {}
            timers.append(timer)
            scheduler.schedule(timer, at: Int64.random(in: 0..<10_000, using: &generator))
        }
        for timer in timers.prefix(100) { scheduler.cancel(timer) }
        while let next = scheduler.nextDeadline {
            fired.append(next)
            scheduler.runExpired(now: next)
        }
        XCTAssertEqual(fired, fired.sorted())
        XCTAssertEqual(scheduler.pendingCount, 0)
    }
}

final class VirtualClockTests: XCTestCase {
    func testDeterministicClockMovesOnlyWithInstructions() {
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 2))
        XCTAssertEqual(clock.now, 0)
        clock.advance(instructions: 500)
        XCTAssertEqual(clock.now, 1000)
        clock.skip(to: 5000)
        XCTAssertEqual(clock.now, 5000)
        clock.skip(to: 10)  // never backwards
        XCTAssertEqual(clock.now, 5000)
    }

    func testHostClockStopsWhilePaused() {
        let clock = VirtualClock(mode: .host)
        let start = clock.now
        usleep(2_000)
        XCTAssertGreaterThan(clock.now, start)
        clock.pause()
        let paused = clock.now
        usleep(5_000)
        XCTAssertEqual(clock.now, paused)
        clock.resume()
        XCTAssertLessThan(clock.now - paused, 4_000_000, "the paused time does not count")
    }
}

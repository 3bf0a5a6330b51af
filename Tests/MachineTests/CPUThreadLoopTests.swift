import Execution
import Foundation
import Machine
import Timing
import XCTest

/// An engine that executes "instructions" at a fixed rate of virtual time,
/// halting or powering off on request: enough to drive the loop's logic.
final class CountingEngine: ExecutionEngine {
    let clock: VirtualClock
    var slices = 0
    var haltAfter: Int64 = .max
    var powerOffAt: Int64 = .max
    var resets = 0

    init(clock: VirtualClock) { self.clock = clock }

    func run(until deadline: Int64) -> EngineStop {
        slices += 1
        if clock.now >= powerOffAt { return .powerOff(status: 3) }
        if clock.now >= haltAfter { return .halted }
        clock.advance(instructions: max(1, deadline - clock.now))
        return .yielded
    }

    func requestExit() {}
    func reset() { resets += 1 }
}

final class CPUThreadLoopTests: XCTestCase {
    func testTimersFireAtTheirDeadlinesWhileTheGuestRuns() {
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        let scheduler = EventScheduler()
        let engine = CountingEngine(clock: clock)
        engine.powerOffAt = 50_000_000
        var firedAt: [Int64] = []
        var tick: TimerEvent!
        tick = TimerEvent(name: "tick") {
            firedAt.append(clock.now)
            scheduler.schedule(tick, at: tick.deadline + 1_000_000)
        }
        scheduler.schedule(tick, at: 1_000_000)
        let loop = CPUThreadLoop(clock: clock, scheduler: scheduler, engine: engine, onReset: {})
        XCTAssertEqual(loop.run(), 3)
        XCTAssertEqual(firedAt.count, 50, "timers due at the power-off instant still fire")
        XCTAssertEqual(firedAt.first, 1_000_000, "slices end exactly at the next deadline")
        XCTAssertEqual(firedAt.last, 50_000_000)
    }

    func testAHaltedGuestSkipsToTheNextEventInDeterministicMode() {
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        let scheduler = EventScheduler()
        let engine = CountingEngine(clock: clock)
        engine.haltAfter = 0
        engine.powerOffAt = 5_000_000_000
        let wake = TimerEvent(name: "wake") {}
        scheduler.schedule(wake, at: 5_000_000_000)
        let loop = CPUThreadLoop(clock: clock, scheduler: scheduler, engine: engine, onReset: {})
        XCTAssertEqual(loop.run(), 3)
        XCTAssertEqual(clock.now, 5_000_000_000)
        // Idle slices are capped so posted work is seen, but nothing else happens.
        XCTAssertLessThanOrEqual(engine.slices, 502)
    }

    func testAHaltedGuestSleepsOnTheHostUntilWorkIsPosted() throws {
        let clock = VirtualClock(mode: .host)
        let scheduler = EventScheduler()
        let engine = CountingEngine(clock: clock)
        engine.haltAfter = 0
        let loop = CPUThreadLoop(clock: clock, scheduler: scheduler, engine: engine, onReset: {})
        final class Result: @unchecked Sendable { var status: Int32 = -1 }
        let result = Result()
        let done = expectation(description: "loop ended")
        var cpuBefore = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &cpuBefore)
        Thread.detachNewThread {
            result.status = loop.run()
            done.fulfill()
        }
        usleep(300_000)
        var ran = false
        loop.post { ran = true }
        usleep(50_000)
        loop.stop(status: 7, cause: .hostSignal)
        wait(for: [done], timeout: 5)
        var cpuAfter = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &cpuAfter)
        XCTAssertEqual(result.status, 7)
        XCTAssertTrue(ran)
        let cpuSeconds = Double(cpuAfter.ru_utime.tv_sec - cpuBefore.ru_utime.tv_sec)
            + Double(cpuAfter.ru_utime.tv_usec - cpuBefore.ru_utime.tv_usec) / 1e6
        XCTAssertLessThan(cpuSeconds, 0.1, "an idle guest burns no host CPU")
        XCTAssertLessThanOrEqual(engine.slices, 3, "a halted guest with no timer is not polled")
    }

    /// A timer the guest arms just before it halts (a one-shot tick
    /// programmed in the idle loop) wakes the sleeping loop on time.
    func testATimerArmedByTheGuestBeforeItHaltsWakesTheLoop() {
        final class ArmingEngine: ExecutionEngine {
            let clock: VirtualClock, scheduler: EventScheduler
            var stopAt: Int64 = 0
            var runs = 0
            var tick: TimerEvent!
            var fired = false
            init(clock: VirtualClock, scheduler: EventScheduler) {
                self.clock = clock
                self.scheduler = scheduler
            }
            func run(until deadline: Int64) -> EngineStop {
                runs += 1
                if fired { return .powerOff(status: 5) }
                if runs == 1 {
                    tick = TimerEvent(name: "one-shot") { [unowned self] in fired = true }
                    scheduler.schedule(tick, at: clock.now + 30_000_000)
                }
                return .halted
            }
            func requestExit() {}
            func reset() {}
        }
        let clock = VirtualClock(mode: .host)
        let scheduler = EventScheduler()
        let engine = ArmingEngine(clock: clock, scheduler: scheduler)
        let loop = CPUThreadLoop(clock: clock, scheduler: scheduler, engine: engine, onReset: {})
        final class Result: @unchecked Sendable { var status: Int32 = -1 }
        let result = Result()
        let done = expectation(description: "loop ended")
        let start = Date()
        Thread.detachNewThread {
            result.status = loop.run()
            done.fulfill()
        }
        wait(for: [done], timeout: 2)
        XCTAssertEqual(result.status, 5, "the timer armed during the run fired")
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5)
        XCTAssertLessThanOrEqual(engine.runs, 4, "and the halted loop slept until it")
        if result.status != 5 { loop.stop(status: 0, cause: .hostSignal) }
    }

    /// A slack timer rides on the passes the loop makes for the guest's own
    /// timers, and wakes a halted guest's loop only once its slack is spent.
    func testSlackTimerRunsOnTheNextPassOrAtItsSlack() throws {
        let clock = VirtualClock(mode: .host)
        let scheduler = EventScheduler()
        let engine = CountingEngine(clock: clock)
        engine.haltAfter = 0
        let loop = CPUThreadLoop(clock: clock, scheduler: scheduler, engine: engine, onReset: {})
        final class Runs: @unchecked Sendable { var times: [Int64] = []; var secondDeadline: Int64 = 0 }
        let runs = Runs()
        let start = clock.now
        // A guest tick every 4 ms; the slack timer is due at 10 ms with 50 ms of slack.
        var tick: TimerEvent!
        tick = TimerEvent(name: "tick") { scheduler.schedule(tick, at: tick.deadline + 4_000_000) }
        scheduler.schedule(tick, at: start + 4_000_000)
        let ticking = SlackTimer(name: "ticking", slack: 50_000_000) { runs.times.append($0) }
        ticking.schedule(at: start + 10_000_000)
        loop.add(ticking)
        let done = expectation(description: "loop ended")
        Thread.detachNewThread {
            _ = loop.run()
            done.fulfill()
        }
        usleep(150_000)
        loop.post {
            scheduler.cancel(tick)
            // Alone now: it must wake the loop itself, 40 ms after it is due.
            runs.secondDeadline = clock.now + 10_000_000
            ticking.schedule(at: runs.secondDeadline)
        }
        usleep(300_000)
        loop.stop(status: 0, cause: .hostSignal)
        wait(for: [done], timeout: 5)
        XCTAssertEqual(runs.times.count, 2)
        guard runs.times.count == 2 else { return }
        XCTAssertGreaterThanOrEqual(runs.times[0] - start, 10_000_000)
        XCTAssertLessThan(runs.times[0] - start, 40_000_000, "it ran on a tick's pass, long before its slack was spent")
        XCTAssertGreaterThanOrEqual(runs.times[1], runs.secondDeadline + 50_000_000, "alone, it waits out its slack")
        XCTAssertLessThan(runs.times[1], runs.secondDeadline + 90_000_000)
    }
}

/// The loop's events, as QMP passes them on: each with its cause.
final class MachineEventTests: XCTestCase {
    private final class Heard: @unchecked Sendable {
        let lock = NSLock()
        var events: [MachineEvent] = []
        func add(_ event: MachineEvent) {
            lock.lock()
            events.append(event)
            lock.unlock()
        }
    }

    func testStopResumeResetAndShutdownCarryTheirCauses() {
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        let engine = CountingEngine(clock: clock)
        let loop = CPUThreadLoop(clock: clock, scheduler: EventScheduler(), engine: engine, onReset: {})
        let heard = Heard()
        let token = loop.events.subscribe { event, time in
            XCTAssertGreaterThan(time.tv_sec, 0, "the host's time of day")
            heard.add(event)
        }
        loop.holdAtStart()
        XCTAssertEqual(loop.runState, .prelaunch)
        loop.pause()
        XCTAssertEqual(heard.events, [], "-S's hold and a stop while held raise nothing")
        loop.resume()
        XCTAssertEqual(loop.runState, .running)
        loop.pause()
        loop.pause()
        XCTAssertEqual(loop.runState, .paused)
        loop.resume()
        loop.resume()
        XCTAssertEqual(heard.events, [.resume, .stop, .resume])
        loop.requestReset(cause: .hostQMPSystemReset)
        engine.powerOffAt = 1_000_000
        loop.post { loop.stop(status: 0, cause: .hostQMPQuit) }
        XCTAssertEqual(loop.run(), 0)
        XCTAssertEqual(engine.resets, 1)
        XCTAssertEqual(heard.events, [.resume, .stop, .resume, .reset(.hostQMPSystemReset), .shutdown(.hostQMPQuit)])
        loop.events.unsubscribe(token)
        loop.events.fire(.powerdown)
        XCTAssertEqual(heard.events.count, 5, "no events after unsubscribing")
    }

    /// A `cont` that lands while work posted to the stopped machine runs
    /// (the wait for it ended still paused) lets the guest's clock run again.
    func testTheClockRunsAgainAfterAResumeDuringPostedWork() {
        let clock = VirtualClock()
        let engine = CountingEngine(clock: clock)
        engine.haltAfter = 0
        let loop = CPUThreadLoop(clock: clock, scheduler: EventScheduler(), engine: engine, onReset: {})
        loop.pause()
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            _ = loop.run()
            finished.signal()
        }
        thread.start()
        usleep(50_000)
        loop.post { loop.resume() }
        func guestTime() -> Int64 {
            let done = DispatchSemaphore(value: 0)
            let box = TimeBox()
            loop.post {
                box.value = clock.now
                done.signal()
            }
            done.wait()
            return box.value
        }
        let before = guestTime()
        usleep(200_000)
        let after = guestTime()
        XCTAssertGreaterThan(after - before, 100_000_000, "the guest's clock runs after cont")
        loop.stop(status: 0, cause: .hostQMPQuit)
        finished.wait()
    }

    private final class TimeBox: @unchecked Sendable {
        var value: Int64 = 0
    }

    func testAGuestResetWithNoRebootIsTheShutdownsReason() {
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        let loop = CPUThreadLoop(clock: clock, scheduler: EventScheduler(), engine: CountingEngine(clock: clock), onReset: {})
        loop.exitOnReset = true
        let heard = Heard()
        _ = loop.events.subscribe { event, _ in heard.add(event) }
        loop.requestReset()
        XCTAssertEqual(loop.run(), 0)
        XCTAssertEqual(heard.events, [.shutdown(.guestReset)])
    }

    func testTheCPUStoppingIsAHostError() {
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        let engine = CountingEngine(clock: clock)
        engine.powerOffAt = 1000
        let loop = CPUThreadLoop(clock: clock, scheduler: EventScheduler(), engine: engine, onReset: {})
        let heard = Heard()
        _ = loop.events.subscribe { event, _ in heard.add(event) }
        XCTAssertEqual(loop.run(), 3)
        XCTAssertEqual(heard.events, [.shutdown(.hostError)])
    }
}

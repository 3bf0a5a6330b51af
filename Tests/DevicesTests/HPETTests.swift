import Memory
import Timing
import XCTest
@testable import Devices

/// The HPET driven through its registers the way Linux's hpet driver and
/// SeaBIOS's detection drive it, on a deterministic clock.
final class HPETTests: XCTestCase {
    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
    let scheduler = EventScheduler()
    /// Every level change, as (GSI, level).
    var changes: [(Int, Bool)] = []
    var legacy: [Bool] = []
    lazy var hpet = HPET(clock: clock, scheduler: scheduler, interrupt: { [unowned self] gsi, level in changes.append((gsi, level)) },
                         legacyReplacementChanged: { [unowned self] on in legacy.append(on) })

    // Register offsets and bits as the driver names them.
    let capabilities: UInt32 = 0x000, configuration: UInt32 = 0x010, status: UInt32 = 0x020, counter: UInt32 = 0x0F0
    func timerConfiguration(_ n: UInt32) -> UInt32 { 0x100 + 0x20 * n }
    func timerComparator(_ n: UInt32) -> UInt32 { 0x108 + 0x20 * n }
    let enable: UInt32 = 1, legacyRoute: UInt32 = 2
    let level: UInt32 = 1 << 1, interruptEnable: UInt32 = 1 << 2, periodic: UInt32 = 1 << 3, setValue: UInt32 = 1 << 6,
        mode32: UInt32 = 1 << 8

    func readl(_ offset: UInt32) -> UInt32 { hpet.read(offset: offset, size: .dword) }
    func writel(_ offset: UInt32, _ value: UInt32) { hpet.write(offset: offset, value: value, size: .dword) }

    /// Moves guest time forward and runs the timers that came due.
    func advance(nanoseconds: Int64) {
        clock.skip(to: clock.now + nanoseconds)
        _ = scheduler.runExpired(now: clock.now)
    }

    var rises: [Int] { changes.filter { $0.1 }.map { $0.0 } }

    func testCapabilitiesAsSeaBIOSAndLinuxReadThem() {
        let low = readl(capabilities)
        XCTAssertEqual(low & 0xFF, 1, "revision")
        XCTAssertEqual((low >> 8) & 0x1F, 2, "three timers")
        XCTAssertNotEqual(low & (1 << 13), 0, "64-bit counter")
        XCTAssertNotEqual(low & (1 << 15), 0, "legacy replacement capable")
        XCTAssertEqual(low >> 16, 0x8086)
        XCTAssertEqual(readl(capabilities + 4), 10_000_000, "10 ns in femtoseconds")
        // Timer 0 is periodic-capable and 64-bit; its routes include GSI 2 and 8-23.
        XCTAssertEqual(readl(timerConfiguration(0)) & (3 << 4), 3 << 4)
        XCTAssertEqual(readl(timerConfiguration(1)) & (1 << 4), 0)
        XCTAssertEqual(readl(timerConfiguration(0) + 4), 0x00FF_FF04)
        // A byte read takes its part of the register.
        XCTAssertEqual(hpet.read(offset: capabilities + 2, size: .byte), 0x86)
    }

    func testTheCounterRunsOnlyWhileEnabledAndIsWritableWhileHalted() {
        advance(nanoseconds: 5_000)
        XCTAssertEqual(readl(counter), 0)
        writel(configuration, enable)
        advance(nanoseconds: 1_000)
        XCTAssertEqual(readl(counter), 100, "100 MHz")
        writel(counter, 0x1234)  // ignored while running
        XCTAssertEqual(readl(counter), 100)
        writel(configuration, 0)
        advance(nanoseconds: 1_000)
        XCTAssertEqual(readl(counter), 100, "halted")
        writel(counter, 0xFFFF_FFF0)
        writel(counter + 4, 7)
        XCTAssertEqual(readl(counter), 0xFFFF_FFF0)
        XCTAssertEqual(readl(counter + 4), 7)
        writel(configuration, enable)
        advance(nanoseconds: 200)
        XCTAssertEqual(readl(counter), 4, "the low half wrapped into the high")
        XCTAssertEqual(readl(counter + 4), 8)
    }

    /// Linux's one-shot clockevent: 32-bit mode, legacy replacement, the
    /// comparator set to the counter plus a delta.
    func testOneShotInLegacyReplacementPulsesIRQ0Once() {
        writel(timerConfiguration(0), interruptEnable | mode32)
        writel(configuration, enable | legacyRoute)
        XCTAssertEqual(legacy, [true])
        advance(nanoseconds: 1_000)
        writel(timerComparator(0), readl(counter) &+ 500)
        advance(nanoseconds: 4_990)
        XCTAssertEqual(rises, [])
        advance(nanoseconds: 10)
        XCTAssertEqual(rises, [0])
        XCTAssertEqual(changes.last?.1, false, "an edge: pulsed, not held")
        advance(nanoseconds: 100_000)
        XCTAssertEqual(rises, [0], "one shot")
        writel(configuration, enable)
        XCTAssertEqual(legacy, [true, false])
    }

    /// Linux's periodic mode: ENABLE|PERIODIC|SETVAL|32BIT, the comparator
    /// written with the first deadline, then again with the period.
    func testPeriodicTimerFiresEveryPeriodAndCatchesUpWhenLate() {
        writel(configuration, enable | legacyRoute)
        advance(nanoseconds: 3_000)
        let now = readl(counter)
        writel(timerConfiguration(0), interruptEnable | periodic | setValue | mode32)
        writel(timerComparator(0), now + 1_000)
        writel(timerComparator(0), 1_000)  // 10 µs
        XCTAssertEqual(readl(timerConfiguration(0)) & setValue, 0, "SETVAL clears itself")
        for _ in 0..<10 { advance(nanoseconds: 10_000) }
        XCTAssertEqual(rises.count, 10)
        XCTAssertEqual(readl(timerComparator(0)), now + 11_000)
        // 5.5 periods pass before the timer runs: one interrupt, the next one ahead.
        clock.skip(to: clock.now + 55_000)
        _ = scheduler.runExpired(now: clock.now)
        XCTAssertEqual(rises.count, 11)
        let comparator = readl(timerComparator(0))
        XCTAssertGreaterThan(comparator, readl(counter))
        XCTAssertLessThanOrEqual(comparator - readl(counter), 1_000)
    }

    /// Linux leaves timer 0 periodic with its interrupt off when the local
    /// APIC takes over. Such a timer arms no event, yet its comparator reads
    /// as a timer with its interrupt on would have stepped it; enabled again,
    /// it fires on the same schedule.
    func testAPeriodicTimerWithItsInterruptOffArmsNothingButKeepsItsComparatorStepping() {
        for width in [mode32, 0] {
            var firing: HPET!
            var fired = 0
            firing = HPET(clock: clock, scheduler: scheduler, interrupt: { _, level in if level { fired += 1 } })
            hpet.reset()
            for (device, interrupt) in [(firing!, interruptEnable), (hpet, 0)] {
                device.write64(configuration, value: UInt64(enable), mask: ~0)
                device.write64(timerConfiguration(0), value: UInt64(interrupt | periodic | setValue | width), mask: ~0)
                device.write64(timerComparator(0), value: 1_000, mask: ~0)
                device.write64(timerComparator(0), value: 1_000, mask: ~0)  // 10 µs
            }
            XCTAssertEqual(scheduler.pendingCount, 1, "only the timer with its interrupt on is armed")
            for _ in 0..<37 { advance(nanoseconds: 3_300) }
            XCTAssertGreaterThan(fired, 10)
            XCTAssertEqual(hpet.read64(timerComparator(0)), firing.read64(timerComparator(0)), "the comparator stepped as often")
            for _ in 0..<20 { advance(nanoseconds: 7_700) }
            // The interrupt on again: the next match is the firing timer's.
            writel(timerConfiguration(0), interruptEnable | periodic | width)
            XCTAssertEqual(hpet.read64(timerComparator(0)), firing.read64(timerComparator(0)))
            XCTAssertEqual(scheduler.pendingCount, 2)
            changes = []
            advance(nanoseconds: 10_000)
            XCTAssertEqual(rises.count, 1, "it fires within a period")
            XCTAssertEqual(hpet.read64(timerComparator(0)), firing.read64(timerComparator(0)))
            firing.reset()
            hpet.reset()
        }
    }

    /// On host time the clock moves while a match is delivered. When it moves
    /// past the next comparator (the host thread was preempted), the timer
    /// must still fire within a period, not wait 43 s for the 32-bit counter to
    /// wrap: that stall made Linux's boot-time timer check panic ("IO-APIC +
    /// timer doesn't work!") on a loaded host.
    func testPeriodicTimerKeepsTickingWhenTimeJumpsDuringAMatch() {
        for width in [mode32, 0] {
            hpet.reset()  // the last one's events leave the scheduler
            changes = []
            var preempted = false
            hpet = HPET(clock: clock, scheduler: scheduler, interrupt: { [unowned self] gsi, level in
                changes.append((gsi, level))
                // The first delivery takes 2.5 periods of host time.
                if level && !preempted { preempted = true; clock.skip(to: clock.now + 25_000) }
            })
            writel(configuration, enable | legacyRoute)
            writel(timerConfiguration(0), interruptEnable | periodic | setValue | width)
            // Whole 64-bit writes, so the 64-bit timer's high half is set too.
            hpet.write64(timerComparator(0), value: UInt64(readl(counter)) + 1_000, mask: ~0)
            hpet.write64(timerComparator(0), value: 1_000, mask: ~0)  // 10 µs
            advance(nanoseconds: 10_000)
            XCTAssertEqual(rises.count, 1)
            XCTAssertTrue(preempted)
            for _ in 0..<5 { advance(nanoseconds: 10_000) }
            XCTAssertGreaterThanOrEqual(rises.count, 5, width == 0 ? "64-bit" : "32-bit")
        }
    }

    /// A level-triggered timer routed to an I/O APIC input: the status bit and
    /// the line stay set until the driver writes the bit back.
    func testLevelTriggeredRouteHoldsTheLineUntilTheStatusIsCleared() {
        writel(timerConfiguration(2), level | interruptEnable | 20 << 9)
        // A 64-bit comparator: both halves (it resets to all ones).
        writel(timerComparator(2), 50)
        writel(timerComparator(2) + 4, 0)
        writel(configuration, enable)
        advance(nanoseconds: 500)
        XCTAssertEqual(rises, [20])
        XCTAssertEqual(readl(status), 1 << 2)
        XCTAssertEqual(changes.last?.1, true)
        writel(status, 1 << 2)
        XCTAssertEqual(readl(status), 0)
        XCTAssertEqual(changes.last?.0, 20)
        XCTAssertEqual(changes.last?.1, false)
    }

    func testARouteTheTimerCannotTakeIsRefused() {
        writel(timerConfiguration(1), interruptEnable | 20 << 9)
        writel(timerConfiguration(1), interruptEnable | 3 << 9)
        XCTAssertEqual((readl(timerConfiguration(1)) >> 9) & 0x1F, 20)
        // Capability bits are read-only.
        writel(timerConfiguration(1) + 4, 0xFFFF_FFFF)
        XCTAssertEqual(readl(timerConfiguration(1) + 4), 0x00FF_FF04)
    }

    func testResetStopsEverythingAndLeavesLegacyReplacement() {
        writel(timerConfiguration(0), interruptEnable)
        writel(timerComparator(0), 100)
        writel(configuration, enable | legacyRoute)
        hpet.reset()
        advance(nanoseconds: 10_000)
        XCTAssertEqual(rises, [])
        XCTAssertEqual(readl(counter), 0)
        XCTAssertEqual(legacy, [true, false])
    }
}

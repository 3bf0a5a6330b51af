import XCTest
@testable import Devices

final class PIT8254Tests: XCTestCase {
    var harness: PortHarness!
    var irq0: LineProbe!
    var pit: PIT8254!
    var portB: SystemControlPortB!
    var speakerLevels: [Bool] = []

    /// Guest nanoseconds at which `ticks` PIT clocks have elapsed (rounded up).
    func time(ofTick ticks: Int64) -> Int64 {
        (ticks * 1_000_000_000 + 1_193_181) / 1_193_182
    }

    override func setUp() {
        harness = PortHarness()
        irq0 = LineProbe()
        pit = PIT8254(clock: harness.clock, scheduler: harness.scheduler, irq0: irq0.line)
        try! harness.bus.attach(pit, name: "pit", base: PIT8254.base, count: PIT8254.portCount)
        speakerLevels = []
        portB = SystemControlPortB(pit: pit, clock: harness.clock) { [unowned self] in self.speakerLevels.append($0) }
        try! harness.bus.attach(portB, name: "port-b", base: SystemControlPortB.port, count: 1)
    }

    func latchAndReadCounter0() -> UInt16 {
        harness.out(0x43, 0x00)
        let low = harness.inb(0x40)
        return UInt16(low) | UInt16(harness.inb(0x40)) << 8
    }

    func testLinuxPeriodicTickGivesOneRisingEdgePerPeriod() {
        // Linux's PIT clockevent in periodic mode, HZ=1000: mode 2, LATCH 1193.
        harness.out(0x43, 0x34)
        harness.out(0x40, UInt8(1193 & 0xFF))
        harness.out(0x40, UInt8(1193 >> 8))
        XCTAssertTrue(irq0.level, "mode 2 output idles high")
        XCTAssertEqual(irq0.risingEdges, 1, "the control word itself raised the output")
        harness.run(until: 10_000_000)
        XCTAssertEqual(irq0.risingEdges, 1 + 10, "11931 ticks hold ten periods of 1193")
        XCTAssertEqual(harness.scheduler.pendingCount, 1, "one timer, armed for the next edge")
        harness.run(until: 1_000_000_000)
        XCTAssertEqual(irq0.risingEdges, 1 + 1000, "1193182 ticks hold 1000 periods")
    }

    /// While the HPET's legacy replacement holds IRQ 0, counter 0 (left in
    /// mode 2 by SeaBIOS) arms no timer; connected again, it drives the line
    /// at its level and its edges come back on time.
    func testADisconnectedCounter0ArmsNoTimer() {
        harness.out(0x43, 0x34)
        harness.out(0x40, UInt8(1193 & 0xFF))
        harness.out(0x40, UInt8(1193 >> 8))
        XCTAssertEqual(harness.scheduler.pendingCount, 1)
        pit.setIRQ0Connected(false)
        XCTAssertEqual(harness.scheduler.pendingCount, 0, "no timer for edges that reach nothing")
        let edges = irq0.risingEdges
        harness.run(until: 10_000_000)
        XCTAssertEqual(irq0.risingEdges, edges)
        XCTAssertEqual(latchAndReadCounter0(), UInt16(1193 - (11931 % 1193)), "the count still follows guest time")
        pit.setIRQ0Connected(true)
        XCTAssertEqual(harness.scheduler.pendingCount, 1)
        harness.run(until: 20_000_000)
        XCTAssertEqual(irq0.risingEdges, edges + 10, "one edge a period again")
    }

    func testCountReadBackFollowsGuestTime() {
        harness.out(0x43, 0x34)
        harness.out(0x40, 0xA9)          // 1193
        harness.out(0x40, 0x04)
        harness.run(until: time(ofTick: 100))
        XCTAssertEqual(latchAndReadCounter0(), 1093)
        harness.run(until: time(ofTick: 1193 + 5))
        XCTAssertEqual(latchAndReadCounter0(), 1188, "reloaded after a period")
    }

    func testLatchedCountIsFrozenUntilRead() {
        harness.out(0x43, 0x34)
        harness.out(0x40, 0x00)
        harness.out(0x40, 0x00)          // 0 means 65536
        harness.run(until: time(ofTick: 500))
        harness.out(0x43, 0x00)
        harness.run(until: time(ofTick: 900))
        harness.out(0x43, 0x00)          // a second latch before reading is ignored
        XCTAssertEqual(UInt16(harness.inb(0x40)) | UInt16(harness.inb(0x40)) << 8, 65036)
        XCTAssertEqual(latchAndReadCounter0(), 64636)
    }

    func testModeZeroOneShotRaisesIRQ0Once() {
        // Linux's oneshot clockevent: mode 0, then the delta.
        harness.out(0x43, 0x30)
        XCTAssertFalse(irq0.level)
        harness.out(0x40, 0xF4)
        harness.out(0x40, 0x01)          // 500 ticks
        harness.run(until: time(ofTick: 499))
        XCTAssertFalse(irq0.level)
        harness.run(until: time(ofTick: 500))
        XCTAssertTrue(irq0.level)
        // The counter wraps on after terminal count.
        harness.run(until: time(ofTick: 600))
        XCTAssertEqual(latchAndReadCounter0(), UInt16(truncatingIfNeeded: 500 - 600))
        harness.run(until: 100_000_000)
        XCTAssertEqual(irq0.risingEdges, 1)
        XCTAssertEqual(harness.scheduler.pendingCount, 0, "no timer once the output is settled")
    }

    func testSeaBIOSSquareWaveAt18Hz() {
        // SeaBIOS timer_setup: mode 3, count 0 (65536).
        harness.out(0x43, 0x36)
        harness.out(0x40, 0x00)
        harness.out(0x40, 0x00)
        harness.run(until: 1_000_000_000)
        XCTAssertEqual(irq0.risingEdges, 1 + 18, "the control word's edge, then 18.2 Hz")
        // Halfway through a period the output is low, early in one it is high.
        harness.run(until: time(ofTick: 65536 * 19 + 100))
        XCTAssertTrue(irq0.level)
        harness.run(until: time(ofTick: 65536 * 19 + 32768 + 100))
        XCTAssertFalse(irq0.level)
        XCTAssertEqual(latchAndReadCounter0(), 65336, "mode 3 counts down by two")
    }

    func testReadBackCommandLatchesStatusThenCount() {
        harness.out(0x43, 0x34)
        harness.out(0x40, 0x10)
        harness.out(0x40, 0x00)          // 16
        harness.run(until: time(ofTick: 3))
        harness.out(0x43, 0xC2)          // read-back: count and status of counter 0
        XCTAssertEqual(harness.inb(0x40), 0xB4, "output high, count loaded, lohi, mode 2, binary")
        XCTAssertEqual(harness.inb(0x40), 13)
        XCTAssertEqual(harness.inb(0x40), 0)
        harness.out(0x43, 0x30)          // mode 0, no count yet
        harness.out(0x43, 0xE2)          // read-back: status only
        XCTAssertEqual(harness.inb(0x40), 0x70, "output low, null count, lohi, mode 0")
    }

    func testBCDCounting() {
        harness.out(0x43, 0x31)          // counter 0, lohi, mode 0, BCD
        harness.out(0x40, 0x00)
        harness.out(0x40, 0x10)          // 1000 decimal
        harness.run(until: time(ofTick: 1))
        XCTAssertEqual(latchAndReadCounter0(), 0x0999)
        harness.run(until: time(ofTick: 1000))
        XCTAssertTrue(irq0.level)
    }

    func testLowByteOnlyAccess() {
        harness.out(0x43, 0x14)          // counter 0, LSB only, mode 2
        harness.out(0x40, 100)
        harness.run(until: time(ofTick: 40))
        harness.out(0x43, 0x00)
        XCTAssertEqual(harness.inb(0x40), 60)
        XCTAssertEqual(harness.inb(0x40), 60, "LSB-only reads never toggle to the high byte")
    }

    func testLinuxCalibrationPollsCounter2ThroughPort61() {
        // pit_calibrate_tsc: gate 2 on, speaker off, mode 0, 50 ms, poll bit 5.
        harness.out(0x61, (harness.inb(0x61) & ~0x02) | 0x01)
        harness.out(0x43, 0xB0)
        harness.out(0x42, UInt8(59659 & 0xFF))
        harness.out(0x42, UInt8(59659 >> 8))
        XCTAssertEqual(harness.inb(0x61) & 0x20, 0)
        harness.run(until: 49_000_000)
        XCTAssertEqual(harness.inb(0x61) & 0x20, 0)
        harness.run(until: 50_000_000)
        XCTAssertEqual(harness.inb(0x61) & 0x20, 0x20)
        XCTAssertEqual(harness.scheduler.pendingCount, 0, "counter 2 needs no timer")
        XCTAssertEqual(speakerLevels, [])
    }

    func testGateLowHoldsCounter2AndRisingGateRestarts() {
        harness.out(0x43, 0xB4)          // counter 2, lohi, mode 2
        harness.out(0x42, 0x64)
        harness.out(0x42, 0x00)          // 100, gate still low
        harness.run(until: time(ofTick: 50))
        XCTAssertTrue(pit.output(ofCounter: 2))
        harness.out(0x61, 0x01)          // rising gate starts it
        harness.run(until: time(ofTick: 50 + 99))
        XCTAssertFalse(pit.output(ofCounter: 2), "count 1: output low for one clock")
        harness.run(until: time(ofTick: 50 + 100))
        XCTAssertTrue(pit.output(ofCounter: 2))
    }

    func testModeZeroGateLowSuspendsCounting() {
        harness.out(0x61, 0x01)
        harness.out(0x43, 0xB0)
        harness.out(0x42, 0xE8)
        harness.out(0x42, 0x03)          // 1000
        harness.run(until: time(ofTick: 100))
        harness.out(0x61, 0x00)
        harness.run(until: time(ofTick: 5000))
        harness.out(0x43, 0x80)
        XCTAssertEqual(UInt16(harness.inb(0x42)) | UInt16(harness.inb(0x42)) << 8, 900)
        harness.out(0x61, 0x01)
        harness.run(until: time(ofTick: 5000 + 899))
        XCTAssertFalse(pit.output(ofCounter: 2))
        harness.run(until: time(ofTick: 5000 + 900))
        XCTAssertTrue(pit.output(ofCounter: 2))
    }

    func testLateTimerStillDeliversTheEdge() {
        harness.out(0x43, 0x34)
        harness.out(0x40, 0x10)
        harness.out(0x40, 0x00)          // period 16 ticks
        // The CPU thread gets round to the timer long after its deadline, at a
        // moment when the output is low again.
        let late = time(ofTick: 16 * 5 + 15)
        harness.clock.skip(to: late)
        harness.scheduler.runExpired(now: late)
        XCTAssertEqual(irq0.risingEdges, 1)
    }

    func testPort61SpeakerBitsAndRefreshToggle() {
        harness.out(0x61, 0x03)
        XCTAssertEqual(speakerLevels, [true])
        XCTAssertEqual(harness.inb(0x61) & 0x0F, 0x03)
        let first = harness.inb(0x61) & 0x10
        harness.advance(by: 15_085)
        XCTAssertNotEqual(harness.inb(0x61) & 0x10, first, "refresh bit flips every 15 µs")
        harness.out(0x61, 0x01)
        XCTAssertEqual(speakerLevels, [true, false])
        XCTAssertTrue(pit.gate(ofCounter: 2))
    }

    func testGuestNonsenseIsHarmless() {
        XCTAssertEqual(harness.inb(0x43), 0xFF)
        harness.out(0x43, 0x3E)          // mode 7 is mode 3
        harness.out(0x40, 0x01)
        harness.out(0x40, 0x00)          // count 1: treated as 2
        harness.run(until: 10_000)
        XCTAssertGreaterThan(irq0.risingEdges, 0)
        harness.out(0x43, 0xFE)          // read-back of nothing useful
        pit.reset()
        XCTAssertEqual(harness.scheduler.pendingCount, 0)
    }
}

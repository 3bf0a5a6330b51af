import XCTest
@testable import Devices

final class MC146818Tests: XCTestCase {
    /// 2024-02-29 23:59:58 UTC, a Thursday, two seconds before March.
    static let leapDayEvening: Int64 = 1_709_251_198

    var harness: PortHarness!
    var irq8: LineProbe!
    var rtc: MC146818!

    override func setUp() {
        harness = PortHarness()
        irq8 = LineProbe()
        rtc = MC146818(clock: harness.clock, scheduler: harness.scheduler, irq: irq8.line,
                       startTime: MC146818Tests.leapDayEvening)
        try! harness.bus.attach(rtc, name: "rtc", base: MC146818.base, count: MC146818.portCount)
    }

    func cmos(_ index: UInt8) -> UInt8 {
        harness.out(0x70, index)
        return harness.inb(0x71)
    }

    func setCMOS(_ index: UInt8, _ value: UInt8) {
        harness.out(0x70, index)
        harness.out(0x71, value)
    }

    /// SeaBIOS rtc_setup: 32 kHz divider with 1024 Hz rate, 24-hour BCD, clear C, read D.
    func setUpLikeSeaBIOS() {
        setCMOS(0x0A, 0x26)
        setCMOS(0x0B, 0x02)
        _ = cmos(0x0C)
        _ = cmos(0x0D)
    }

    func timeRegisters() -> [UInt8] {
        [0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32].map { cmos($0) }
    }

    func testTimeFromHostSeedInBCDAndAcrossTheLeapDay() {
        setUpLikeSeaBIOS()
        XCTAssertEqual(cmos(0x0D), 0x80, "valid RAM and time")
        XCTAssertEqual(timeRegisters(), [0x58, 0x59, 0x23, 0x05, 0x29, 0x02, 0x24, 0x20])
        harness.run(until: 2_000_000_000)
        XCTAssertEqual(timeRegisters(), [0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20])
    }

    func testBinaryAndTwelveHourFormats() {
        setCMOS(0x0B, 0x04)              // binary, 12-hour
        XCTAssertEqual(cmos(0x04), 0x80 | 11, "23h is 11 PM")
        XCTAssertEqual(cmos(0x00), 58)
        setCMOS(0x0B, 0x06)              // binary, 24-hour
        XCTAssertEqual(cmos(0x04), 23)
        harness.run(until: 2_000_000_000)
        setCMOS(0x0B, 0x00)              // BCD, 12-hour
        XCTAssertEqual(cmos(0x04), 0x12, "midnight is 12 AM")
    }

    func testSetBitFreezesTheClockAndReleasingItStartsTheNewTime() {
        setUpLikeSeaBIOS()
        setCMOS(0x0B, 0x82)              // SET: the guest is writing the time
        for (index, value) in [(0x00, 0x59), (0x02, 0x59), (0x04, 0x23), (0x07, 0x31), (0x08, 0x12),
                               (0x09, 0x99), (0x32, 0x19)] as [(UInt8, UInt8)] {
            setCMOS(index, value)
        }
        harness.run(until: 5_000_000_000)
        XCTAssertEqual(cmos(0x00), 0x59, "no updates while SET")
        setCMOS(0x0B, 0x02)
        harness.advance(by: 999_000_000)
        XCTAssertEqual(cmos(0x00), 0x59)
        harness.advance(by: 1_000_000)
        XCTAssertEqual(timeRegisters(), [0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20], "Saturday 2000-01-01")
    }

    func testSettingOneFieldOfARunningClockKeepsTheRest() {
        setUpLikeSeaBIOS()
        harness.run(until: 300_000_000)
        setCMOS(0x02, 0x10)              // minutes := 10
        harness.run(until: 1_000_000_000)
        XCTAssertEqual(cmos(0x00), 0x59, "the second's phase is kept")
        XCTAssertEqual(cmos(0x02), 0x10)
        XCTAssertEqual(cmos(0x04), 0x23)
    }

    func testUpdateInProgressBitPrecedesEachUpdateBy244Microseconds() {
        setUpLikeSeaBIOS()
        harness.run(until: 999_700_000)
        XCTAssertEqual(cmos(0x0A), 0x26)
        harness.run(until: 999_800_000)
        XCTAssertEqual(cmos(0x0A), 0xA6)
        XCTAssertEqual(cmos(0x00), 0x58, "the update has not happened yet")
        harness.run(until: 1_000_000_000)
        XCTAssertEqual(cmos(0x0A), 0x26)
        XCTAssertEqual(cmos(0x00), 0x59)
    }

    func testPeriodicInterruptAt1024HzWithAnISRReadingC() {
        setUpLikeSeaBIOS()
        XCTAssertEqual(harness.scheduler.pendingCount, 0, "no timer while no interrupt is enabled")
        setCMOS(0x0B, 0x42)              // PIE
        var interrupts = 0
        while let deadline = harness.scheduler.nextDeadline, deadline <= 1_000_000_000 {
            harness.run(until: deadline)
            if irq8.level {
                interrupts += 1
                XCTAssertEqual(cmos(0x0C), 0xC0)
                XCTAssertFalse(irq8.level, "reading C lowers IRQ 8")
            }
        }
        XCTAssertEqual(interrupts, 1024)
        setCMOS(0x0B, 0x02)
        XCTAssertEqual(harness.scheduler.pendingCount, 0)
    }

    func testPeriodicRateFollowsRegisterA() {
        setCMOS(0x0A, 0x2F)              // rate 15: 2 Hz
        setCMOS(0x0B, 0x42)
        harness.run(until: 499_000_000)
        XCTAssertFalse(irq8.level)
        harness.run(until: 500_000_000)
        XCTAssertTrue(irq8.level)
    }

    func testUpdateEndedInterruptEverySecond() {
        setUpLikeSeaBIOS()
        setCMOS(0x0B, 0x12)              // UIE
        harness.run(until: 999_999_999)
        XCTAssertFalse(irq8.level)
        harness.run(until: 1_000_000_000)
        XCTAssertTrue(irq8.level)
        XCTAssertEqual(cmos(0x0C), 0x90)
        XCTAssertEqual(cmos(0x0C), 0x00, "reading C clears it")
        harness.run(until: 2_000_000_000)
        XCTAssertTrue(irq8.level)
    }

    func testAlarmInterrupt() {
        setUpLikeSeaBIOS()
        setCMOS(0x01, 0x01)              // alarm at 00:00:01
        setCMOS(0x03, 0x00)
        setCMOS(0x05, 0x00)
        setCMOS(0x0B, 0x22)              // AIE
        harness.run(until: 2_000_000_000)
        XCTAssertFalse(irq8.level)
        _ = cmos(0x0C)
        harness.run(until: 3_000_000_000)
        XCTAssertTrue(irq8.level)
        XCTAssertEqual(cmos(0x0C) & 0xA0, 0xA0)
        // Don't-care bytes: every second matches.
        setCMOS(0x01, 0xC0)
        setCMOS(0x03, 0xFF)
        setCMOS(0x05, 0xC0)
        harness.run(until: 4_000_000_000)
        XCTAssertEqual(cmos(0x0C) & 0xA0, 0xA0)
    }

    func testPolledFlagsWithoutInterruptsAndEnablingRaisesAtOnce() {
        setUpLikeSeaBIOS()
        harness.run(until: 1_500_000_000)
        XCTAssertEqual(harness.scheduler.pendingCount, 0)
        XCTAssertEqual(cmos(0x0C), 0x50, "periodic and update-ended flags, no IRQF")
        harness.run(until: 1_600_000_000)
        setCMOS(0x0B, 0x42)              // PF already set when PIE is enabled
        XCTAssertTrue(irq8.level)
    }

    func testDividerResetStopsTheClockAndTheFirstUpdateComesHalfASecondAfter() {
        setUpLikeSeaBIOS()
        setCMOS(0x0A, 0x70)              // divider in reset
        harness.run(until: 3_000_000_000)
        XCTAssertEqual(cmos(0x00), 0x58)
        setCMOS(0x0A, 0x26)
        harness.advance(by: 499_000_000)
        XCTAssertEqual(cmos(0x00), 0x58)
        harness.advance(by: 1_000_000)
        XCTAssertEqual(cmos(0x00), 0x59)
    }

    func testIndexPortNMIBitAndNVRAMSurvivingReset() {
        harness.out(0x70, 0x8F)
        XCTAssertTrue(rtc.nmiDisabled)
        harness.out(0x71, 0x5A)
        harness.out(0x70, 0x0F)
        XCTAssertFalse(rtc.nmiDisabled)
        XCTAssertEqual(harness.inb(0x71), 0x5A)
        setCMOS(0x7F, 0xA5)
        setCMOS(0x0B, 0x72)
        rtc.reset()
        XCTAssertEqual(cmos(0x7F), 0xA5)
        XCTAssertEqual(cmos(0x0F), 0x5A)
        XCTAssertEqual(cmos(0x0B), 0x02, "reset clears the interrupt enables only")
        XCTAssertEqual(harness.scheduler.pendingCount, 0)
    }

    func testMemorySizesAsSeaBIOSReadsThem() {
        rtc.setMemorySizes(belowFourGiB: 32 << 20)
        XCTAssertEqual([0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35].map { cmos($0) },
                       [0x80, 0x02, 0x00, 0x7C, 0x00, 0x7C, 0x00, 0x01], "640 KiB, 31 MiB above 1 MiB, 256 blocks")
        rtc.setMemorySizes(belowFourGiB: 128 << 20)
        XCTAssertEqual([0x17, 0x18, 0x34, 0x35].map { cmos($0) }, [0xFF, 0xFF, 0x00, 0x07], "KiB capped at 0xFFFF")
        // -m 5G as QEMU's pc machine splits it: 3 GiB below, 2 GiB above.
        rtc.setMemorySizes(belowFourGiB: 3 << 30, aboveFourGiB: 2 << 30)
        XCTAssertEqual([0x17, 0x18, 0x34, 0x35, 0x5B, 0x5C, 0x5D].map { cmos($0) },
                       [0xFF, 0xFF, 0x00, 0xBF, 0x00, 0x80, 0x00], "0xBF00 blocks from 16 MiB to 3 GiB, 0x8000 above 4 GiB")
        // -m 8G: 5 GiB above is 0x14000 blocks, which needs the third byte.
        rtc.setMemorySizes(belowFourGiB: 3 << 30, aboveFourGiB: 5 << 30)
        XCTAssertEqual([0x5B, 0x5C, 0x5D].map { cmos($0) }, [0x00, 0x40, 0x01])
        rtc.setMemorySizes(belowFourGiB: 64 << 20)
        XCTAssertEqual([0x5B, 0x5C, 0x5D].map { cmos($0) }, [0, 0, 0], "nothing above 4 GiB")
    }

    func testBootOrderNibbles() throws {
        try rtc.setBootOrder("cdn")
        XCTAssertEqual(cmos(0x3D), 0x32)
        XCTAssertEqual(cmos(0x38), 0x40)
        try rtc.setBootOrder("a")
        XCTAssertEqual(cmos(0x3D), 0x01)
        XCTAssertEqual(cmos(0x38), 0x00)
        XCTAssertThrowsError(try rtc.setBootOrder("cz"))
        XCTAssertThrowsError(try rtc.setBootOrder("acdn"))
    }

    func testCivilDateRoundTrips() {
        for days: Int64 in [-719_468, -1, 0, 11_016, 19_782, 19_783, 2_932_896] {
            let date = CivilDate(daysSinceEpoch: days)
            XCTAssertEqual(date.daysSinceEpoch, days)
        }
        XCTAssertEqual(CivilDate(daysSinceEpoch: 19_782), CivilDate(year: 2024, month: 2, day: 29))
    }

    func testGuestNonsenseIsHarmless() {
        setCMOS(0x0B, 0x82)
        setCMOS(0x08, 0x99)              // month 99
        setCMOS(0x07, 0x00)              // day 0
        setCMOS(0x04, 0xFF)
        setCMOS(0x0B, 0x02)
        harness.advance(by: 3_000_000_000)
        _ = timeRegisters()
        setCMOS(0x0C, 0xFF)              // read-only
        setCMOS(0x0A, 0x40)              // test divider: stops
        setCMOS(0x0A, 0x20)              // rate 0
        setCMOS(0x0B, 0x72)
        harness.advance(by: 3_000_000_000)
        XCTAssertEqual(harness.inb(0x70), 0xFF)
    }
}

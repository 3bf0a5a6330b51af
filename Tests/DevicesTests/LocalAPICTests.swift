import XCTest
import Timing
@testable import Devices

/// The local APIC driven through its register page the way Linux's
/// arch/x86/kernel/apic code and SeaBIOS's smp.c drive it, on a
/// deterministic clock.
final class LocalAPICTests: XCTestCase {
    var harness: PortHarness!
    var apic: LocalAPIC!
    var outputs: [Bool] = []
    var picAcknowledges = 0

    override func setUp() {
        harness = PortHarness()
        apic = LocalAPIC(apicID: 0, bootstrapProcessor: true, clock: harness.clock, scheduler: harness.scheduler)
        outputs = []
        picAcknowledges = 0
        apic.outputChanged = { [unowned self] level in outputs.append(level) }
        apic.externalAcknowledge = { [unowned self] in
            picAcknowledges += 1
            return 0x08
        }
    }

    func readl(_ offset: UInt32) -> UInt32 { apic.read(offset: offset, size: .dword) }
    func writel(_ offset: UInt32, _ value: UInt32) { apic.write(offset: offset, value: value, size: .dword) }

    /// setup_local_APIC's order: software enable with the spurious vector, TPR 0.
    func enableLikeLinux() {
        writel(0xF0, 0x1FF)
        writel(0x80, 0)
    }

    func testPowerOnStateAndTheBIOSsVirtualWire() {
        XCTAssertEqual(readl(0x20) >> 24, 0, "APIC ID 0")
        XCTAssertEqual(readl(0x30), 0x0005_0014, "xAPIC version 0x14 with six LVT entries")
        XCTAssertEqual(readl(0xF0), 0xFF, "software disabled, spurious vector 0xFF")
        XCTAssertEqual(apic.baseMSR, 0xFEE0_0900, "enabled at 0xFEE00000, BSP")
        XCTAssertEqual(readl(0x350), 0x700, "the BSP's LINT0 passes the 8259 through (ExtINT)")
        for offset: UInt32 in [0x320, 0x330, 0x340, 0x360, 0x370] {
            XCTAssertEqual(readl(offset) & 0x1_0000, 0x1_0000, "LVT 0x\(String(offset, radix: 16)) masked")
        }
        // The 8259's INT reaches the CPU through LINT0, and its INTA cycle gives the vector.
        apic.setLocalInput(0, level: true)
        XCTAssertTrue(apic.interruptPending)
        XCTAssertEqual(outputs, [true])
        XCTAssertEqual(apic.acknowledge(), 0x08)
        XCTAssertEqual(picAcknowledges, 1)
        apic.setLocalInput(0, level: false)
        XCTAssertFalse(apic.interruptPending)

        // SeaBIOS's smp_setup: enable, LINT0 ExtINT, LINT1 NMI.
        writel(0xF0, readl(0xF0) | 0x100)
        writel(0x350, (readl(0x350) & 0xFFFE_00FF) | 0x700)
        writel(0x360, (readl(0x360) & 0xFFFE_00FF) | 0x400)
        XCTAssertEqual(readl(0x360), 0x400)
        apic.setLocalInput(0, level: true)
        XCTAssertEqual(apic.acknowledge(), 0x08, "still the 8259's vector")
    }

    func testPeriodicTimerAtDivideBy16() {
        enableLikeLinux()
        writel(0x3E0, 0x3)                       // divide by 16
        writel(0x320, 0x2_00EC)                  // periodic, vector 0xEC (LOCAL_TIMER_VECTOR)
        writel(0x380, 62_500)                    // 62500 * 16 ns = 1 ms
        XCTAssertEqual(readl(0x380), 62_500)
        harness.run(until: 500_000)
        XCTAssertEqual(readl(0x390), 31_250, "half the count left after 0.5 ms")
        XCTAssertFalse(apic.interruptPending)
        harness.run(until: 1_000_000)
        XCTAssertTrue(apic.interruptPending)
        XCTAssertEqual(readl(0x200 + 0x70) & (1 << 12), 1 << 12, "vector 0xEC in the IRR")
        XCTAssertEqual(apic.acknowledge(), 0xEC)
        XCTAssertEqual(readl(0x100 + 0x70) & (1 << 12), 1 << 12, "in service")
        XCTAssertEqual(readl(0xA0), 0xE0, "PPR takes the class in service")
        XCTAssertEqual(readl(0x180 + 0x70), 0, "edge: TMR clear")
        writel(0xB0, 0)
        XCTAssertEqual(readl(0x100 + 0x70), 0)
        XCTAssertEqual(readl(0xA0), 0)
        var taken = 1
        for millisecond in 2...10 {
            harness.run(until: Int64(millisecond) * 1_000_000)
            if apic.interruptPending {
                XCTAssertEqual(apic.acknowledge(), 0xEC)
                writel(0xB0, 0)
                taken += 1
            }
        }
        XCTAssertEqual(taken, 10, "one interrupt a millisecond")
        XCTAssertEqual(harness.scheduler.pendingCount, 1, "one event armed at a time")
        writel(0x380, 0)
        XCTAssertEqual(harness.scheduler.pendingCount, 0, "a zero count stops it")
    }

    func testOneShotTimerAndMasking() {
        enableLikeLinux()
        writel(0x3E0, 0xB)                       // divide by 1
        writel(0x320, 0xEC)                      // one-shot
        writel(0x380, 4_000_000)                 // 4 ms
        harness.run(until: 3_000_000)
        XCTAssertEqual(readl(0x390), 1_000_000)
        harness.run(until: 20_000_000)
        XCTAssertEqual(readl(0x390), 0, "stops at zero")
        XCTAssertEqual(apic.acknowledge(), 0xEC)
        writel(0xB0, 0)
        XCTAssertFalse(apic.interruptPending, "fires once")
        // A masked timer counts but raises nothing.
        writel(0x320, 0x1_00EC)
        writel(0x380, 1000)
        harness.run(until: 30_000_000)
        XCTAssertFalse(apic.interruptPending)
    }

    /// On host time the clock moves between the TMICT write and the arming:
    /// a count shorter than that gap (Linux's minimum is 0xF counts) must
    /// still interrupt, or a tick is lost and a halted guest sleeps forever.
    func testAOneShotShorterThanTheWriteStillFiresOnHostTime() {
        let clock = VirtualClock(mode: .host)
        let scheduler = EventScheduler()
        let apic = LocalAPIC(apicID: 0, bootstrapProcessor: true, clock: clock, scheduler: scheduler)
        apic.write(offset: 0xF0, value: 0x1FF, size: .dword)
        apic.write(offset: 0x3E0, value: 0xB, size: .dword)   // divide by 1: one count a nanosecond
        apic.write(offset: 0x320, value: 0xEC, size: .dword)  // one-shot
        for _ in 0..<1000 {
            apic.write(offset: 0x380, value: 1, size: .dword)
            let deadline = scheduler.nextDeadline
            XCTAssertNotNil(deadline, "the count is armed")
            scheduler.runExpired(now: max(clock.now, deadline ?? 0))
            XCTAssertEqual(apic.acknowledge(), 0xEC)
            apic.write(offset: 0xB0, value: 0, size: .dword)
        }
        XCTAssertNil(scheduler.nextDeadline, "each fired once")
    }

    func testTSCDeadlineMode() {
        enableLikeLinux()
        writel(0x320, 0x4_00EF)                  // TSC-deadline mode
        writel(0x380, 1234)
        XCTAssertEqual(readl(0x380), 0, "the initial count is ignored in TSC-deadline mode")
        apic.setTSCDeadline(5_000_500, time: 5_000_000)  // the TSC runs 500 ahead of guest time
        XCTAssertEqual(apic.tscDeadline, 5_000_500)
        harness.run(until: 4_999_999)
        XCTAssertFalse(apic.interruptPending)
        harness.run(until: 5_000_000)
        XCTAssertEqual(apic.acknowledge(), 0xEF)
        XCTAssertEqual(apic.tscDeadline, 0, "the deadline disarms when it fires")
        apic.setTSCDeadline(9_000_000, time: 9_000_000)
        writel(0x320, 0xEF)                      // back to one-shot: disarmed
        XCTAssertEqual(apic.tscDeadline, 0)
        harness.run(until: 20_000_000)
        XCTAssertFalse(apic.interruptPending)
    }

    func testTaskPriorityHoldsLowerClassesBack() {
        enableLikeLinux()
        writel(0x80, 0x50)
        apic.accept(vector: 0x41, levelTriggered: false)
        XCTAssertFalse(apic.interruptPending, "class 4 is below TPR class 5")
        apic.accept(vector: 0x61, levelTriggered: false)
        XCTAssertEqual(apic.acknowledge(), 0x61)
        writel(0xB0, 0)
        writel(0x80, 0)
        XCTAssertEqual(apic.acknowledge(), 0x41)
        // A higher vector arriving while a lower one is in service nests; a same-class one waits.
        apic.accept(vector: 0x45, levelTriggered: false)
        XCTAssertFalse(apic.interruptPending, "same class as the one in service")
        apic.accept(vector: 0x81, levelTriggered: false)
        XCTAssertEqual(apic.acknowledge(), 0x81)
        writel(0xB0, 0)                          // EOI ends the highest in service: 0x81
        writel(0xB0, 0)                          // then 0x41
        XCTAssertEqual(apic.acknowledge(), 0x45)
    }

    func testSelfIPIsThroughTheICRAndTheErrorStatus() {
        enableLikeLinux()
        writel(0x370, 0xFE)                      // error LVT, ERROR_APIC_VECTOR
        writel(0x310, 0)
        writel(0x300, 0x4_00F2)                  // shorthand self, fixed, vector 0xF2
        XCTAssertEqual(readl(0x300) & (1 << 12), 0, "delivery status idle")
        XCTAssertEqual(apic.acknowledge(), 0xF2)
        writel(0xB0, 0)
        writel(0x310, 0 << 24)                   // physical destination: our own ID
        writel(0x300, 0x00F3)
        XCTAssertEqual(apic.acknowledge(), 0xF3)
        writel(0xB0, 0)
        writel(0x310, 1 << 24)                   // someone else
        writel(0x300, 0x00F4)
        XCTAssertFalse(apic.interruptPending)
        // Vector 3 is illegal: the send error shows after the ESR write, and the error LVT fires.
        writel(0x300, 0x4_0003)
        writel(0x280, 0)
        XCTAssertEqual(readl(0x280), 0x20, "send illegal vector")
        XCTAssertEqual(apic.acknowledge(), 0xFE)
        writel(0xB0, 0)
        writel(0x280, 0)
        XCTAssertEqual(readl(0x280), 0, "cleared by the next write")
    }

    func testSoftwareDisableMasksTheLVT() {
        enableLikeLinux()
        writel(0x320, 0xEC)
        XCTAssertEqual(readl(0x320), 0xEC)
        writel(0xF0, 0xFF)
        XCTAssertEqual(readl(0x320), 0x1_00EC, "masked by the disable")
        writel(0x320, 0xEC)
        XCTAssertEqual(readl(0x320), 0x1_00EC, "stays masked while disabled")
        apic.accept(vector: 0x50, levelTriggered: false)
        XCTAssertFalse(apic.interruptPending, "nothing is delivered while software disabled")
        writel(0xF0, 0x1FF)
        XCTAssertEqual(apic.acknowledge(), 0x50)
    }

    func testBaseMSRMovesAndDisablesThePage() {
        var moves: [(UInt32?, UInt32?)] = []
        apic.baseChanged = { moves.append(($0, $1)) }
        XCTAssertFalse(apic.writeBaseMSR(0xFEE0_0901 | 1 << 10), "x2APIC enable is reserved here")
        XCTAssertTrue(apic.writeBaseMSR(0xFED0_0800))
        XCTAssertEqual(apic.baseMSR, 0xFED0_0900, "the BSP bit is read-only")
        XCTAssertEqual(moves.last?.0, 0xFEE0_0000)
        XCTAssertEqual(moves.last?.1, 0xFED0_0000)
        enableLikeLinux()
        writel(0x350, 0x1_0700)                  // LINT0 masked
        apic.setLocalInput(0, level: true)
        XCTAssertFalse(apic.interruptPending)
        // Globally disabled: the page goes and LINT0 is the CPU's INTR pin.
        XCTAssertTrue(apic.writeBaseMSR(0xFED0_0000))
        XCTAssertNil(moves.last?.1)
        XCTAssertFalse(apic.hardwareEnabled)
        XCTAssertTrue(apic.interruptPending)
        XCTAssertEqual(apic.acknowledge(), 0x08)
        XCTAssertTrue(apic.writeBaseMSR(0xFEE0_0800))
        XCTAssertEqual(moves.last?.1, 0xFEE0_0000)
        XCTAssertEqual(readl(0xF0), 0xFF, "back in the power-on state")
    }

    func testLogicalDestinationsFlatAndCluster() {
        let bus = APICBus()
        bus.attach(apic)
        enableLikeLinux()
        writel(0xE0, 0xFFFF_FFFF)                // flat model
        writel(0xD0, 0x0100_0000)                // logical ID bit 0
        bus.send(APICMessage(vector: 0x31, deliveryMode: .fixed, levelTriggered: false), destination: 0x02, logical: true)
        XCTAssertFalse(apic.interruptPending)
        bus.send(APICMessage(vector: 0x31, deliveryMode: .fixed, levelTriggered: false), destination: 0x03, logical: true)
        XCTAssertEqual(apic.acknowledge(), 0x31)
        writel(0xB0, 0)
        writel(0xE0, 0x0FFF_FFFF)                // cluster model: cluster 2, member bit 1
        writel(0xD0, 0x2200_0000)
        bus.send(APICMessage(vector: 0x32, deliveryMode: .lowestPriority, levelTriggered: false), destination: 0x12, logical: true)
        XCTAssertFalse(apic.interruptPending, "another cluster")
        bus.send(APICMessage(vector: 0x32, deliveryMode: .lowestPriority, levelTriggered: false), destination: 0x22, logical: true)
        XCTAssertEqual(apic.acknowledge(), 0x32)
    }

    func testNarrowAndUnknownAccesses() {
        XCTAssertEqual(apic.read(offset: 0x30, size: .byte), 0x14)
        XCTAssertEqual(apic.read(offset: 0x32, size: .byte), 0x05)
        XCTAssertEqual(apic.read(offset: 0x34, size: .dword), 0, "the rest of a 16-byte slot")
        apic.write(offset: 0xF0, value: 0x1FF, size: .word)
        XCTAssertEqual(readl(0xF0), 0xFF, "only aligned dword writes reach a register")
        enableLikeLinux()
        writel(0x370, 0xFE)
        _ = readl(0x3F0)                         // no register there
        writel(0x280, 0)
        XCTAssertEqual(readl(0x280), 0x80, "illegal register address")
        XCTAssertEqual(apic.read(offset: 0xFFF, size: .byte), 0, "the page's last byte is harmless")
    }
}

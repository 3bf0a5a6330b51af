import XCTest
@testable import Devices

final class PIC8259Tests: XCTestCase {
    var harness: PortHarness!
    var pic: PIC8259!
    var outputLevels: [Bool] = []

    override func setUp() {
        harness = PortHarness()
        outputLevels = []
        pic = PIC8259 { [unowned self] level in self.outputLevels.append(level) }
        try! pic.attach(to: harness.bus)
    }

    /// Linux's init_8259A: mask all, ICW1-4 on both chips (vectors 0x30/0x38),
    /// then the masks it wants.
    func initialiseLikeLinux(autoEOI: Bool = false, masterMask: UInt8 = 0x00, slaveMask: UInt8 = 0x00) {
        harness.out(0x21, 0xFF)
        harness.out(0xA1, 0xFF)
        harness.out(0x20, 0x11)          // ICW1: edge, cascade, ICW4 follows
        harness.out(0x21, 0x30)          // ICW2: vectors 0x30-0x37
        harness.out(0x21, 0x04)          // ICW3: slave on IR2
        harness.out(0x21, autoEOI ? 0x03 : 0x01)
        harness.out(0xA0, 0x11)
        harness.out(0xA1, 0x38)
        harness.out(0xA1, 0x02)          // ICW3: slave identity 2
        harness.out(0xA1, 0x01)
        harness.out(0x21, masterMask)
        harness.out(0xA1, slaveMask)
    }

    func readISR(_ commandPort: UInt16) -> UInt8 {
        harness.out(commandPort, 0x0B)
        defer { harness.out(commandPort, 0x0A) }
        return harness.inb(commandPort)
    }

    func readIRR(_ commandPort: UInt16) -> UInt8 {
        harness.out(commandPort, 0x0A)
        return harness.inb(commandPort)
    }

    func testTimerInterruptIsDeliveredAndEndedLikeLinux() {
        initialiseLikeLinux()
        XCTAssertFalse(pic.interruptPending)
        pic.setIRQ(0, level: true)
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(outputLevels, [true])
        XCTAssertEqual(readIRR(0x20), 0x01)
        XCTAssertEqual(pic.acknowledge(), 0x30)
        XCTAssertFalse(pic.interruptPending)
        XCTAssertEqual(outputLevels, [true, false])
        XCTAssertEqual(readISR(0x20), 0x01)
        XCTAssertEqual(readIRR(0x20), 0x00)
        harness.out(0x20, 0x60)          // specific EOI for IRQ 0
        XCTAssertEqual(readISR(0x20), 0x00)
        // The line is still high: no new edge, no new interrupt.
        XCTAssertFalse(pic.interruptPending)
        pic.setIRQ(0, level: false)
        pic.setIRQ(0, level: true)
        XCTAssertEqual(pic.acknowledge(), 0x30)
    }

    func testMaskRegisterHoldsRequestsBack() {
        initialiseLikeLinux(masterMask: 0x02)
        XCTAssertEqual(harness.inb(0x21), 0x02)
        pic.setIRQ(1, level: true)
        XCTAssertFalse(pic.interruptPending)
        XCTAssertEqual(readIRR(0x20), 0x02)
        harness.out(0x21, 0x00)
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x31)
    }

    func testHigherPriorityNestsAndLowerWaitsForEOI() {
        initialiseLikeLinux()
        pic.setIRQ(3, level: true)
        XCTAssertEqual(pic.acknowledge(), 0x33)
        pic.setIRQ(4, level: true)       // lower priority: waits
        XCTAssertFalse(pic.interruptPending)
        pic.setIRQ(1, level: true)       // higher priority: nests
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x31)
        XCTAssertEqual(readISR(0x20), 0x0A)
        harness.out(0x20, 0x20)          // non-specific EOI ends IRQ 1 (highest in service)
        XCTAssertEqual(readISR(0x20), 0x08)
        XCTAssertFalse(pic.interruptPending)
        harness.out(0x20, 0x20)
        XCTAssertEqual(pic.acknowledge(), 0x34)
    }

    func testSlaveInterruptCascadesThroughIRQ2() {
        initialiseLikeLinux()
        pic.setIRQ(8, level: true)
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x38)
        XCTAssertEqual(readISR(0x20), 0x04)
        XCTAssertEqual(readISR(0xA0), 0x01)
        pic.setIRQ(12, level: true)
        XCTAssertFalse(pic.interruptPending, "IRQ 2 in service blocks the whole slave")
        harness.out(0xA0, 0x60)          // Linux: specific EOI on the slave, then IRQ 2 on the master
        harness.out(0x20, 0x62)
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x3C)
    }

    func testSlaveMaskedInputDoesNotReachTheMaster() {
        initialiseLikeLinux(slaveMask: 0x10)
        pic.setIRQ(12, level: true)
        XCTAssertFalse(pic.interruptPending)
        XCTAssertEqual(readIRR(0xA0), 0x10)
        XCTAssertEqual(readIRR(0x20), 0x00)
    }

    func testEdgeRequestIsLatchedAfterAPulse() {
        initialiseLikeLinux()
        let line = InterruptLine(pic: pic, line: 4)
        line.pulse()
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x34)
    }

    func testLevelTriggeredInputThroughELCR() {
        initialiseLikeLinux()
        harness.out(0x4D1, 0x04)         // IRQ 10 level-triggered
        harness.out(0x4D0, 0x07)         // IRQ 0-2 cannot be: the bits stay clear
        XCTAssertEqual(harness.inb(0x4D1), 0x04)
        XCTAssertEqual(harness.inb(0x4D0), 0x00)
        pic.setIRQ(10, level: true)
        XCTAssertEqual(pic.acknowledge(), 0x3A)
        harness.out(0xA0, 0x20)
        harness.out(0x20, 0x20)
        XCTAssertTrue(pic.interruptPending, "a level still high asks again after EOI")
        pic.setIRQ(10, level: false)
        XCTAssertFalse(pic.interruptPending)
        XCTAssertEqual(readIRR(0xA0), 0x00)
    }

    func testRequestWithdrawnBeforeINTAGivesSpuriousIRQ7() {
        initialiseLikeLinux()
        harness.out(0x4D0, 0x20)         // IRQ 5 level-triggered
        pic.setIRQ(5, level: true)
        XCTAssertTrue(pic.interruptPending)
        pic.setIRQ(5, level: false)      // the device withdrew its request
        XCTAssertEqual(pic.acknowledge(), 0x37)
        XCTAssertEqual(readISR(0x20), 0x00, "a spurious IRQ 7 is not put in service")
    }

    func testSlaveRequestWithdrawnGivesSpuriousIRQ15WithIRQ2InService() {
        initialiseLikeLinux()
        harness.out(0x4D1, 0x08)         // IRQ 11 level-triggered
        pic.setIRQ(11, level: true)
        XCTAssertTrue(pic.interruptPending)
        pic.setIRQ(11, level: false)
        XCTAssertFalse(pic.interruptPending, "the master's IR2 follows the slave's output")
        // The CPU had already seen INT and starts the INTA cycle regardless:
        // the master still sees IR2 at that instant, the slave has nothing.
        pic.master.state.irr |= 0x04
        XCTAssertEqual(pic.acknowledge(), 0x3F)
        XCTAssertEqual(readISR(0x20), 0x04, "the master put IRQ 2 in service")
        XCTAssertEqual(readISR(0xA0), 0x00)
    }

    func testAutoEOILeavesNothingInService() {
        initialiseLikeLinux(autoEOI: true)
        pic.setIRQ(0, level: true)
        XCTAssertEqual(pic.acknowledge(), 0x30)
        XCTAssertEqual(readISR(0x20), 0x00)
        pic.setIRQ(6, level: true)
        XCTAssertTrue(pic.interruptPending)
    }

    func testRotateOnNonSpecificEOIMakesTheServedInputLowest() {
        initialiseLikeLinux()
        pic.setIRQ(0, level: true)
        XCTAssertEqual(pic.acknowledge(), 0x30)
        harness.out(0x20, 0xA0)          // rotate on non-specific EOI
        pic.setIRQ(0, level: false)
        pic.setIRQ(0, level: true)
        pic.setIRQ(1, level: true)
        XCTAssertEqual(pic.acknowledge(), 0x31, "IRQ 0 is now the lowest priority")
        harness.out(0x20, 0x61)
        XCTAssertEqual(pic.acknowledge(), 0x30)
        harness.out(0x20, 0xC7)          // set priority: IRQ 7 lowest, IRQ 0 highest again
        harness.out(0x20, 0x60)
        pic.setIRQ(3, level: true)
        pic.setIRQ(0, level: false)
        pic.setIRQ(0, level: true)
        XCTAssertEqual(pic.acknowledge(), 0x30)
    }

    func testPollModeReadsAndAcknowledges() {
        initialiseLikeLinux()
        harness.out(0x20, 0x0C)          // OCW3 poll
        XCTAssertEqual(harness.inb(0x20), 0x00, "nothing pending")
        pic.setIRQ(5, level: true)
        harness.out(0x20, 0x0C)
        XCTAssertEqual(harness.inb(0x20), 0x85)
        XCTAssertEqual(readISR(0x20), 0x20)
        XCTAssertFalse(pic.interruptPending)
    }

    func testSpecialMaskModeLetsLowerPrioritiesThrough() {
        initialiseLikeLinux()
        pic.setIRQ(3, level: true)
        XCTAssertEqual(pic.acknowledge(), 0x33)
        pic.setIRQ(5, level: true)
        XCTAssertFalse(pic.interruptPending)
        harness.out(0x21, 0x08)          // mask the in-service IRQ 3
        harness.out(0x20, 0x68)          // OCW3: set special mask mode
        XCTAssertTrue(pic.interruptPending)
        XCTAssertEqual(pic.acknowledge(), 0x35)
        harness.out(0x20, 0x48)          // clear special mask mode
        harness.out(0x20, 0x65)
        harness.out(0x20, 0x63)
        XCTAssertEqual(readISR(0x20), 0x00)
    }

    func testReinitialisationForgetsEdgesButKeepsELCR() {
        initialiseLikeLinux()
        harness.out(0x4D1, 0x02)
        pic.setIRQ(3, level: true)
        XCTAssertEqual(pic.acknowledge(), 0x33)
        pic.setIRQ(4, level: true)
        harness.out(0x20, 0x11)
        harness.out(0x21, 0x08)
        harness.out(0x21, 0x04)
        harness.out(0x21, 0x01)
        XCTAssertEqual(readISR(0x20), 0x00)
        XCTAssertEqual(readIRR(0x20), 0x00)
        XCTAssertEqual(harness.inb(0x21), 0x00, "ICW1 clears the mask")
        XCTAssertEqual(harness.inb(0x4D1), 0x02)
    }

    func testGuestNonsenseIsIgnored() {
        harness.out(0x20, 0x10)          // ICW1 without ICW4, then garbage
        harness.out(0x21, 0xFF)
        harness.out(0x21, 0x00)
        harness.out(0x20, 0x40)          // OCW2 no-op
        harness.out(0x20, 0x20)          // EOI with nothing in service
        pic.setIRQ(2, level: true)       // the cascade is not a device input
        pic.setIRQ(99, level: true)
        XCTAssertEqual(pic.acknowledge(), 0xFF, "spurious vector from base 0xF8")
        pic.reset()
        XCTAssertFalse(pic.interruptPending)
    }
}

import Lifecycle
import Memory
import XCTest
@testable import Devices

/// xHCI saved with the tablet addressed and configured, an interrupt IN TRB
/// waiting for a report and an event held back by IMOD, loaded with RAM into
/// a fresh controller (on a fresh clock, with a fresh tablet on the same
/// port): the held interrupt rises at the same guest time, the waiting TRB
/// takes the next report, MFINDEX runs on from the same base.
extension XHCITests {
    /// Two interrupt IN TRBs queued; a No Op's interrupt starts a 1 ms IMOD
    /// interval, and 300 µs into it the tablet's report completes the first
    /// TRB: that event's interrupt is held for the interval's end.
    func busyController() -> Int {
        driver.start()
        _ = driver.events()
        driver.resetPort()
        _ = driver.events()
        let slot = driver.enableAndAddress()
        XCTAssertEqual(driver.configureInterruptIn(slot: slot), 1)
        for offset: UInt64 in [0, 8] {
            driver.queue(on: D.ep1Ring, parameter: D.reportBuffer + offset, status: 6, control: 1 << 10 | D.TRB_ISP | D.TRB_IOC)
        }
        driver.write(D.DB + 4 * UInt32(slot), 3)
        XCTAssertEqual(driver.events().count, 0, "NAKed: the TRBs wait")
        driver.write(D.IMOD, 4000)  // 1 ms
        driver.write(D.USBSTS, D.STS_EINT)
        driver.run(microseconds: 100)
        driver.write(D.IMAN, 3)
        XCTAssertFalse(driver.controller.interruptLevel)
        _ = driver.command(type: 23)  // a No Op: its interrupt starts the interval
        XCTAssertTrue(driver.controller.interruptLevel)
        driver.write(D.IMAN, 3)
        driver.run(microseconds: 300)
        tablet.pointerChanged(x: 0x1234, y: 0x0567, buttons: .left)
        driver.run(microseconds: 1)  // the controller serves the device with data
        XCTAssertFalse(driver.controller.interruptLevel, "held by IMOD")
        return slot
    }

    func driveOn(_ driver: XHCIDriver, _ tablet: USBTablet, slot: Int) -> [String] {
        var seen = ["\(driver.controller.interruptLevel) \((driver.scheduler.nextDeadline ?? 0) - driver.clock.now) \(driver.read(0x1000))"]
        driver.run(microseconds: 698)
        seen.append("\(driver.controller.interruptLevel)")
        driver.run(microseconds: 1)
        seen.append("\(driver.controller.interruptLevel) \(driver.events().map { ($0.parameter, XHCIDriver.code($0)) }) \(driver.peek(D.reportBuffer, 6))")
        driver.write(D.IMAN, 3)
        tablet.pointerChanged(x: 10, y: 20, buttons: [])
        driver.run(microseconds: 2000)
        seen.append("\(driver.controller.interruptLevel) \(driver.events().map { ($0.parameter, XHCIDriver.code($0)) }) \(driver.peek(D.reportBuffer + 8, 6))")
        seen.append("\([D.USBSTS, D.PORTSC1, D.PORTSC1 + 0x10, D.IMAN, 0x1000].map(driver.read))")
        seen.append("\(driver.peek(D.outputContext, 4 * 32))")
        return seen
    }

    func testRoundTripHoldsTheModeratedInterruptAndTheWaitingTRB() throws {
        let slot = busyController()
        let savedClock = driver.clock.savedState()
        let saved = try functionRecord(driver.controller)
        XCTAssertNotNil(driver.scheduler.nextDeadline, "IMOD's timer is armed")

        let copy = try XHCIDriver(), copyTablet = USBTablet()
        copy.controller.attach(copyTablet, port: 0)
        copy.ram.base.copyMemory(from: driver.ram.base, byteCount: driver.ram.size)
        (copy.commandEnqueue, copy.commandCycle) = (driver.commandEnqueue, driver.commandCycle)
        (copy.ringEnqueue, copy.ringCycle) = (driver.ringEnqueue, driver.ringCycle)
        (copy.eventDequeue, copy.eventCycle) = (driver.eventDequeue, driver.eventCycle)
        copy.clock.advance(instructions: 999_999)
        try copy.clock.loadState(savedClock)
        try copy.controller.prepareFunctionLoad(saved)()
        XCTAssertEqual(try functionRecord(copy.controller), saved)
        XCTAssertEqual(copyTablet.address, UInt8(slot))
        XCTAssertEqual(copy.scheduler.nextDeadline, driver.scheduler.nextDeadline)

        let fromCopy = driveOn(copy, copyTablet, slot: slot)
        let fromOriginal = driveOn(driver, tablet, slot: slot)
        XCTAssertEqual(fromOriginal[1], "false", "still within the interval: \(fromOriginal[0])")
        XCTAssertTrue(fromOriginal[2].hasPrefix("true"), "at the interval's end: \(fromOriginal[2])")
        XCTAssertTrue(fromOriginal[2].hasSuffix("[1, 52, 18, 103, 5, 0]"), fromOriginal[2])
        XCTAssertTrue(fromOriginal[3].hasSuffix("[0, 10, 0, 20, 0, 0]"), fromOriginal[3])
        XCTAssertEqual(fromCopy, fromOriginal)
    }

    func testADamagedControllerRecordIsRefusedAndChangesNothing() throws {
        _ = busyController()
        let saved = try functionRecord(driver.controller)
        let target = try XHCIDriver()
        target.controller.attach(USBTablet(), port: 0)
        target.start()
        let before = try functionRecord(target.controller)
        func slotRecord(_ index: Int, _ change: (inout StateRecord) -> Void) -> StateRecord {
            var slots = try! saved.records("slots")
            change(&slots[index])
            var record = saved
            record.put("slots", slots)
            return record
        }
        func interrupter(_ change: (inout StateRecord) -> Void) -> StateRecord {
            var interrupters = try! saved.records("interrupters")
            change(&interrupters[0])
            var record = saved
            record.put("interrupters", interrupters)
            return record
        }
        var disconnected = saved
        var ports = try saved.words("portStatus", count: XHCI.portCount, as: UInt32.self)
        ports[0] &= ~D.PORT_CONNECT
        disconnected.put("portStatus", words: ports)
        var future = saved
        future.put("runStart", driver.clock.now + 1)
        let refusals: [(StateRecord, StateRecordError)] = [
            (disconnected, .outOfRange(record: "qemu-xhci", field: "portStatus")),
            (future, .outOfRange(record: "qemu-xhci", field: "runStart")),
            (slotRecord(1) { $0.put("port", 9) }, .outOfRange(record: "xhci-slot", field: "port")),
            (slotRecord(1) { $0.put("endpointStates", words: [UInt32](repeating: 7, count: 32)) },
             .outOfRange(record: "xhci-slot", field: "endpointStates")),
            (interrupter { $0.put("indexInSegment", UInt32(64)) }, .outOfRange(record: "xhci-interrupter", field: "indexInSegment")),
            (interrupter { $0.put("moderationEnd", Int64.max) }, .outOfRange(record: "xhci-interrupter", field: "moderationEnd")),
        ]
        for (record, error) in refusals {
            XCTAssertThrowsError(try target.controller.prepareFunctionLoad(record)) { XCTAssertEqual($0 as? StateRecordError, error) }
        }
        let empty = try XHCIDriver()
        XCTAssertThrowsError(try empty.controller.prepareFunctionLoad(saved)) {
            guard case .configurationMismatch(record: "qemu-xhci", reason: _)? = $0 as? StateRecordError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try functionRecord(target.controller), before)
    }
}

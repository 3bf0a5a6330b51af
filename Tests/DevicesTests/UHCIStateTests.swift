import Lifecycle
import Memory
import XCTest
@testable import Devices

/// UHCI saved with the tablet enumerated and configured, two reports queued
/// and the frames idling, loaded with RAM into a fresh controller with a
/// fresh tablet: the frame number runs on, the reports reach the guest in
/// the same frames, the device keeps its address.
extension UHCITests {
    func busyController() {
        _ = enumerate()
        XCTAssertNotNil(control(USBSetup(requestType: 0, request: 9, value: 1, index: 0, length: 0), device: 5))
        XCTAssertNotNil(control(USBSetup(requestType: 0x21, request: 0x0A, value: 0x0400, index: 0, length: 0), device: 5))
        outw(USBSTS, 0x3F)
        tablet.pointerChanged(x: 1000, y: 2000, buttons: [.left])
        tablet.pointerChanged(x: 1500, y: 2500, buttons: [])
        run(milliseconds: 30)
    }

    func driveOn() -> [String] {
        var seen = ["\(inw(USBFRNUM)) \(inw(USBSTS)) \(inw(USBPORTSC1)) \(inw(USBPORTSC2)) \(controller.idleTimer.deadline)"]
        for _ in 0..<3 {
            fillTD(reportTD, link: PTR_TERM, control: TD_ACTIVE | TD_CERR3 | TD_IOC | TD_SPD, pid: PID_IN, device: 5, endpoint: 1,
                   length: 6, buffer: reportBuffer)
            poke32(interruptQH + 4, UInt32(reportTD))
            run(milliseconds: 3)
            seen.append("\(peek(reportBuffer, 6)) \(peek32(reportTD + 4) & 0xFF_FFFF) \(inw(USBFRNUM)) \(controller.interruptLevel)")
            outw(USBSTS, STS_USBINT)
        }
        seen.append("\(getDescriptor(type: 1, length: 18, device: 5) ?? [])")
        seen.append("idle \(control(USBSetup(requestType: 0xA1, request: 0x02, value: 0, index: 0, length: 1), device: 5) ?? [])")
        return seen
    }

    func testRoundTripDeliversTheQueuedReportsInTheSameFrames() throws {
        busyController()
        let clock = harness.clock.savedState()
        let saved = try functionRecord(controller)
        let original = (harness!, ram!, controller!, tablet!)
        setUp()
        ram.base.copyMemory(from: original.1.base, byteCount: ram.size)
        try harness.clock.loadState(clock)
        try controller.prepareFunctionLoad(saved)()
        XCTAssertEqual(try functionRecord(controller), saved)
        XCTAssertEqual(tablet.address, 5)
        XCTAssertEqual(controller.idleTimer.deadline, original.2.idleTimer.deadline, "the idle timer")
        XCTAssertEqual(harness.scheduler.nextDeadline, original.0.scheduler.nextDeadline)
        let fromCopy = driveOn()
        (harness, ram, controller, tablet) = original
        let fromOriginal = driveOn()
        XCTAssertTrue(fromOriginal[1].hasPrefix("[1, 232, 3, 208, 7, 0]"), fromOriginal[1])
        XCTAssertEqual(fromOriginal.last, "idle [4]", "the idle rate the host set")
        XCTAssertEqual(fromCopy, fromOriginal)
    }

    func testADamagedControllerRecordIsRefusedAndChangesNothing() throws {
        busyController()
        let saved = try functionRecord(controller)
        let original = (harness!, ram!, controller!, tablet!)
        setUp()
        startController()
        let before = try functionRecord(controller)
        func tabletState(_ change: (inout StateRecord) -> Void) -> StateRecord {
            var ports = try! saved.records("ports")
            var state = try! ports[0].record("state")
            change(&state)
            ports[0].put("state", state)
            var record = saved
            record.put("ports", ports)
            return record
        }
        var badPort = saved
        badPort.put("portStatus", words: [UInt16(0x4080), 0x80])
        var badFrame = saved
        badFrame.put("stoppedFrameNumber", UInt16(0x800))
        let report = { () -> StateRecord in
            var r = StateRecord(name: "hid-report", version: 1)
            r.put("bytes", [UInt8](repeating: 0, count: 6))
            return r
        }()
        let refusals: [(StateRecord, StateRecordError)] = [
            (badPort, .outOfRange(record: "piix3-usb-uhci", field: "portStatus")),
            (badFrame, .outOfRange(record: "piix3-usb-uhci", field: "stoppedFrameNumber")),
            (tabletState { $0.put("x", 40_000) }, .outOfRange(record: "usb-tablet", field: "x")),
            (tabletState { $0.put("address", UInt8(200)) }, .outOfRange(record: "usb-tablet", field: "address")),
            (tabletState { $0.put("queue", [StateRecord](repeating: report, count: 33)) }, .outOfRange(record: "usb-tablet", field: "queue")),
            (tabletState { $0.put("stage", UInt8(7)) }, .outOfRange(record: "usb-tablet", field: "stage")),
        ]
        for (record, error) in refusals {
            XCTAssertThrowsError(try controller.prepareFunctionLoad(record)) { XCTAssertEqual($0 as? StateRecordError, error) }
        }
        // Saved with the tablet on port 1: this controller has a keyboard there.
        let other = UHCI(memory: AddressSpace(ram: ram), memoryWritten: { _, _ in }, clock: harness.clock, scheduler: harness.scheduler)
        other.attach(USBKeyboard(), port: 0)
        let otherRecord = try functionRecord(other)
        XCTAssertThrowsError(try controller.prepareFunctionLoad(otherRecord)) {
            guard case .configurationMismatch(record: "piix3-usb-uhci", reason: _)? = $0 as? StateRecordError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try functionRecord(controller), before)
        (harness, ram, controller, tablet) = original
    }
}

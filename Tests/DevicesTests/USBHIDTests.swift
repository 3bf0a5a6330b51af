import XCTest
@testable import Devices

/// The HID devices alone, through the transactions a host controller sends:
/// control requests on endpoint 0 and reports on interrupt endpoint 1.
final class USBHIDTests: XCTestCase {
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    deinit { scratch.deallocate() }

    /// SETUP, the data stage in 8-byte packets, the status stage.
    func request(_ device: USBDevice, _ setup: USBSetup, data: [UInt8] = []) -> [UInt8]? {
        let bytes = setup.bytes
        bytes.withUnsafeBytes { scratch.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 8) }
        guard device.transaction(.setup, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<8])) == .ack(8) else { return nil }
        if setup.requestType & 0x80 != 0 {
            var received: [UInt8] = []
            while true {
                guard case let .ack(count) = device.transaction(.input, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<8])) else { return nil }
                received += scratch.prefix(count)
                if count < 8 { break }
            }
            _ = device.transaction(.output, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<0]))
            return received
        }
        if !data.isEmpty {
            data.withUnsafeBytes { scratch.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: data.count) }
            guard device.transaction(.output, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<data.count])) == .ack(data.count) else { return nil }
        }
        guard device.transaction(.input, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<0])) == .ack(0) else { return nil }
        return []
    }

    func report(_ device: USBDevice, length: Int = 8) -> [UInt8]? {
        guard case let .ack(count) = device.transaction(.input, endpoint: 1, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<length])) else { return nil }
        return Array(scratch.prefix(count))
    }

    func configure(_ device: USBDevice) {
        XCTAssertNotNil(request(device, USBSetup(requestType: 0, request: 9, value: 1, index: 0, length: 0)))
    }

    func testKeyboardBootReports() throws {
        let keyboard = USBKeyboard()
        XCTAssertNil(report(keyboard), "endpoint 1 stalls before SET_CONFIGURATION")
        configure(keyboard)
        let configuration = try XCTUnwrap(request(keyboard, USBSetup(requestType: 0x80, request: 6, value: 0x0200, index: 0, length: 34)))
        XCTAssertEqual(configuration[9...16], [9, 4, 0, 0, 1, 3, 1, 1], "boot interface, keyboard protocol")
        XCTAssertNotNil(request(keyboard, USBSetup(requestType: 0x21, request: 0x0B, value: 0, index: 0, length: 0)), "SET_PROTOCOL boot")
        XCTAssertEqual(request(keyboard, USBSetup(requestType: 0xA1, request: 3, value: 0, index: 0, length: 1)), [0])
        XCTAssertNil(report(keyboard), "NAK: nothing pressed")
        keyboard.keyChanged(usage: 0xE1, pressed: true)  // left shift
        keyboard.keyChanged(usage: 0x04, pressed: true)  // a
        keyboard.keyChanged(usage: 0x04, pressed: false)
        keyboard.keyChanged(usage: 0xE1, pressed: false)
        XCTAssertEqual(report(keyboard), [0x02, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(report(keyboard), [0x02, 0, 0x04, 0, 0, 0, 0, 0])
        XCTAssertEqual(report(keyboard), [0x02, 0, 0, 0, 0, 0, 0, 0], "a quick press is not lost between polls")
        XCTAssertEqual(report(keyboard), [0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertNil(report(keyboard))
        for usage in 0x04...0x0A { keyboard.keyChanged(usage: usage, pressed: true) }
        var last: [UInt8]?
        while let next = report(keyboard) { last = next }
        XCTAssertEqual(last, [0, 0, 1, 1, 1, 1, 1, 1], "seven keys: ErrorRollOver")
        XCTAssertNotNil(request(keyboard, USBSetup(requestType: 0x21, request: 9, value: 0x0200, index: 0, length: 1), data: [0x03]))
        XCTAssertEqual(keyboard.leds, 3, "SET_REPORT: Num and Caps Lock")
    }

    func testMouseReportsAClickShorterThanAPollingInterval() throws {
        let mouse = USBMouse()
        configure(mouse)
        mouse.moved(dx: 3, dy: 0, buttons: [.left])
        mouse.moved(dx: 0, dy: 0, buttons: [])
        mouse.moved(dx: 0, dy: 0, buttons: [.right])
        mouse.moved(dx: 2, dy: 1, buttons: [])
        XCTAssertEqual(report(mouse), [1, 3, 0, 0], "the press with the motion before it")
        XCTAssertEqual(report(mouse), [0, 0, 0, 0], "the release")
        XCTAssertEqual(report(mouse), [2, 0, 0, 0], "the right button")
        XCTAssertEqual(report(mouse), [0, 2, 1, 0], "its release with the motion since")
        XCTAssertNil(report(mouse))
    }

    func testMouseMotionInSteps() throws {
        let mouse = USBMouse()
        configure(mouse)
        mouse.moved(dx: 300, dy: -5, wheel: 1, buttons: [.right])
        XCTAssertEqual(report(mouse), [2, 127, 0xFB, 1])
        XCTAssertEqual(report(mouse), [2, 127, 0, 0])
        XCTAssertEqual(report(mouse), [2, 46, 0, 0])
        XCTAssertNil(report(mouse))
        mouse.moved(dx: 0, dy: 0, buttons: [])
        XCTAssertEqual(report(mouse), [0, 0, 0, 0], "a release alone is a report")
        XCTAssertNotNil(request(mouse, USBSetup(requestType: 0x21, request: 0x0B, value: 0, index: 0, length: 0)))
        mouse.moved(dx: -1, dy: 1, buttons: [.left])
        XCTAssertEqual(report(mouse), [1, 0xFF, 1], "boot protocol: three bytes")
    }

    func testAddressTakesEffectAfterTheStatusStage() {
        let tablet = USBTablet()
        let setup = USBSetup(requestType: 0, request: 5, value: 7, index: 0, length: 0).bytes
        setup.withUnsafeBytes { scratch.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 8) }
        XCTAssertEqual(tablet.transaction(.setup, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<8])), .ack(8))
        XCTAssertEqual(tablet.address, 0)
        XCTAssertEqual(tablet.transaction(.input, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<0])), .ack(0))
        XCTAssertEqual(tablet.address, 7)
        tablet.reset()
        XCTAssertEqual(tablet.address, 0, "a port reset returns it to the default address")
    }

    func testUnknownRequestsStallUntilTheNextSetup() {
        let tablet = USBTablet()
        XCTAssertNil(request(tablet, USBSetup(requestType: 0xC0, request: 0x42, value: 0, index: 0, length: 4)), "vendor request")
        XCTAssertNotNil(request(tablet, USBSetup(requestType: 0x80, request: 6, value: 0x0100, index: 0, length: 18)))
        XCTAssertNil(request(tablet, USBSetup(requestType: 0x80, request: 6, value: 0x0304, index: 0, length: 255)), "no string 4")
    }

    func testTabletClampsAndCoalescesWhenTheHostDoesNotRead() {
        let tablet = USBTablet()
        configure(tablet)
        for step in 0..<100 { tablet.pointerChanged(x: step * 1000, y: -5, buttons: []) }
        var reports: [[UInt8]] = []
        while let next = report(tablet) { reports.append(next) }
        XCTAssertEqual(reports.count, USBHIDDevice.queueCapacity)
        XCTAssertEqual(reports.last, [0, 0xFF, 0x7F, 0, 0, 0], "the newest position wins, clamped to 32767 and 0")
    }
}

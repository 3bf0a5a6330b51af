import Configuration
import Devices
import Foundation
@testable import Machine
import XCTest

/// Where the window's keys and relative motion go, as in QEMU: to the PS/2
/// keyboard and mouse, unless a USB keyboard is present (it takes the keys
/// from power-on) or the guest polls a USB mouse (it takes the motion).
final class InputRoutingTests: XCTestCase {
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    deinit { scratch.deallocate() }

    func machine(_ arguments: String) throws -> PCMachine {
        let parsed = try OptionParser().parse(arguments.split(separator: " ").map(String.init))
        return try TestMachine.make { config in
            config.usb = parsed.usb
            config.devices = parsed.devices
            config.nics = []
        }
    }

    /// The bytes the 8042 has for the guest, with the status bit saying each came from the mouse.
    func drain8042(_ pc: PCMachine) -> [(byte: UInt8, fromMouse: Bool)] {
        var bytes: [(UInt8, Bool)] = []
        while bytes.count < 64 {
            let status = pc.ports.inb(0x64)
            guard status & 0x01 != 0 else { break }
            bytes.append((pc.ports.inb(0x60), status & 0x20 != 0))
        }
        return bytes
    }

    /// SET_CONFIGURATION 1 through endpoint 0, as a host does before polling.
    func configure(_ device: USBDevice) {
        USBSetup(requestType: 0, request: 9, value: 1, index: 0, length: 0).bytes.withUnsafeBytes {
            scratch.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 8)
        }
        XCTAssertEqual(device.transaction(.setup, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<8])), .ack(8))
        XCTAssertEqual(device.transaction(.input, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<0])), .ack(0))
    }

    /// One poll of interrupt endpoint 1: the report, or nil for a NAK.
    func poll(_ device: USBDevice) -> [UInt8]? {
        guard case let .ack(count) = device.transaction(.input, endpoint: 1, buffer: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<8])) else { return nil }
        return Array(scratch.prefix(count))
    }

    func testWithoutAUSBKeyboardKeysGoToThePS2Keyboard() throws {
        let pc = try machine("-usb -device usb-mouse")
        pc.deliverKey(hidUsage: 0x04, pressed: true)  // a
        pc.deliverKey(hidUsage: 0x04, pressed: false)
        XCTAssertEqual(drain8042(pc).map(\.byte), [0x1E, 0x9E], "set 1 through the 8042's translation")
    }

    func testAUSBKeyboardTakesTheKeysFromThePS2Keyboard() throws {
        let pc = try machine("-usb -device usb-kbd")
        let keyboard = try XCTUnwrap(pc.usb.keyboards.first)
        configure(keyboard)
        XCTAssertNil(poll(keyboard), "nothing pressed yet")
        pc.deliverKey(hidUsage: 0xE1, pressed: true)  // left shift
        pc.deliverKey(hidUsage: 0x04, pressed: true)
        pc.deliverKey(hidUsage: 0x04, pressed: false)
        pc.deliverKey(hidUsage: 0xE1, pressed: false)
        XCTAssertEqual(drain8042(pc).count, 0, "the PS/2 keyboard sees none of them")
        XCTAssertEqual(poll(keyboard), [0x02, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(poll(keyboard), [0x02, 0, 0x04, 0, 0, 0, 0, 0])
        XCTAssertEqual(poll(keyboard), [0x02, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(poll(keyboard), [0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertNil(poll(keyboard))
    }

    func testAUSBMouseTakesTheMotionOnceTheGuestPollsIt() throws {
        let pc = try machine("-usb -device usb-mouse")
        // The PS/2 mouse told to report (0xD4 sends the next byte to it): it acknowledges.
        pc.ports.outb(0x64, 0xD4)
        pc.ports.outb(0x60, 0xF4)
        XCTAssertEqual(drain8042(pc).map(\.byte), [0xFA])
        let mouse = try XCTUnwrap(pc.usb.mice.first)
        configure(mouse)

        pc.deliverMotion(dx: 5, dy: 0, wheel: 0, buttons: [])
        let packet = drain8042(pc)
        XCTAssertEqual(packet.map(\.byte), [0x08, 5, 0], "not polled yet: the PS/2 mouse's packet, 5 right")
        XCTAssertEqual(packet.map(\.fromMouse), [true, true, true])

        XCTAssertNil(poll(mouse), "the guest's first poll: nothing yet")
        pc.deliverMotion(dx: 7, dy: -3, wheel: 1, buttons: [.left])
        XCTAssertEqual(drain8042(pc).count, 0, "polled: the PS/2 mouse gets nothing")
        XCTAssertEqual(poll(mouse), [0x01, 7, 0xFD, 1])

        mouse.reset()
        pc.deliverMotion(dx: 2, dy: 0, wheel: 0, buttons: [])
        XCTAssertEqual(drain8042(pc).map(\.byte), [0x08, 2, 0], "after a bus reset, until the next poll, PS/2 again")
    }
}

import Lifecycle
import XCTest
@testable import Devices

/// The 8042 with its keyboard and mouse saved mid-conversation (a byte in
/// the output buffer, more in the queues, a keyboard command waiting for its
/// argument, the mouse in wheel mode with motion not yet sent), loaded into
/// a fresh controller: the guest reads the same bytes and the same IRQs.
final class I8042StateTests: XCTestCase {
    final class Rig {
        let harness = PortHarness()
        let irq1 = LineProbe(), irq12 = LineProbe()
        var leds: [PS2Keyboard.LEDs] = []
        let controller: I8042

        init() {
            controller = I8042(keyboardIRQ: irq1.line, mouseIRQ: irq12.line, setA20: { _ in }, requestReset: {})
            try! controller.attach(to: harness.bus)
            controller.keyboard.ledsChanged = { [unowned self] in leds.append($0) }
        }

        /// Reads what the guest would, with where each byte came from.
        func drain() -> [String] {
            var bytes: [String] = []
            while harness.inb(0x64) & 0x01 != 0 {
                let aux = harness.inb(0x64) & 0x20 != 0
                bytes.append("\(aux ? "aux" : "kbd"):\(harness.inb(0x60)) irq1=\(irq1.level) irq12=\(irq12.level)")
            }
            return bytes
        }

        func toMouse(_ byte: UInt8) {
            harness.out(0x64, 0xD4)
            harness.out(0x60, byte)
        }
    }

    /// Linux's i8042 and psmouse probing, then input arriving faster than it is read.
    func driveLikeLinux(_ rig: Rig) {
        rig.harness.out(0x64, 0x60)
        rig.harness.out(0x60, 0x47)  // translate, system flag, both interrupts
        rig.harness.out(0x64, 0xA8)
        for byte: UInt8 in [0xFF, 0xF3, 200, 0xF3, 100, 0xF3, 80, 0xF2, 0xE8, 3, 0xF4] { rig.toMouse(byte) }
        _ = rig.drain()
        XCTAssertEqual(rig.controller.mouse.deviceID, 3, "wheel mouse")
        rig.harness.out(0x60, 0xED)  // set LEDs: the argument comes later
        rig.controller.keyboard.press(.a)
        rig.controller.keyboard.press(.shiftLeft)
        rig.controller.keyboard.release(.a)
        rig.controller.mouse.move(dx: 5, dy: -3, wheel: 1, buttons: [.left])
        rig.controller.mouse.move(dx: 300, dy: 0, buttons: [])
        rig.harness.out(0x64, 0x20)  // a controller reply queued behind the buffer
        _ = rig.harness.inb(0x60)  // the LED command's ACK
        _ = rig.harness.inb(0x60)
    }

    func testRoundTripGivesTheGuestTheSameBytesAndIRQs() throws {
        let rig = Rig()
        driveLikeLinux(rig)
        let saved = try StateRecordCodec.decode(StateRecordCodec.encode(rig.controller.savedState()))
        let copy = Rig()
        try copy.controller.loadState(saved)
        XCTAssertEqual(copy.controller.savedState(), rig.controller.savedState())
        XCTAssertEqual(copy.irq1.level, rig.irq1.level)
        XCTAssertEqual(copy.irq12.level, rig.irq12.level)
        XCTAssertEqual(copy.harness.inb(0x64), rig.harness.inb(0x64))

        let expected = rig.drain()
        XCTAssertGreaterThan(expected.count, 8, "keys, mouse packets and the reply")
        XCTAssertEqual(copy.drain(), expected)
        for target in [rig, copy] {
            target.harness.out(0x60, 0x02)  // Num Lock: the argument the keyboard was waiting for
            target.controller.mouse.move(dx: -2, dy: 2, buttons: [.right])
            target.controller.keyboard.press(.b)
        }
        XCTAssertEqual(copy.leds, [.numLock])
        XCTAssertEqual(copy.drain(), rig.drain())
        XCTAssertEqual(copy.controller.savedState(), rig.controller.savedState())
    }

    func testADamagedRecordIsRefusedAndChangesNothing() throws {
        let rig = Rig()
        driveLikeLinux(rig)
        let saved = rig.controller.savedState()
        let target = Rig()
        target.controller.keyboard.press(.z)
        let before = target.controller.savedState(), irq1 = target.irq1.levels

        var badSet = saved
        var keyboard = try saved.record("keyboard")
        keyboard.put("scancodeSet", UInt8(4))
        badSet.put("keyboard", keyboard)
        XCTAssertThrowsError(try target.controller.loadState(badSet)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "ps2-keyboard", field: "scancodeSet"))
        }
        var overfull = saved
        var mouse = try saved.record("mouse")
        mouse.put("events", [UInt8](repeating: 8, count: 129))
        overfull.put("mouse", mouse)
        XCTAssertThrowsError(try target.controller.loadState(overfull)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "ps2-mouse", field: "events"))
        }
        var sources = saved
        sources.put("replySources", [UInt8(2)])
        XCTAssertThrowsError(try target.controller.loadState(sources)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "i8042", field: "replies"))
        }
        var ram = saved
        ram.put("ram", [UInt8](repeating: 0, count: 31))
        XCTAssertThrowsError(try target.controller.loadState(ram))
        XCTAssertEqual(target.controller.savedState(), before)
        XCTAssertEqual(target.irq1.levels, irq1)
        XCTAssertEqual(target.leds, [])
    }
}

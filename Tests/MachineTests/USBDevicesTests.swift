import Configuration
import Foundation
import Machine
import PCEmuSupport
import XCTest

/// The USB options as QEMU spells them, turned into controllers on the PCI
/// bus and devices on their root ports.
final class USBDevicesTests: XCTestCase {
    func machine(_ arguments: String) throws -> PCMachine {
        let parsed = try OptionParser().parse(arguments.split(separator: " ").map(String.init))
        return try TestMachine.make { config in
            config.usb = parsed.usb
            config.devices = parsed.devices
            config.nics = parsed.nics
        }
    }

    func testUSBPutsTheUHCIAtFunctionTwoOfThePIIX3() throws {
        let pc = try machine("-usb")
        XCTAssertEqual(pc.ports.pciRead(slot: 1, function: 2, offset: 0), 0x7020_8086)
        XCTAssertEqual(pc.ports.pciRead(slot: 1, function: 2, offset: 8) >> 8, 0x0C_03_00)
        XCTAssertFalse(pc.hasAbsolutePointer)
        // BAR 4 placed and I/O decoding on: the registers answer there.
        pc.ports.pciWriteDword(slot: 1, function: 2, offset: 0x20, 0xC041)
        pc.ports.pciWriteDword(slot: 1, function: 2, offset: 0x04, 0x5)
        XCTAssertEqual(pc.ports.read(0xC042, size: .word), 0x20, "USBSTS: halted")
        XCTAssertEqual(pc.ports.read(0xC050, size: .word), 0x80, "PORTSC1: no device")
    }

    func testATabletWithoutAControllerGetsThePIIX3s() throws {
        let pc = try machine("-device usb-tablet")
        XCTAssertEqual(pc.ports.pciRead(slot: 1, function: 2, offset: 0), 0x7020_8086)
        XCTAssertTrue(pc.hasAbsolutePointer)
        pc.ports.pciWriteDword(slot: 1, function: 2, offset: 0x20, 0xC041)
        pc.ports.pciWriteDword(slot: 1, function: 2, offset: 0x04, 0x5)
        XCTAssertEqual(pc.ports.read(0xC050, size: .word), 0x83, "PORTSC1: connected, changed")
    }

    func testAControllerByDeviceTakesAFreeSlotAndDevicesFillThePorts() throws {
        let pc = try machine("-nic none -device piix3-usb-uhci -device usb-kbd -device usb-mouse")
        XCTAssertEqual(pc.ports.pciRead(slot: 1, function: 2, offset: 0), 0xFFFF_FFFF, "no -usb")
        XCTAssertEqual(pc.ports.pciRead(slot: 3, offset: 0), 0x7020_8086)
        pc.ports.pciWriteDword(slot: 3, offset: 0x20, 0xC041)
        pc.ports.pciWriteDword(slot: 3, offset: 0x04, 0x5)
        XCTAssertEqual(pc.ports.read(0xC050, size: .word) & 1, 1)
        XCTAssertEqual(pc.ports.read(0xC052, size: .word) & 1, 1)
    }

    func testThreeDevicesOnOneControllerAreRefused() {
        XCTAssertThrowsError(try machine("-usb -device usb-tablet -device usb-kbd -device usb-mouse")) { error in
            XCTAssertTrue("\(error)".contains("no free USB port"), "\(error)")
        }
    }
}

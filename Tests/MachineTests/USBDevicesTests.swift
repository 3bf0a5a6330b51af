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

/// `-device qemu-xhci`: QEMU's xHCI controller in the next free slot, its
/// registers where BAR 0 says, and the HID devices on its USB 2 ports.
extension USBDevicesTests {
    func testQEMUXHCITakesAFreeSlotAndTheTabletGoesOnItsFirstPort() throws {
        let pc = try machine("-nic none -device qemu-xhci -device usb-tablet")
        XCTAssertEqual(pc.ports.pciRead(slot: 1, function: 2, offset: 0), 0xFFFF_FFFF, "no UHCI is added")
        XCTAssertEqual(pc.ports.pciRead(slot: 3, offset: 0), 0x000D_1B36)
        XCTAssertEqual(pc.ports.pciRead(slot: 3, offset: 8) >> 8, 0x0C_03_30)
        XCTAssertEqual(pc.ports.pciRead(slot: 3, offset: 0x10), 0x4, "64-bit memory BAR")
        XCTAssertTrue(pc.hasAbsolutePointer)
        pc.ports.pciWriteDword(slot: 3, offset: 0x10, 0xFEB4_0000)
        pc.ports.pciWriteDword(slot: 3, offset: 0x04, 0x6)
        XCTAssertEqual(pc.addressSpace.read(0xFEB4_0000, size: .dword), 0x0100_0040, "CAPLENGTH, HCIVERSION")
        XCTAssertEqual(pc.addressSpace.read(0xFEB4_0440, size: .dword) & 1, 1, "PORTSC1: the tablet")
        XCTAssertEqual(pc.addressSpace.read(0xFEB4_0450, size: .dword) & 1, 0)
        pc.ports.pciWriteDword(slot: 3, offset: 0x04, 0x4)
        XCTAssertEqual(pc.addressSpace.read(0xFEB4_0000, size: .dword), 0xFFFF_FFFF, "memory decoding off: unmapped")
    }

    func testBusNamesTheControllerAndDevicesWithoutItGoOnTheLastXHCI() throws {
        let pc = try machine("-nic none -usb -device qemu-xhci,id=a -device qemu-xhci,id=b -device usb-kbd,bus=a.0 -device usb-tablet -device usb-mouse,bus=usb-bus.0")
        XCTAssertEqual(pc.ports.pciRead(slot: 3, offset: 0), 0x000D_1B36)
        XCTAssertEqual(pc.ports.pciRead(slot: 4, offset: 0), 0x000D_1B36)
        for (slot, base) in [(3, UInt32(0xFEB4_0000)), (4, 0xFEB8_0000)] {
            pc.ports.pciWriteDword(slot: slot, offset: 0x10, base)
            pc.ports.pciWriteDword(slot: slot, offset: 0x04, 0x6)
        }
        XCTAssertEqual(pc.addressSpace.read(0xFEB4_0440, size: .dword) & 1, 1, "the keyboard on a")
        XCTAssertEqual(pc.addressSpace.read(0xFEB4_0450, size: .dword) & 1, 0)
        XCTAssertEqual(pc.addressSpace.read(0xFEB8_0440, size: .dword) & 1, 1, "the tablet on b, the last")
        pc.ports.pciWriteDword(slot: 1, function: 2, offset: 0x20, 0xC041)
        pc.ports.pciWriteDword(slot: 1, function: 2, offset: 0x04, 0x5)
        XCTAssertEqual(pc.ports.read(0xC050, size: .word) & 1, 1, "the mouse on -usb's bus")
    }

    func testUnknownBusesAndAFifthDeviceAreRefused() {
        XCTAssertThrowsError(try machine("-device qemu-xhci,id=x -device usb-tablet,bus=y.0")) { error in
            XCTAssertTrue("\(error)".contains("no USB bus 'y.0'"), "\(error)")
        }
        XCTAssertThrowsError(try machine("-device qemu-xhci -device usb-tablet -device usb-kbd -device usb-mouse -device usb-kbd -device usb-mouse")) { error in
            XCTAssertTrue("\(error)".contains("no free USB 2 port"), "\(error)")
        }
    }
}

import Configuration
import Foundation
import Machine
import PCEmuSupport
import XCTest

/// -vga and -device VGA as QEMU spells them: the adapter at 00:02.0 or none,
/// and the EDID's preferred mode read through BAR2 where the guest placed it.
final class VGAOptionsTests: XCTestCase {
    func machine(_ arguments: String) throws -> PCMachine {
        let parsed = try OptionParser().parse(arguments.split(separator: " ").map(String.init))
        return try TestMachine.make { config in
            config.vga = parsed.vga
            config.devices = parsed.devices
            config.screendump = parsed.screendump
        }
    }

    /// BAR2 placed at `address` with memory decoding on, as the firmware does it.
    func placeRegisterBAR(_ pc: PCMachine, at address: UInt32 = 0xFEBF_0000) {
        pc.ports.pciWriteDword(slot: 2, offset: 0x18, address)
        pc.ports.pciWriteDword(slot: 2, offset: 0x04, 0x0000_0003)
    }

    /// The preferred mode of the EDID at BAR2's start.
    func preferredMode(_ pc: PCMachine, at address: UInt32 = 0xFEBF_0000) -> (Int, Int) {
        let block = pc.addressSpace.bytes(at: address, count: 128)
        XCTAssertEqual(Array(block[0..<8]), [0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0], "EDID header")
        XCTAssertEqual(block.reduce(0, &+), 0, "checksum")
        return (Int(block[56]) | Int(block[58] >> 4) << 8, Int(block[59]) | Int(block[61] >> 4) << 8)
    }

    func testDefaultVGAHasTheEDIDOf1280x800() throws {
        let pc = try machine("")
        XCTAssertEqual(pc.ports.pciRead(slot: 2, offset: 0), 0x1111_1234)
        placeRegisterBAR(pc)
        XCTAssertTrue(preferredMode(pc) == (1280, 800))
        XCTAssertEqual(pc.addressSpace.read(0xFEBF_0500, size: .word), 0xB0C5, "DISPI ID at 0x500")
        XCTAssertEqual(pc.addressSpace.read(0xFEBF_0600, size: .dword), 8, "QEMU's extended registers at 0x600")
        let explicit = try machine("-vga std")
        placeRegisterBAR(explicit)
        XCTAssertTrue(preferredMode(explicit) == (1280, 800), "-vga std is the default's adapter")
    }

    func testDeviceVGATakesItsPreferredModeFromXresAndYres() throws {
        let pc = try machine("-vga none -device VGA,xres=1024,yres=768")
        XCTAssertEqual(pc.ports.pciRead(slot: 2, offset: 0), 0x1111_1234)
        placeRegisterBAR(pc)
        XCTAssertTrue(preferredMode(pc) == (1024, 768))

        let alone = try machine("-device VGA,xres=1920")
        placeRegisterBAR(alone)
        XCTAssertTrue(preferredMode(alone) == (1920, 800), "-device VGA replaces the default one; yres keeps its default")
    }

    func testEDIDOffAndMMIOOff() throws {
        let pc = try machine("-device VGA,edid=off")
        placeRegisterBAR(pc)
        XCTAssertEqual(pc.addressSpace.bytes(at: 0xFEBF_0000, count: 8), [UInt8](repeating: 0, count: 8), "no EDID header")
        XCTAssertEqual(pc.addressSpace.read(0xFEBF_0500, size: .word), 0xB0C5, "the registers are still there")

        let bare = try machine("-device VGA,mmio=off")
        bare.ports.pciWriteDword(slot: 2, offset: 0x18, 0xFFFF_FFFF)
        XCTAssertEqual(bare.ports.pciRead(slot: 2, offset: 0x18), 0, "no BAR2")
    }

    func testVGANoneLeavesSlot2EmptyAndTheMachineRuns() throws {
        let pc = try machine("-vga none")
        XCTAssertEqual(pc.ports.pciRead(slot: 2, offset: 0), 0xFFFF_FFFF)
        XCTAssertEqual(pc.ports.inb(0x3CC), 0xFF, "no VGA ports")
        pc.refreshDisplay()
    }

    func testMistakesAreOneLineErrors() {
        for (arguments, message) in [
            ("-vga cirrus", "-vga cirrus: the Cirrus CLGD 5446 VGA is not built yet"),
            ("-vga fancy", "-vga: unknown VGA type 'fancy' (std or none)"),
            ("-device VGA,xres=100", "-device: xres=100: expected a width from 320 to 2560"),
            ("-device VGA,yres=1601", "-device: yres=1601: expected a height from 200 to 1600"),
            ("-device VGA,xres=wide", "xres=wide"),
            ("-device VGA,edid=maybe", "edid=maybe: expected on or off"),
            ("-device VGA,vgamem_mb=32", "unknown VGA property 'vgamem_mb'"),
            ("-device VGA,mmio=off,edid=on", "edid=on needs mmio=on"),
            ("-vga std -device VGA", "-vga std already gives the machine its VGA"),
            ("-vga none -device VGA -device VGA", "only one VGA"),
            ("-vga none -screendump x.ppm", "there is no display adapter"),
        ] {
            XCTAssertThrowsError(try machine(arguments), arguments) { error in
                XCTAssertTrue("\(error)".contains(message), "\(arguments): \(error)")
            }
        }
    }
}

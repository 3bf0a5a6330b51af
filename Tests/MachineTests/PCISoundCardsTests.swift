import Configuration
import Foundation
import Machine
import PCEmuSupport
import XCTest

/// -device AC97 and -device intel-hda -device hda-duplex|hda-output as QEMU
/// spells them: the cards on the PCI bus, their BARs decoding where the
/// guest puts them, and one-line errors for what cannot be built.
final class PCISoundCardsTests: XCTestCase {
    func machine(_ arguments: String) throws -> PCMachine {
        let parsed = try OptionParser().parse(arguments.split(separator: " ").map(String.init))
        return try TestMachine.make { config in
            config.devices = parsed.devices
            config.audiodevs = parsed.audiodevs
        }
    }

    func testAC97OnTheBusWithItsPortsWhereTheBARsSay() throws {
        let pc = try machine("-device AC97,audiodev=a0 -audiodev none,id=a0")
        let ports = pc.ports
        XCTAssertEqual(ports.pciRead(slot: 0x1E, offset: 0), 0x2415_8086)
        ports.pciWriteDword(slot: 0x1E, offset: 0x10, 0xC000)
        ports.pciWriteDword(slot: 0x1E, offset: 0x14, 0xC100)
        ports.pciWriteDword(slot: 0x1E, offset: 0x04, 0x5)  // I/O space and bus master
        ports.write(0xC12C, value: 0x2, size: .dword)  // out of cold reset
        XCTAssertNotEqual(ports.read(0xC130, size: .dword) & 0x100, 0, "codec ready")
        XCTAssertEqual(ports.read(0xC07C, size: .word), 0x8384, "the codec's vendor ID through NAM")
    }

    func testIntelHDAOnTheBusWithItsRegistersWhereBAR0Says() throws {
        let pc = try machine("-device intel-hda,id=sound0 -device hda-output,bus=sound0.0")
        XCTAssertEqual(pc.ports.pciRead(slot: 0x1B, offset: 0), 0x2668_8086)
        pc.ports.pciWriteDword(slot: 0x1B, offset: 0x10, 0xFEB0_0000)
        pc.ports.pciWriteDword(slot: 0x1B, offset: 0x04, 0x6)
        XCTAssertEqual(pc.addressSpace.read(0xFEB0_0000, size: .word), 0x4401, "GCAP")
        pc.addressSpace.write(0xFEB0_0008, value: 1, size: .dword)
        XCTAssertEqual(pc.addressSpace.read(0xFEB0_000E, size: .word), 1, "the codec answers the link reset")
    }

    func testMistakesAreOneLineErrors() {
        XCTAssertThrowsError(try machine("-device hda-duplex")) { error in
            XCTAssertEqual((error as? EmulatorError)?.description.contains("hda-duplex needs -device intel-hda"), true, "\(error)")
        }
        XCTAssertThrowsError(try machine("-device intel-hda")) { error in
            XCTAssertEqual((error as? EmulatorError)?.description.contains("intel-hda needs a codec"), true, "\(error)")
        }
        XCTAssertThrowsError(try machine("-device AC97,iobase=0x300")) { error in
            XCTAssertEqual((error as? EmulatorError)?.description.contains("AC97 has no property 'iobase'"), true, "\(error)")
        }
    }
}

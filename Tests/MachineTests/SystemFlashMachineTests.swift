import Configuration
import Foundation
import Lifecycle
import Machine
import Memory
import TestSupport
import XCTest

/// -drive if=pflash in the built machine: where the units are, what shows
/// below 1 MiB, and the flash in a saved machine state.
final class SystemFlashMachineTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-system-flash")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func vars(_ name: String, size: Int = 64 * 1024, fill: UInt8 = 0x5A) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(repeating: fill, count: size).write(to: URL(fileURLWithPath: path))
        return path
    }

    func machine(vars path: String) throws -> PCMachine {
        let parsed = try OptionParser().parse([
            "-drive", "if=pflash,format=raw,readonly=on,file=\(TestMachine.biosPath)",
            "-drive", "if=pflash,format=raw,file=\(path)",
        ])
        return try TestMachine.make { config in
            config.memoryBytes = 16 << 20
            config.drives = parsed.drives
        }
    }

    func testUnitsEndAtFourGiBAndUnitZeroShowsBelowOneMiB() throws {
        let pc = try machine(vars: try vars("vars.fd"))
        let bios = try TestMachine.biosBytes()
        let space = pc.addressSpace
        XCTAssertEqual(space.region(at: 0xFFFC_0000)?.name, "system.flash0")
        XCTAssertEqual(space.region(at: 0xFFFB_0000)?.name, "system.flash1")
        XCTAssertNil(space.region(at: 0xFFFA_F000), "nothing below the units")
        XCTAssertEqual(space.backingKind(at: 0xFFFF_F000), .rom, "read-array mode reads straight from the chip")
        XCTAssertEqual(space.read(0xFFFF_FFF0, size: .byte), UInt32(bios[bios.count - 16]), "the reset vector")
        XCTAssertEqual(space.read(0xFFFB_0000, size: .dword), 0x5A5A_5A5A)
        XCTAssertEqual(space.read(0xFFFF0, size: .byte), UInt32(bios[bios.count - 16]), "the ISA alias of unit 0's top")
        XCTAssertEqual(space.read(0xE0000, size: .byte), UInt32(bios[bios.count - 128 * 1024]))
        XCTAssertTrue(pc.e820.entries.contains { $0.address == 0xFFFB_0000 && $0.length == 0x5_0000 }, "both units reserved")
    }

    /// A savevm of a machine whose unit 1 the guest programmed, loaded into one
    /// built alike on another file: the chip's bytes and the file follow.
    func testProgrammedFlashTravelsWithTheMachineState() throws {
        let original = try machine(vars: try vars("a.fd"))
        let copyFile = try vars("b.fd", fill: 0x00)
        let copy = try machine(vars: copyFile)
        let space = original.addressSpace
        space.write(0xFFFB_0123, value: 0x10, size: .byte)
        space.write(0xFFFB_0123, value: 0x42, size: .byte)      // programs 0x5A down to 0x42
        space.write(0xFFFB_0000, value: 0x70, size: .byte)      // left in read-status mode
        let bytes = StateRecordCodec.encode(try original.devices.save())
        try copy.devices.load(try StateRecordCodec.decode(bytes))
        XCTAssertEqual(copy.addressSpace.backingKind(at: 0xFFFB_0000), .mmio, "the mode came along")
        XCTAssertEqual(copy.addressSpace.read(0xFFFB_0000, size: .byte), 0x80, "status")
        copy.addressSpace.write(0xFFFB_0000, value: 0xFF, size: .byte)
        XCTAssertEqual(copy.addressSpace.read(0xFFFB_0123, size: .byte), 0x42)
        XCTAssertEqual(copy.addressSpace.read(0xFFFB_0124, size: .byte), 0x5A)
        let file = try Data(contentsOf: URL(fileURLWithPath: copyFile))
        XCTAssertEqual(file[0x123], 0x42, "the loaded contents reach the copy's file")
        XCTAssertEqual(file[0], 0x5A)
        XCTAssertEqual(file.count, 64 * 1024)

        let other = try machine(vars: try vars("c.fd", size: 128 * 1024))
        XCTAssertThrowsError(try other.devices.load(try StateRecordCodec.decode(bytes)), "another flash size")
    }
}

import Configuration
import Foundation
import Machine
import PCEmuSupport
import TestSupport
import XCTest

/// The floppy options turned into drives: the CMOS types and equipment bits
/// SeaBIOS and Linux read, the controller at its ports, and bad images refused.
final class FloppyMachineTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-floppy-machine")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func image(_ name: String, bytes: Int) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(count: bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func machine(_ arguments: [String]) throws -> PCMachine {
        let parsed = try OptionParser().parse(arguments)
        return try TestMachine.make { $0.drives = parsed.drives }
    }

    func testCMOSDescribesTheDrives() throws {
        let none = try machine([])
        XCTAssertEqual(none.ports.cmos(0x10), 0)
        XCTAssertEqual(none.ports.cmos(0x14) & 0xC1, 0)

        let one = try machine(["-fda", image("a.img", bytes: 1_474_560)])
        XCTAssertEqual(one.ports.cmos(0x10), 0x40, "A: a 1.44 MB drive")
        XCTAssertEqual(one.ports.cmos(0x14) & 0xC1, 0x01)

        let two = try machine(["-drive", "file=\(try image("b.img", bytes: 737_280)),format=raw,if=floppy,index=1",
                               "-fda", image("c.img", bytes: 2_949_120)])
        XCTAssertEqual(two.ports.cmos(0x10), 0x53, "A: 2.88 MB, B: 720 KiB")
        XCTAssertEqual(two.ports.cmos(0x14) & 0xC1, 0x41)
        // The controller answers at 0x3F4 (held in reset until the BIOS writes the DOR).
        XCTAssertEqual(two.ports.inb(0x3F4), 0)
        two.ports.outb(0x3F2, 0x0C)
        XCTAssertEqual(two.ports.inb(0x3F4), 0x80)
    }

    /// Larger than 2.88 MB: refused. A shorter image of no floppy size is
    /// read as 1.44 MB, as QEMU reads it (GRUB's rescue floppy is one).
    func testAnImageLargerThanAFloppyIsRefused() throws {
        let path = try image("large.img", bytes: 3_000_000)
        XCTAssertThrowsError(try machine(["-fda", path])) { error in
            XCTAssertTrue("\(error)".contains("-fda"), "\(error)")
            XCTAssertTrue("\(error)".contains("2.88 MB"), "\(error)")
        }
        let short = try machine(["-fda", try image("short.img", bytes: 1_000_000)])
        XCTAssertEqual(short.ports.cmos(0x10), 0x40, "A: 1.44 MB")
    }
}

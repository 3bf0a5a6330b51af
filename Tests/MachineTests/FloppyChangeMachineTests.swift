import Configuration
import Foundation
import Machine
import TestSupport
import XCTest

/// `PCMachine.changeMedium` on floppy drives: the read-only mode a drive
/// keeps or is given, -snapshot's overlay for the new disk, and refusals
/// that leave the old disk in.
final class FloppyChangeMachineTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-floppy-change-machine")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func image(_ name: String, bytes: Int = 1_474_560) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(count: bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func machine(_ arguments: [String]) throws -> PCMachine {
        let parsed = try OptionParser().parse(arguments)
        return try TestMachine.make {
            $0.drives = parsed.drives
            $0.snapshot = parsed.snapshot
        }
    }

    func floppy(_ machine: PCMachine, _ index: Int) -> BlockDeviceInfo? {
        machine.blockDevices.first { $0.name == "floppy\(index)" }
    }

    func testReadOnlyModesAndRefusals() throws {
        let started = try machine(["-drive", "file=\(try image("a.img")),format=raw,if=floppy,readonly=on", "-fdb", try image("b.img"),
                                   "-drive", "if=ide,index=2,media=cdrom"])
        // retain: a drive started read-only stays so; a writable one takes a writable disk.
        try started.changeMedium(device: "floppy0", path: try image("c.img"))
        XCTAssertEqual(floppy(started, 0)?.readOnly, true)
        try started.changeMedium(device: "floppy1", path: try image("d.img"), format: .raw)
        XCTAssertEqual(floppy(started, 1)?.readOnly, false)
        // Given explicitly, as QMP's read-only-mode does.
        try started.changeMedium(device: "floppy1", path: try image("e.img"), readOnly: true)
        XCTAssertEqual(floppy(started, 1)?.readOnly, true)
        try started.changeMedium(device: "floppy0", path: try image("f.img"), readOnly: false)
        XCTAssertEqual(floppy(started, 0)?.readOnly, false)

        // Refused: nothing changes.
        let before = floppy(started, 0)
        XCTAssertThrowsError(try started.changeMedium(device: "floppy0", path: try image("g.img", bytes: 1_228_800))) { error in
            XCTAssertTrue("\(error)".contains("a 1.44 MB drive cannot take an image of 1228800 bytes"), "\(error)")
        }
        XCTAssertThrowsError(try started.changeMedium(device: "floppy0", path: directory.appendingPathComponent("none.img").path))
        XCTAssertEqual(floppy(started, 0), before)
        XCTAssertThrowsError(try started.changeMedium(device: "ide1-cd0", path: try image("h.iso"), readOnly: false)) { error in
            XCTAssertTrue("\(error)".contains("a CD drive takes read-only media"), "\(error)")
        }

        try started.changeMedium(device: "floppy0", path: nil)
        XCTAssertNil(floppy(started, 0)?.path)
    }

    /// Under -snapshot a new writable disk's writes go to an overlay, as the first disk's did.
    func testSnapshotKeepsTheNewDisksFileUnchanged() throws {
        let running = try machine(["-snapshot", "-fda", try image("a.img")])
        let path = try image("b.img")
        try running.changeMedium(device: "floppy0", path: path)
        XCTAssertEqual(floppy(running, 0)?.readOnly, false)
        XCTAssertEqual(floppy(running, 0)?.format, "qcow2", "the temporary overlay in front of the file")
    }
}

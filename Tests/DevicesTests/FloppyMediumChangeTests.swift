import Foundation
import Storage
import TestSupport
import XCTest
@testable import Devices

/// Disks put into and taken out of a floppy drive while the controller runs:
/// the 82077AA's DIR bit 7 (disk change) goes up when the medium changes and
/// stays up until a step with a disk in; the drive keeps its type and takes
/// only media it reads, with the new image's geometry.
extension FloppyControllerTests {
    func changeImage(_ name: String, bytes: Int, fill: UInt8) throws -> BlockImage {
        let path = directory.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: path, contents: Data(repeating: fill, count: bytes))
        return try DiskImage.open(path: path, format: .raw, readOnly: false)
    }

    /// Seeks drive 0 to `cylinder` and takes the interrupt.
    func seekDrive0(_ cylinder: UInt8) {
        command([0x0F, 0x00, cylinder])
        _ = senseInterrupt()
    }

    var diskChangeLine: Bool { harness.inb(0x3F7) & 0x80 != 0 }

    func testChangeRaisesDiskChangeUntilAStepWithADiskIn() throws {
        enable()
        seekDrive0(3)
        XCTAssertFalse(diskChangeLine)
        let drive = fdc.drives[0]

        try drive.change(image: nil)
        XCTAssertTrue(diskChangeLine, "the disk left the drive")
        seekDrive0(5)
        XCTAssertTrue(diskChangeLine, "a step with no disk in leaves the line up")
        command([0x04, 0x00])
        XCTAssertEqual(results()[0] & 0x40, 0x40, "SENSE DRIVE STATUS: no disk reads as write-protected")

        try drive.change(image: try changeImage("720k.img", bytes: 737_280, fill: 0x72))
        XCTAssertTrue(diskChangeLine)
        XCTAssertEqual(drive.geometry?.sectorsPerTrack, 9, "a 720 KB disk in the 1.44 MB drive")
        XCTAssertEqual(drive.cmosType, 4, "the drive keeps its type")
        seekDrive0(1)
        XCTAssertFalse(diskChangeLine, "a step with the new disk in clears it")

        // The new disk is read at its own data rate (250 kbit/s): C0 H0 R1 holds its bytes.
        harness.out(0x3F7, 0x02)
        programDMA(toMemory: true, address: 0x3_0000, count: 512)
        command([0x46, 0x00, 0, 0, 1, 2, 9, 0x1B, 0xFF])
        XCTAssertEqual(results(), [0x00, 0, 0, 0, 0, 2, 2])
        XCTAssertEqual(guestBytes(at: 0x3_0000, count: 512), [UInt8](repeating: 0x72, count: 512))

        // Swapped straight for another disk: the line goes up again.
        try drive.change(image: try changeImage("144.img", bytes: FloppyControllerTests.imageBytes, fill: 0x14))
        XCTAssertTrue(diskChangeLine)
        XCTAssertEqual(drive.geometry?.sectorsPerTrack, 18)
    }

    func testMediaTheDriveCannotReadAreRefusedAndNothingChanges() throws {
        enable()
        seekDrive0(2)
        let drive = fdc.drives[0]
        let before = drive.image
        for bytes in [1_228_800, 2_949_120, 3_000_000] {
            XCTAssertThrowsError(try drive.change(image: try changeImage("\(bytes).img", bytes: bytes, fill: 1)), "\(bytes) bytes") { error in
                XCTAssertTrue("\(error)".contains("a 1.44 MB drive cannot take an image of \(bytes) bytes"), "\(error)")
            }
            XCTAssertTrue(drive.image === before)
            XCTAssertEqual(drive.geometry?.sectorsPerTrack, 18)
            XCTAssertFalse(diskChangeLine, "the line stays as it was")
        }
        // A 2.88 MB drive reads 2.88 MB, 1.44 MB and 720 KB disks; a 1.2 MB drive 1.2 MB and 360 KB ones.
        let large = try FloppyDrive(image: try changeImage("288.img", bytes: 2_949_120, fill: 2))
        try large.change(image: try changeImage("a720.img", bytes: 737_280, fill: 3))
        XCTAssertEqual(large.geometry?.dataRate, 2)
        XCTAssertEqual(large.cmosType, 5)
        let old = try FloppyDrive(image: try changeImage("12.img", bytes: 1_228_800, fill: 4))
        try old.change(image: try changeImage("360.img", bytes: 368_640, fill: 5))
        XCTAssertEqual(old.geometry?.tracks, 40)
        XCTAssertThrowsError(try old.change(image: try changeImage("b144.img", bytes: FloppyControllerTests.imageBytes, fill: 6)))
        // A drive empty at power-on takes the first disk's type; a short image reads as the format holding it.
        let empty = FloppyDrive()
        try empty.change(image: try changeImage("short.img", bytes: 1_296_384, fill: 7))
        XCTAssertEqual(empty.cmosType, 4)
        XCTAssertThrowsError(try empty.change(image: try changeImage("huge.img", bytes: 2_949_121, fill: 8)))
    }
}

import Foundation
import PCEmuSupport
import TestSupport
import XCTest
@testable import Storage

/// Internal snapshots taken, reverted and deleted through `QCOW2Image`, then
/// judged by qemu-img: `check` after every change, `snapshot -l` for the
/// table, and the snapshot's disk read back by qemu-img itself.
extension QCOW2Tests {
    func openWritable(_ imagePath: String) throws -> QCOW2Image {
        try XCTUnwrap(DiskImage.open(path: imagePath, format: .qcow2, readOnly: false) as? QCOW2Image)
    }

    /// The disk of snapshot `tag` (or the active disk) as qemu-img reads it.
    func diskBytes(_ imagePath: String, snapshot tag: String? = nil) throws -> [UInt8] {
        let out = path("out-\(UUID().uuidString).raw")
        var arguments = ["convert", "-f", "qcow2", "-O", "raw"]
        if let tag { arguments += ["-l", "snapshot.name=\(tag)"] }
        try qemuImg(arguments + [imagePath, out])
        defer { try? FileManager.default.removeItem(atPath: out) }
        return fileBytes(out)
    }

    func testSnapshotsAreListedCheckedAndReadByQemuImg() throws {
        for compat in ["1.1", "0.10"] {
            let raw = try makeRaw("s-\(compat).raw", size: 4 << 20, filled: [0..<(1 << 20)])
            let imagePath = path("s-\(compat).qcow2")
            try qemuImg(["convert", "-f", "raw", "-O", "qcow2", "-o", "compat=\(compat)", raw, imagePath])
            var expected = fileBytes(raw)
            let state = pattern(200_000, seed: 99)
            do {
                let image = try openWritable(imagePath)
                try write(image, 70_000, pattern(9000, seed: 1))
                expected.replaceSubrange(70_000..<79_000, with: pattern(9000, seed: 1))
                try image.createSnapshot(name: "first", vmState: state, vmClockNanoseconds: 5_000_000_000)
                // Written after the snapshot: shared clusters and tables are copied.
                try write(image, 60_000, pattern(30_000, seed: 2))
                try write(image, 3 << 20, pattern(100, seed: 3))
                try image.createSnapshot(name: "second", vmState: [], vmClockNanoseconds: 0)
                try write(image, 0, pattern(512, seed: 4))
                XCTAssertEqual(try image.vmState(of: "first"), state)
                XCTAssertEqual(try image.vmState(of: "2"), [])
                XCTAssertEqual(image.snapshots.map(\.name), ["first", "second"])
            }
            try qemuImg(["check", "-f", "qcow2", imagePath])
            let listing = try qemuImg(["snapshot", "-l", imagePath])
            XCTAssertTrue(listing.contains("first") && listing.contains("second"), listing)
            XCTAssertTrue(listing.contains("195 KiB") || listing.contains("195.3 KiB"), listing)
            XCTAssertTrue(listing.contains("00:00:05.000"), listing)
            XCTAssertEqual(try diskBytes(imagePath, snapshot: "first"), expected)
            var afterSecond = expected
            afterSecond.replaceSubrange(60_000..<90_000, with: pattern(30_000, seed: 2))
            afterSecond.replaceSubrange((3 << 20)..<((3 << 20) + 100), with: pattern(100, seed: 3))
            XCTAssertEqual(try diskBytes(imagePath, snapshot: "second"), afterSecond)
            var active = afterSecond
            active.replaceSubrange(0..<512, with: pattern(512, seed: 4))
            XCTAssertEqual(try diskBytes(imagePath), active)

            // Back to the first, write, delete it: qemu-img agrees at each step.
            do {
                let image = try openWritable(imagePath)
                try image.revert(to: "first")
                XCTAssertEqual(try read(image, 0, 4 << 20), expected)
                try write(image, 1000, pattern(70_000, seed: 5))
            }
            try qemuImg(["check", "-f", "qcow2", imagePath])
            expected.replaceSubrange(1000..<71_000, with: pattern(70_000, seed: 5))
            XCTAssertEqual(try diskBytes(imagePath), expected)
            do {
                let image = try openWritable(imagePath)
                try image.deleteSnapshot("first")
                try image.deleteSnapshot("second")
                XCTAssertEqual(image.snapshots, [])
                try write(image, 2000, pattern(100, seed: 6))
            }
            let check = try qemuImg(["check", "-f", "qcow2", imagePath])
            XCTAssertFalse(check.contains("leaked"), check)
            XCTAssertFalse(try qemuImg(["snapshot", "-l", imagePath]).contains("first"))
            expected.replaceSubrange(2000..<2100, with: pattern(100, seed: 6))
            XCTAssertEqual(try diskBytes(imagePath), expected)
        }
    }

    /// A VM state of many small clusters spans several refcount blocks
    /// (512-byte clusters hold 512 one-byte, 256 two-byte or 64 eight-byte
    /// refcounts), each counted in one write: qemu-img finds every count
    /// right, and the state reads back whole. (One-bit refcounts cannot count
    /// a cluster a snapshot shares.)
    func testALargeVMStateIsCountedAcrossRefcountBlocks() throws {
        for bits in [8, 16, 64] {
            let imagePath = path("wide-\(bits).qcow2")
            try qemuImg(["create", "-f", "qcow2", "-o", "cluster_size=512,refcount_bits=\(bits)", imagePath, "1M"])
            let state = pattern(1_200_000, seed: UInt32(bits))
            do {
                let image = try openWritable(imagePath)
                try write(image, 4096, pattern(2000, seed: 5))
                try image.createSnapshot(name: "big", vmState: state, vmClockNanoseconds: 0)
                XCTAssertEqual(try image.vmState(of: "big"), state)
            }
            try qemuImg(["check", "-f", "qcow2", imagePath])
            XCTAssertEqual(try openWritable(imagePath).vmState(of: "big"), state)
        }
    }

    func testSnapshotsQemuImgTookAreRevertedAndItRevertsOurs() throws {
        let imagePath = try qemuImage("theirs.qcow2")
        let before = try diskBytes(imagePath)
        try qemuImg(["snapshot", "-c", "theirs", imagePath])
        do {
            let image = try openWritable(imagePath)
            XCTAssertEqual(image.snapshots.map(\.name), ["theirs"])
            try write(image, 500, pattern(200_000, seed: 7))
            try image.createSnapshot(name: "ours", vmState: pattern(10, seed: 8), vmClockNanoseconds: 1)
            try image.revert(to: "theirs")
            XCTAssertEqual(try read(image, 0, before.count), before)
        }
        try qemuImg(["check", "-f", "qcow2", imagePath])
        try qemuImg(["snapshot", "-a", "ours", imagePath])
        var ours = before
        ours.replaceSubrange(500..<200_500, with: pattern(200_000, seed: 7))
        XCTAssertEqual(try diskBytes(imagePath), ours)
        try qemuImg(["snapshot", "-d", "theirs", imagePath])
        try qemuImg(["check", "-f", "qcow2", imagePath])
    }

    func testDamagedSnapshotTablesAreRefused() throws {
        let imagePath = try qemuImage("damaged.qcow2")
        do { try openWritable(imagePath).createSnapshot(name: "a", vmState: pattern(5000, seed: 9), vmClockNanoseconds: 0) }
        let good = fileBytes(imagePath)
        let table = Int(good.bigEndian64(at: 64))
        // The table's offset past the end of the file.
        patch(imagePath, at: 64, [0, 0, 0, 0x7F, 0, 0, 0, 0])
        assertRefused(imagePath, containing: "snapshot table")
        // An entry with more extra data than QEMU allows.
        FileManager.default.createFile(atPath: imagePath, contents: Data(good))
        patch(imagePath, at: table + 36, [0, 0, 0x10, 0])
        assertRefused(imagePath, containing: "extra data")
        // A snapshot claiming more VM state than its tables hold: opens, but its state is refused.
        FileManager.default.createFile(atPath: imagePath, contents: Data(good))
        patch(imagePath, at: table + 40, [0, 0, 0, 0x10, 0, 0, 0, 0])
        let image = try openWritable(imagePath)
        XCTAssertThrowsError(try image.vmState(of: "a")) { XCTAssertTrue("\($0)".contains("VM state"), "\($0)") }
        XCTAssertThrowsError(try image.revert(to: "nothing")) { XCTAssertTrue("\($0)".contains("no snapshot"), "\($0)") }
    }
}

import Foundation
import PCEmuSupport
import TestSupport
import XCTest
@testable import Storage

/// qcow2 images made by qemu-img, read and written through `QCOW2Image`,
/// then judged by `qemu-img check` and `qemu-img compare` against a raw file
/// given the same writes.
final class QCOW2Tests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-storage")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    @discardableResult
    func qemuImg(_ arguments: [String], expect: Int32 = 0) throws -> String {
        let result = try ChildProcess.run("/usr/bin/qemu-img", arguments)
        XCTAssertEqual(result.status, expect, "qemu-img \(arguments.joined(separator: " ")): \(result.stdout) \(result.stderr)")
        return result.stdout + result.stderr
    }

    /// Bytes that differ at every position, from a seed.
    func pattern(_ count: Int, seed: UInt32) -> [UInt8] {
        var state = seed | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        }
    }

    /// A raw file of `size` bytes: patterned where `filled`, zero elsewhere.
    func makeRaw(_ name: String, size: Int, filled: [Range<Int>] = []) throws -> String {
        var bytes = [UInt8](repeating: 0, count: size)
        for (i, range) in filled.enumerated() { bytes.replaceSubrange(range, with: pattern(range.count, seed: UInt32(i + 7))) }
        FileManager.default.createFile(atPath: path(name), contents: Data(bytes))
        return path(name)
    }

    func read(_ image: BlockImage, _ offset: UInt64, _ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0xAA, count: count)
        try bytes.withUnsafeMutableBytes { try image.read(into: $0, at: offset) }
        return bytes
    }

    func write(_ image: BlockImage, _ offset: UInt64, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try image.write($0, at: offset) }
    }

    func fileBytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }

    /// Writes that start and end inside clusters, cross clusters and cover whole ones.
    let writes: [(offset: UInt64, count: Int)] = [
        (0, 512), (4096 - 100, 300), (65536 * 3 + 17, 65536 * 2 + 5), (1 << 20, 65536), (5 << 20 - 1, 2),
        (7 << 20, 4096), (700, 100),
    ]

    /// Applies `writes` to the image and to a raw twin, then has qemu-img check the image and compare both.
    func exerciseWrites(on imagePath: String, twin rawPath: String) throws {
        do {
            let image = try DiskImage.open(path: imagePath, format: .qcow2, readOnly: false)
            let raw = try DiskImage.open(path: rawPath, format: .raw, readOnly: false)
            for (i, spot) in writes.enumerated() {
                let bytes = pattern(spot.count, seed: UInt32(100 + i))
                try write(image, spot.offset, bytes)
                try write(raw, spot.offset, bytes)
                XCTAssertEqual(try read(image, spot.offset, spot.count), bytes)
            }
            try image.flush()
            for spot in writes {
                let start = spot.offset > 1000 ? spot.offset - 1000 : 0
                XCTAssertEqual(try read(image, start, spot.count + 2000), try read(raw, start, spot.count + 2000))
            }
        }
        try qemuImg(["check", "-f", "qcow2", imagePath])
        try qemuImg(["compare", "-f", "qcow2", "-F", "raw", imagePath, rawPath])
    }

    func testReadsWhatQemuWroteAndWritesWhatQemuChecks() throws {
        for compat in ["1.1", "0.10"] {
            let size = 8 << 20
            let raw = try makeRaw("data-\(compat).raw", size: size, filled: [0..<70000, 300_000..<400_000, (size - 5000)..<size])
            let image = path("disk-\(compat).qcow2")
            try qemuImg(["convert", "-f", "raw", "-O", "qcow2", "-o", "compat=\(compat)", raw, image])
            let opened = try DiskImage.open(path: image, format: nil, readOnly: true)
            XCTAssertEqual(opened.byteCount, UInt64(size))
            XCTAssertEqual(try read(opened, 0, size), fileBytes(raw))
            try exerciseWrites(on: image, twin: raw)
        }
    }

    func testEmptyImageWithSmallClustersGrowsItsRefcountStructures() throws {
        // 512-byte clusters: one refcount table cluster (64 blocks of 256
        // 16-bit counts) covers 8 MiB of file; 80 MiB need new blocks and bigger tables.
        let size = 96 << 20
        let raw = try makeRaw("twin.raw", size: size)
        let image = path("small.qcow2")
        try qemuImg(["create", "-q", "-f", "qcow2", "-o", "cluster_size=512", image, "\(size)"])
        do {
            let opened = try DiskImage.open(path: image, format: .qcow2, readOnly: false)
            let twin = try DiskImage.open(path: raw, format: .raw, readOnly: false)
            let chunk = pattern(1 << 20, seed: 3)
            for megabyte in stride(from: 0, to: 80, by: 1) {
                try write(opened, UInt64(megabyte) << 20, chunk)
                try write(twin, UInt64(megabyte) << 20, chunk)
            }
        }
        try qemuImg(["check", "-f", "qcow2", image])
        try qemuImg(["compare", "-f", "qcow2", "-F", "raw", image, raw])
    }

    func testOtherRefcountWidths() throws {
        for bits in [1, 8, 64] {
            let size = 8 << 20
            let raw = try makeRaw("twin-\(bits).raw", size: size)
            let image = path("refcount-\(bits).qcow2")
            try qemuImg(["create", "-q", "-f", "qcow2", "-o", "refcount_bits=\(bits),cluster_size=4096", image, "\(size)"])
            try exerciseWrites(on: image, twin: raw)
        }
    }

    func testCompressedClustersReadAndRewrite() throws {
        let size = 8 << 20
        // Text-like data compresses; the patterned range does not, so both kinds are stored.
        var bytes = [UInt8](repeating: 0, count: size)
        for i in 0..<(2 << 20) { bytes[i] = UInt8(ascii: "a") + UInt8(i % 26) }
        bytes.replaceSubrange((3 << 20)..<(3 << 20 + 100_000), with: pattern(100_000, seed: 9))
        let raw = path("plain.raw")
        FileManager.default.createFile(atPath: raw, contents: Data(bytes))
        let image = path("compressed.qcow2")
        try qemuImg(["convert", "-c", "-f", "raw", "-O", "qcow2", raw, image])
        XCTAssertLessThan(fileBytes(image).count, 1 << 20, "qemu-img did not compress")
        let opened = try DiskImage.open(path: image, format: .qcow2, readOnly: true)
        XCTAssertEqual(try read(opened, 0, size), bytes)
        try exerciseWrites(on: image, twin: raw)
    }

    func testOverlayOnBackingFileLeavesTheBaseAlone() throws {
        let size = 8 << 20
        let raw = try makeRaw("base.raw", size: size, filled: [0..<(8 << 20)])
        let base = path("base.qcow2")
        try qemuImg(["convert", "-f", "raw", "-O", "qcow2", raw, base])
        let overlay = path("overlay.qcow2")
        try qemuImg(["create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", overlay])
        let baseBefore = fileBytes(base)
        let opened = try DiskImage.open(path: overlay, format: .qcow2, readOnly: false)
        XCTAssertEqual(try read(opened, 0, size), fileBytes(raw))
        let twin = try makeRaw("twin.raw", size: size, filled: [0..<(8 << 20)])
        try exerciseWrites(on: overlay, twin: twin)
        XCTAssertEqual(fileBytes(base), baseBefore)
    }

    func testOverlayOnRawBackingShorterThanTheDisk() throws {
        let raw = try makeRaw("short.raw", size: 1 << 20, filled: [0..<(1 << 20)])
        let overlay = path("long.qcow2")
        try qemuImg(["create", "-q", "-f", "qcow2", "-b", raw, "-F", "raw", overlay, "\(8 << 20)"])
        let opened = try DiskImage.open(path: overlay, format: .qcow2, readOnly: true)
        XCTAssertEqual(try read(opened, 0, 1 << 20), fileBytes(raw))
        XCTAssertEqual(try read(opened, (1 << 20) - 10, 20), Array(fileBytes(raw).suffix(10)) + [UInt8](repeating: 0, count: 10))
    }

    func testSnapshotOverlayTakesTheWritesAndVanishes() throws {
        let overlays = try makeTemporaryDirectory("pcemu-overlays")
        defer { try? FileManager.default.removeItem(at: overlays) }
        setenv("TMPDIR", overlays.path, 1)
        defer { unsetenv("TMPDIR") }
        for format in [DiskImage.Format.raw, .qcow2] {
            let raw = try makeRaw("snap-base.raw", size: 4 << 20, filled: [0..<(4 << 20)])
            let base = format == .raw ? raw : path("snap-base.qcow2")
            if format == .qcow2 { try qemuImg(["convert", "-f", "raw", "-O", "qcow2", raw, base]) }
            let before = fileBytes(base)
            let image = try DiskImage.openSnapshot(path: base, format: format)
            XCTAssertFalse(image.isReadOnly)
            XCTAssertEqual(image.byteCount, 4 << 20)
            let bytes = pattern(10_000, seed: 77)
            try write(image, 123_456, bytes)
            XCTAssertEqual(try read(image, 123_456, bytes.count), bytes)
            XCTAssertEqual(try read(image, 0, 1000), Array(fileBytes(raw).prefix(1000)))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: overlays.path), [], "the overlay is unlinked")
            try image.flush()
            XCTAssertEqual(fileBytes(base), before)
        }
    }

    func testCreatedOverlayPassesQemuCheck() throws {
        let raw = try makeRaw("for-overlay.raw", size: 3 << 20, filled: [0..<(3 << 20)])
        let overlay = path("made.qcow2")
        try QCOW2Creator.create(path: overlay, size: 3 << 20, backingFile: raw, backingFormat: "raw")
        try qemuImg(["check", overlay])
        try qemuImg(["compare", "-f", "qcow2", "-F", "raw", overlay, raw])
        let twin = try makeRaw("twin.raw", size: 8 << 20, filled: [0..<(3 << 20)])
        try qemuImg(["resize", "-q", "-f", "qcow2", overlay, "\(8 << 20)"])
        try exerciseWrites(on: overlay, twin: twin)
    }

    // MARK: Bad images

    func assertRefused(_ imagePath: String, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        let before = fileBytes(imagePath)
        XCTAssertThrowsError(try DiskImage.open(path: imagePath, format: .qcow2, readOnly: false), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(text), "\(message)", file: file, line: line)
            XCTAssertTrue(message.hasPrefix(imagePath), message, file: file, line: line)
        }
        XCTAssertEqual(fileBytes(imagePath), before, "a refused image was written", file: file, line: line)
    }

    func qemuImage(_ name: String) throws -> String {
        let raw = try makeRaw(name + ".raw", size: 4 << 20, filled: [0..<(1 << 20)])
        let image = path(name)
        try qemuImg(["convert", "-f", "raw", "-O", "qcow2", raw, image])
        return image
    }

    func patch(_ imagePath: String, at offset: Int, _ bytes: [UInt8]) {
        var data = fileBytes(imagePath)
        data.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        FileManager.default.createFile(atPath: imagePath, contents: Data(data))
    }

    func testTruncatedImageIsRefused() throws {
        let image = try qemuImage("truncated.qcow2")
        let data = fileBytes(image)
        FileManager.default.createFile(atPath: image, contents: Data(data.prefix(data.count - 65536)))
        assertRefused(image, containing: "truncated")
        FileManager.default.createFile(atPath: image, contents: Data(data.prefix(50)))
        assertRefused(image, containing: "corrupt qcow2")
    }

    func testBadTableEntriesAreRefused() throws {
        let image = try qemuImage("bad-l1.qcow2")
        let l1Offset = Int(fileBytes(image).bigEndian64(at: 40))
        patch(image, at: l1Offset, [0x80, 0, 0, 0, 0x12, 0x34, 0, 0])
        assertRefused(image, containing: "L2 table 0")

        let huge = try qemuImage("bad-l2.qcow2")
        let l2Offset = Int(fileBytes(huge).bigEndian64(at: Int(fileBytes(huge).bigEndian64(at: 40))) & QCOW2Image.Entry.offsetMask)
        patch(huge, at: l2Offset + 8, [0x80, 0, 0, 0x40, 0, 0, 0, 0])
        assertRefused(huge, containing: "L2 entry 0.1")

        let refcount = try qemuImage("bad-refcount.qcow2")
        let tableOffset = Int(fileBytes(refcount).bigEndian64(at: 48))
        patch(refcount, at: tableOffset, [0, 0, 0, 0, 0x7F, 0, 0, 0])
        assertRefused(refcount, containing: "refcount block 0")

        let header = try qemuImage("bad-header.qcow2")
        patch(header, at: 20, [0, 0, 0, 40])
        assertRefused(header, containing: "cluster bits")

        let small = try qemuImage("bad-l1-size.qcow2")
        patch(small, at: 36, [0, 0, 0, 0])
        assertRefused(small, containing: "too small")

        let marked = try qemuImage("marked.qcow2")
        patch(marked, at: 72, [0, 0, 0, 0, 0, 0, 0, 2])
        assertRefused(marked, containing: "marked corrupt")
    }

    func testMissingBackingFileIsAClearError() throws {
        let raw = try makeRaw("gone.raw", size: 1 << 20)
        let overlay = path("orphan.qcow2")
        try qemuImg(["create", "-q", "-f", "qcow2", "-b", raw, "-F", "raw", overlay])
        try FileManager.default.removeItem(atPath: raw)
        XCTAssertThrowsError(try DiskImage.open(path: overlay, format: nil, readOnly: false)) { error in
            XCTAssertEqual("\(error)", "\(raw): No such file or directory")
        }
    }

    func testRawImageBounds() throws {
        let raw = try makeRaw("bounds.raw", size: 4096, filled: [0..<4096])
        let image = try DiskImage.open(path: raw, format: nil, readOnly: false)
        XCTAssertTrue(image is RawImage)
        XCTAssertEqual(try read(image, 4000, 96), Array(fileBytes(raw).suffix(96)))
        XCTAssertThrowsError(try read(image, 4000, 97))
        XCTAssertThrowsError(try write(image, UInt64.max - 10, [1, 2, 3]))
        let readOnly = try DiskImage.open(path: raw, format: .raw, readOnly: true)
        XCTAssertThrowsError(try write(readOnly, 0, [1]))
    }
}

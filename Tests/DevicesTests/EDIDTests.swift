import Foundation
import XCTest
@testable import Devices

/// The EDID block the standard VGA shows: its bytes read back as the VESA
/// E-EDID 1.4 layout says, and judged by Debian's edid-decode (--check).
final class EDIDTests: XCTestCase {
    /// The preferred (first detailed) timing's active size, decoded from its 12-bit fields.
    func preferredMode(_ block: [UInt8]) -> (width: Int, height: Int, clockKHz: Int) {
        let d = Array(block[54..<72])
        let width = Int(d[2]) | Int(d[4] >> 4) << 8
        let height = Int(d[5]) | Int(d[7] >> 4) << 8
        return (width, height, (Int(d[0]) | Int(d[1]) << 8) * 10)
    }

    func descriptor(_ block: [UInt8], tag: UInt8) -> [UInt8]? {
        (0..<4).map { Array(block[54 + 18 * $0..<72 + 18 * $0]) }.first { $0[0] == 0 && $0[1] == 0 && $0[3] == tag }
    }

    func testDefaultBlockIsEDID14WithQEMUsPreferredMode() {
        let block = EDID.block()
        XCTAssertEqual(block.count, 128)
        XCTAssertEqual(Array(block[0..<8]), [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00], "the fixed header")
        XCTAssertEqual(block.reduce(0, &+), 0, "the 128 bytes sum to 0 modulo 256")
        XCTAssertEqual(block[18], 1)
        XCTAssertEqual(block[19], 4, "EDID 1.4")
        XCTAssertEqual(block[126], 0, "no extension blocks")
        // "PCE" in three 5-bit letters.
        let vendor = Int(block[8]) << 8 | Int(block[9])
        XCTAssertEqual([vendor >> 10 & 31, vendor >> 5 & 31, vendor & 31], [16, 3, 5])
        XCTAssertEqual(block[24] & 0x02, 0x02, "the first detailed timing is the preferred mode")
        let mode = preferredMode(block)
        XCTAssertEqual(mode.width, 1280)
        XCTAssertEqual(mode.height, 800)
        // CVT reduced blanking for 1280x800 at 60 Hz: 1440 x 823 at 71.00 MHz.
        XCTAssertEqual(mode.clockKHz, 71_000)
        let timing = Array(block[54..<72])
        XCTAssertEqual(Int(timing[3]) | Int(timing[4] & 0xF) << 8, 160, "horizontal blank")
        XCTAssertEqual(Int(timing[6]) | Int(timing[7] & 0xF) << 8, 23, "vertical blank")
        XCTAssertEqual(String(decoding: descriptor(block, tag: 0xFC)![5..<18], as: UTF8.self), "PCEmu Monitor")
        let range = descriptor(block, tag: 0xFD)!
        XCTAssertEqual(Array(range[5..<9]), [50, 75, 30, 160], "vertical 50-75 Hz, horizontal 30-160 kHz")
        XCTAssertGreaterThanOrEqual(Int(range[9]) * 10_000, mode.clockKHz, "the clock limit covers the preferred mode")
    }

    func testPreferredModeFollowsTheRequestedSize() {
        for (width, height) in [(1024, 768), (1920, 1080), (800, 600), (2560, 1600), (1366, 768)] {
            let block = EDID.block(preferredWidth: width, preferredHeight: height)
            XCTAssertEqual(block.reduce(0, &+), 0)
            let mode = preferredMode(block)
            XCTAssertEqual(mode.width, width)
            XCTAssertEqual(mode.height, height)
            XCTAssertEqual(mode.clockKHz % 250, 0, "CVT clocks step by 0.25 MHz")
        }
    }

    func testEDIDDecodeFindsNoErrors() throws {
        let tool = "/usr/bin/edid-decode"
        // scripts/setup.sh installs it: its absence is a broken set-up, not a reason to skip.
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            return XCTFail("edid-decode is not installed (scripts/setup.sh installs it)")
        }
        for (width, height) in [(1280, 800), (1024, 768), (1920, 1080)] {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("pcemu-edid-\(getpid()).bin")
            try Data(EDID.block(preferredWidth: width, preferredHeight: height)).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = ["--check", file.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, output)
            XCTAssertTrue(output.contains("\(width)x\(height)"), output)
            XCTAssertTrue(output.contains("PCEmu Monitor"), output)
            XCTAssertFalse(output.contains("Failures:"), output)
        }
    }
}

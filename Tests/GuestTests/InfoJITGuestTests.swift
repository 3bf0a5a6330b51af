import Foundation
import TestSupport
import XCTest

/// The monitor's `info jit` on the booted default guest: the blocks it holds,
/// the code cache's fill out of QEMU's default 1 GiB (or -accel's tb-size),
/// and translation counts that grow as the guest runs new code.
final class InfoJITGuestTests: XCTestCase {
    /// The numbers on `info jit`'s lines, by the line's name.
    static func numbers(_ text: String) -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for line in text.split(separator: "\n") {
            guard let name = line.range(of: "  ").map({ String(line[..<$0.lowerBound]) }) else { continue }
            result[name] = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        }
        return result
    }

    func testInfoJITReportsTheCodeCacheAndTranslationsAsTheGuestRuns() throws {
        let directory = try makeTemporaryDirectory("pcemu-info-jit")
        defer { try? FileManager.default.removeItem(at: directory) }
        let guest = try MonitoredGuest(directory: directory, arguments: ["-nic", "none", "-accel", "tcg,tb-size=512"])
        let pcemu = guest.pcemu, monitor = guest.monitor
        defer { pcemu.stop() }
        XCTAssertNotNil(runInShell("echo up", in: pcemu))

        let text = try XCTUnwrap(monitor.command("info jit"))
        XCTAssertTrue(text.hasPrefix("Translation buffer state:\n"), text)
        let first = InfoJITGuestTests.numbers(text)
        let size = try XCTUnwrap(first["gen code size"], text)
        XCTAssertEqual(size.count, 2, text)
        XCTAssertEqual(size.last, 512 << 20, "tb-size=512: \(text)")
        XCTAssertGreaterThan(size.first ?? 0, 0, text)
        XCTAssertGreaterThan(first["TB count"]?.first ?? 0, 1000, "a booted Linux has translated thousands of blocks: \(text)")
        let translated = try XCTUnwrap(first["TB translated"]?.first, text)
        XCTAssertGreaterThanOrEqual(translated, first["TB count"]?.first ?? .max, text)
        XCTAssertEqual(first["TB flush count"], [0], "512 MiB holds the boot's code: \(text)")

        // A program the guest had not run yet is new code to translate.
        XCTAssertNotNil(runInShell("find / -name '*.ko' | wc -l", in: pcemu))
        let later = InfoJITGuestTests.numbers(try XCTUnwrap(monitor.command("info jit")))
        XCTAssertGreaterThan(later["TB translated"]?.first ?? 0, translated)
    }
}

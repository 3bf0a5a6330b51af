import Foundation
import TestSupport
import XCTest

/// The monitor's `info irq` after the default guest booted and used its
/// disk and serial console: the timer, serial and disk inputs have risen,
/// on the 8259 pair and on the I/O APIC (where IRQ 0 is pin 2).
final class InfoIRQGuestTests: XCTestCase {
    /// `info irq`'s counts, by chip and input.
    static func parse(_ text: String) -> [String: [Int: Int]] {
        var chips: [String: [Int: Int]] = [:]
        var chip = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("IRQ statistics for "), line.hasSuffix(":") {
                chip = String(line.dropFirst("IRQ statistics for ".count).dropLast())
                chips[chip] = [:]
            } else {
                let parts = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2, let input = Int(parts[0]), let count = Int(parts[1]) { chips[chip]?[input] = count }
            }
        }
        return chips
    }

    func testInfoIRQCountsTheTimerDiskAndSerialInterrupts() throws {
        let directory = try makeTemporaryDirectory("pcemu-info-irq")
        defer { try? FileManager.default.removeItem(at: directory) }
        let disk = directory.appendingPathComponent("disk.img")
        try Data(repeating: 0x42, count: 1 << 20).write(to: disk)
        let guest = try MonitoredGuest(directory: directory, arguments: ["-nic", "none", "-drive", "file=\(disk.path),format=raw,if=ide,index=0"])
        let pcemu = guest.pcemu, monitor = guest.monitor
        defer { pcemu.stop() }
        XCTAssertNotNil(runInShell("modprobe ata_piix; modprobe sd_mod; sleep 3", in: pcemu))
        XCTAssertEqual(runInShell("head -c4 /dev/sda; echo", in: pcemu), "BBBB", String(pcemu.standardOutput.suffix(1500)))

        let text = try XCTUnwrap(monitor.command("info irq"))
        XCTAssertTrue(text.hasPrefix("IRQ statistics for ioapic:\n"), text)
        let counts = InfoIRQGuestTests.parse(text)
        XCTAssertEqual(Set(counts.keys), ["ioapic", "isa-i8259"], text)
        let pic = try XCTUnwrap(counts["isa-i8259"])
        let ioAPIC = try XCTUnwrap(counts["ioapic"])
        // Timer (IRQ 0, I/O APIC pin 2), COM1 (4) and the primary IDE channel (14).
        for input in [0, 4, 14] { XCTAssertGreaterThan(pic[input] ?? 0, 0, "8259 input \(input): \(text)") }
        for pin in [2, 4, 14] { XCTAssertGreaterThan(ioAPIC[pin] ?? 0, 0, "I/O APIC pin \(pin): \(text)") }
        XCTAssertNil(pic[2], "the cascade input is no device's: \(text)")
        XCTAssertTrue(text.split(separator: "\n").allSatisfy { $0.hasPrefix("IRQ statistics for ") || $0.count >= 4 && $0.dropFirst(2).hasPrefix(": ") },
                      "QEMU's \"%2d: %lld\" lines: \(text)")

        // They only grow: more serial output raises IRQ 4 again.
        _ = runInShell("seq 1 200", in: pcemu)
        let later = InfoIRQGuestTests.parse(try XCTUnwrap(monitor.command("info irq")))
        XCTAssertGreaterThan(later["isa-i8259"]?[4] ?? 0, pic[4] ?? 0)
    }
}

import Foundation
import TestSupport
import XCTest

/// firmware/tests/vbe-desktop.asm does what a hobby OS with a VESA desktop
/// does from a floppy: VBE mode 0x4143 (800x600x32, linear framebuffer)
/// through SeaVGABIOS, PIT interrupts in real mode before and after the mode
/// set and in protected mode with its own IDT, taken in STI;HLT;CLI and
/// STI;NOP;NOP;CLI windows, and its desktop drawn into the framebuffer a
/// band per tick. PCEmu must take every step and draw what QEMU draws.
final class VBEDesktopTests: XCTestCase {
    func testVESADesktopFromAFloppyKeepsTakingTimerInterruptsLikeQEMU() throws {
        let directory = try makeTemporaryDirectory("pcemu-vbe-desktop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let program = directory.appendingPathComponent("vbe-desktop.bin")
        let source = DefaultGuest.repository.appendingPathComponent("firmware/tests/vbe-desktop.asm")
        let assembled = try ChildProcess.run("/usr/bin/nasm", ["-f", "bin", "-o", program.path, source.path])
        XCTAssertEqual(assembled.status, 0, assembled.stderr)
        var image = try Data(contentsOf: program)
        image.append(Data(count: 1_474_560 - image.count))
        let floppy = directory.appendingPathComponent("vbe-desktop.img").path
        try image.write(to: URL(fileURLWithPath: floppy))
        // The program's letters follow SeaBIOS's last line on the debug console;
        // PCEmu's also carries SeaVGABIOS's log (port 0x402), QEMU's does not.
        func progress(_ log: String) -> String {
            let text = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: "Booting from 0000:7c00\n").last ?? ""
            return text.replacingOccurrences(of: "(VBE mode info request|VBE mode set|set VGA mode):? [0-9a-f]+\n", with: "",
                                             options: .regularExpression)
        }
        func waitForDesktop(_ log: String) -> Bool {
            let deadline = Date(timeIntervalSinceNow: 120)
            while Date() < deadline {
                let letters = progress(log)
                if letters.hasSuffix("D") || letters.contains("!") { return letters.hasSuffix("D") }
                usleep(100_000)
            }
            return false
        }

        let ourLog = directory.appendingPathComponent("pcemu-debugcon.txt").path
        let ours = directory.appendingPathComponent("pcemu.ppm").path
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "64", "-nic", "none", "-display", "none", "-serial", "stdio", "-fda", floppy,
            "-debugcon", "file:\(ourLog)", "-screendump", ours,
        ], inputPipe: true)
        defer { pcemu.stop() }
        XCTAssertTrue(waitForDesktop(ourLog), "PCEmu: \(progress(ourLog).suffix(300))")
        pcemu.send("\u{01}x")
        XCTAssertEqual(pcemu.wait(timeout: 30), 0)
        XCTAssertTrue(progress(ourLog).hasSuffix("VITMRPD"), progress(ourLog))

        let qemuLog = directory.appendingPathComponent("qemu-debugcon.txt").path
        let reference = directory.appendingPathComponent("qemu.ppm").path
        let qemu = try ChildProcess("/usr/bin/qemu-system-i386", [
            "-m", "64", "-nic", "none", "-drive", "file=\(floppy),format=raw,if=floppy", "-display", "none",
            "-monitor", "stdio", "-debugcon", "file:\(qemuLog)",
        ], inputPipe: true)
        defer { qemu.stop() }
        XCTAssertTrue(waitForDesktop(qemuLog), "QEMU: \(progress(qemuLog).suffix(300))")
        qemu.send("screendump \(reference)\nquit\n")
        _ = qemu.wait(timeout: 30)
        XCTAssertTrue(progress(qemuLog).hasSuffix("VITMRPD"), progress(qemuLog))

        let ourShot = try Screenshot(ppm: ours), qemuShot = try Screenshot(ppm: reference)
        XCTAssertEqual(qemuShot.width, 800)
        XCTAssertEqual(qemuShot.height, 600)
        XCTAssertEqual(ourShot.width, 800)
        XCTAssertEqual(ourShot.height, 600)
        guard ourShot.pixels.count == qemuShot.pixels.count else { return }
        XCTAssertEqual(ourShot.pixel(x: 10, y: 10), 0x008080, "the desktop's background")
        XCTAssertEqual(ourShot.pixel(x: 400, y: 160), 0x000080, "the window's title bar")
        XCTAssertEqual(ourShot.pixel(x: 400, y: 300), 0xC0C0C0, "the window")
        let differing = (0..<ourShot.pixels.count).filter { ourShot.pixels[$0] != qemuShot.pixels[$0] }
        XCTAssertEqual(differing.count, 0, "first differences at \(differing.prefix(5).map { ($0 % 800, $0 / 800) })")
    }
}

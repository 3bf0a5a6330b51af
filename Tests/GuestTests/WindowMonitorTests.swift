import Foundation
import TestSupport
import XCTest

/// The monitor in the window: Ctrl+Alt+2 shows its console (the window's
/// contents captured from outside with xwd, their text read against the VGA
/// BIOS's font), keys typed go to it and not to the guest, the guest runs
/// on; Ctrl+Alt+1 brings the guest's screen and keyboard back.
final class WindowMonitorTests: XCTestCase {
    func testCtrlAlt2ShowsTheMonitorAndCtrlAlt1TheGuestAgain() throws {
        let directory = try makeTemporaryDirectory("pcemu-window-monitor")
        defer { try? FileManager.default.removeItem(at: directory) }
        let paths = try DefaultGuest.paths()
        let guest = try WindowedGuest(["-m", "256", "-nic", "none", "-serial", "stdio", "-kernel", paths.kernel, "-initrd", paths.initrd,
                                       "-append", "console=ttyS0 console=tty0"], directory: directory)
        defer { guest.stop() }
        let shell = "pcemu:/root#"
        let font = try VGAFont()
        func capture() throws -> Screenshot { try Screenshot(window: guest.window, display: guest.xvfb.display, directory: directory) }
        /// Captures the window until `condition` holds of its text; the last capture and its text.
        func waitForWindow(cellWidth: Int, timeout: TimeInterval = 30, _ condition: ([String]) -> Bool) throws -> (Screenshot, [String]) {
            let deadline = Date(timeIntervalSinceNow: timeout)
            var shot = try capture()
            var lines = shot.text(cellWidth: cellWidth, font: font)
            while !condition(lines), Date() < deadline {
                usleep(300_000)
                shot = try capture()
                lines = shot.text(cellWidth: cellWidth, font: font)
            }
            return (shot, lines)
        }
        // Watched from outside, without a key pressed: keys while Linux probes the keyboard can upset it.
        let (guestPicture, booted) = try waitForWindow(cellWidth: 9, timeout: 300) { $0.contains { $0.hasPrefix(shell) } }
        XCTAssertTrue(booted.contains { $0.hasPrefix(shell) }, booted.joined(separator: "\n"))

        // The guest prints on COM1 a few seconds from now, while the monitor is shown.
        try guest.typeLine("(sleep 4; echo later-$((5*5)) > /dev/ttyS0) &")
        try guest.key("ctrl+alt+2")
        try guest.typeLine("info version")
        try guest.typeLine("info status")
        let version = try XCTUnwrap(try ChildProcess.run(BuildProducts.pcemu, ["-version"]).stdout.split(separator: " ").dropFirst(2).first)
        let (console, lines) = try waitForWindow(cellWidth: 8) { $0.contains("VM status: running") }
        let text = lines.joined(separator: "\n")
        XCTAssertEqual(lines.first, "PCEmu \(version.dropLast()) monitor - type 'help' for more information", text)
        let asked = try XCTUnwrap(lines.firstIndex(of: "(qemu) info version"), text)
        XCTAssertEqual(lines[asked + 1], String(version.dropLast()), text)
        XCTAssertEqual(lines[asked + 2], "(qemu) info status", text)
        XCTAssertEqual(lines[asked + 3], "VM status: running", text)
        XCTAssertTrue(lines[asked + 4].hasPrefix("(qemu)"), text)
        XCTAssertEqual(console.width, guestPicture.width, "the console takes the guest picture's place")
        XCTAssertNotEqual(console.pixels, guestPicture.pixels)
        XCTAssertTrue(try guest.xvfb.run("xdotool", ["getwindowname", String(guest.window)]).contains("monitor"))
        XCTAssertTrue(guest.pcemu.waitForOutput("later-25", timeout: 30),
                      "the guest ran on behind the monitor: \(guest.pcemu.standardOutput.suffix(1500))\n\((try? guest.screen()) ?? [])")

        try guest.key("ctrl+alt+1")
        let (_, back) = try waitForWindow(cellWidth: 9) { $0.contains { $0.hasPrefix(shell) } }
        let backText = back.joined(separator: "\n")
        XCTAssertTrue(back.contains { $0.hasPrefix(shell) }, backText)
        XCTAssertFalse(backText.contains("info version"), "what the monitor was given never reached the guest:\n\(backText)")
        XCTAssertFalse(try guest.xvfb.run("xdotool", ["getwindowname", String(guest.window)]).contains("monitor"))
        try guest.typeLine("echo back-$((2*3)) > /dev/ttyS0")
        XCTAssertTrue(guest.pcemu.waitForOutput("back-6", timeout: 60),
                      "the keys reach the guest again:\n\(((try? guest.screen()) ?? []).joined(separator: "\n"))")
    }
}

import Foundation
import TestSupport
import XCTest

/// The real pcemu with its window on a private Xvfb, run in a directory of
/// its own: the test reads the guest's screen through Ctrl+Alt+S screenshots
/// (their text read against the VGA BIOS's font) and types into the window,
/// as a person at the machine would.
final class WindowedGuest {
    let xvfb: XvfbServer
    let directory: URL
    let pcemu: ChildProcess
    let window: UInt
    private var shots = 0
    private let font: VGAFont

    init(_ arguments: [String], directory: URL) throws {
        xvfb = try XvfbServer(width: 1280, height: 1024)
        self.directory = directory
        // The socket can be there before the server answers: wait until a client gets in.
        let ready = Date(timeIntervalSinceNow: 20)
        while try ChildProcess.run("/usr/bin/xdpyinfo", ["-display", xvfb.display], timeout: 10).status != 0 {
            guard Date() < ready else { throw TestSetupError("Xvfb on \(xvfb.display) does not answer") }
            usleep(200_000)
        }
        font = try VGAFont()
        pcemu = try ChildProcess(BuildProducts.pcemu, ["-display", "sdl"] + arguments,
                                 environment: ["DISPLAY": xvfb.display, "SDL_VIDEODRIVER": "x11"],
                                 inputPipe: true, workingDirectory: directory.path)
        do {
            window = try xvfb.window(named: "^PCEmu", timeout: 60)
        } catch {
            let exited = !pcemu.isRunning
            pcemu.stop()
            xvfb.stop()
            throw TestSetupError("\(error) on \(xvfb.display); pcemu \(exited ? "had exited" : "was running"): \(pcemu.standardError.suffix(800))")
        }
    }

    func stop() {
        pcemu.stop()
        xvfb.stop()
    }

    deinit { stop() }

    /// The text on the guest's screen now: one line per character row.
    func screen() throws -> [String] {
        shots += 1
        _ = try xvfb.run("xdotool", ["key", "--window", String(window), "ctrl+alt+s"])
        // The file is complete once pcemu has said so.
        let deadline = Date(timeIntervalSinceNow: 20)
        while pcemu.standardError.components(separatedBy: "screenshot saved").count - 1 < shots {
            guard Date() < deadline, pcemu.isRunning else {
                throw TestSetupError("no screenshot \(shots) from pcemu: \(pcemu.standardError.suffix(500))")
            }
            usleep(50_000)
        }
        let shot = try Screenshot(png: directory.appendingPathComponent("pcemu-screenshot-\(shots).png").path)
        return shot.text(cellWidth: shot.width == 720 ? 9 : 8, font: font)
    }

    /// Reads the screen about once a second until `condition` holds; the last
    /// screen read, and whether it held.
    func waitForScreen(timeout: TimeInterval, _ condition: ([String]) -> Bool) throws -> (lines: [String], found: Bool) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var lines: [String] = []
        repeat {
            lines = try screen()
            if condition(lines) { return (lines, true) }
            usleep(700_000)
        } while Date() < deadline && pcemu.isRunning
        return (lines, false)
    }

    /// Waits for a screen on which some line contains each of `texts`.
    func waitForText(_ texts: [String], timeout: TimeInterval = 90) throws -> (lines: [String], found: Bool) {
        try waitForScreen(timeout: timeout) { lines in texts.allSatisfy { text in lines.contains { $0.contains(text) } } }
    }

    /// Types `text` into the window, then Return.
    func typeLine(_ text: String) throws {
        _ = try xvfb.run("xdotool", ["type", "--window", String(window), "--delay", "60", text])
        try key("Return")
    }

    /// Presses a key (xdotool's names: "c", "ctrl+b", "Return").
    func key(_ name: String) throws {
        _ = try xvfb.run("xdotool", ["key", "--window", String(window), name])
    }
}

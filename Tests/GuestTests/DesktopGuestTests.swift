import Foundation
import TestSupport
import XCTest

/// The desktop guest end to end: the Debian 12 i386 image made by
/// scripts/build-desktop-image.sh boots through SeaBIOS from the IDE disk to X
/// (modesetting on bochs-drm) in pcemu's SDL window on a private Xvfb, with
/// sound through a private PulseAudio server and the network through user-mode
/// networking to an HTTP server on 127.0.0.1. Everything the guest is asked to
/// do is typed into its xterm through the window; the guest writes what it
/// finds to its serial port, which the test reads.
final class DesktopGuestTests: XCTestCase {
    var xvfb: XvfbServer!
    var pulse: PulseAudioServer!
    var directory: URL!
    var image: String!

    override func setUpWithError() throws {
        let cache = DefaultGuest.repository.appendingPathComponent("guest-cache/desktop")
        let script = DefaultGuest.repository.appendingPathComponent("scripts/build-desktop-image.sh").path
        let result = try ChildProcess.run("/bin/bash", [script], timeout: 1500, environment: ["DESKTOP_IMAGE_DIR": cache.path])
        guard result.status == 0 else {
            throw TestSetupError("build-desktop-image.sh failed: \(result.stdout.suffix(500)) \(result.stderr.suffix(1500))")
        }
        image = cache.appendingPathComponent("desktop.img").path
        xvfb = try XvfbServer(width: 1280, height: 1024)
        pulse = try PulseAudioServer()
        directory = try makeTemporaryDirectory("pcemu-desktop")
    }

    override func tearDown() {
        xvfb?.stop()
        pulse?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func x11(_ tool: String, _ arguments: [String]) throws -> String { try xvfb.run(tool, arguments) }

    /// The pcemu window's X id, once it is mapped.
    func pcemuWindow(timeout: TimeInterval = 30) throws -> UInt { try xvfb.window(named: "^PCEmu", timeout: timeout) }

    /// Types a line into the guest's focused window (its xterm) through pcemu's window.
    /// Each key is a few events in the guest kernel's evdev buffer for Xorg
    /// (64 events); typed faster than a busy guest X server reads them, keys
    /// are dropped (SYN_DROPPED), as they would be on a slow real machine.
    func type(_ text: String, into window: UInt) throws {
        _ = try x11("xdotool", ["type", "--window", String(window), "--delay", "60", text])
        _ = try x11("xdotool", ["key", "--window", String(window), "Return"])
    }

    /// Types a command whose output goes to the guest's serial port, and waits
    /// for the line after `marker` there (the marker is computed by the guest's
    /// shell, so the typed command never matches it). A line whose keys were
    /// dropped gives no marker; it is typed again, up to `attempts` times.
    func runInXterm(_ command: String, window: UInt, pcemu: ChildProcess, timeout: TimeInterval = 60,
                    attempts: Int = 3) throws -> String? {
        for _ in 0..<attempts {
            let number = Int.random(in: 1000...1_000_000)
            let marker = "result-\(number + 1):"
            try type("(\(command)) 2>&1 | sed 's/^/result-'$((\(number)+1))': /' > /dev/ttyS0", into: window)
            guard pcemu.waitForOutput(marker, timeout: timeout) else { continue }
            usleep(300_000)
            let lines = pcemu.standardOutput.replacingOccurrences(of: "\r", with: "").split(separator: "\n")
            let found = lines.filter { $0.hasPrefix(marker) }.map { $0.dropFirst(marker.count).trimmingCharacters(in: .whitespaces) }
            return found.joined(separator: "\n")
        }
        return nil
    }

    func testTheDesktopComesUpInTheWindowAndKeyboardMouseSoundAndNetworkWork() throws {
        let payload = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
        let server = try HTTPFileServer(body: payload)
        defer { server.stop() }
        let recording = directory.appendingPathComponent("monitor.wav").path
        let recorder = try ChildProcess("/usr/bin/parec", [
            "--raw", "--format=s16le", "--channels=2", "--rate=48000", "-d", "\(pulse.sinkName).monitor",
            "--file-format=wav", recording,
        ], environment: ["PULSE_SERVER": pulse.server])
        defer { recorder.stop() }

        let started = Date()
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "512", "-name", "desktop", "-hda", image, "-snapshot", "-serial", "stdio",
            "-device", "sb16,audiodev=a0", "-audiodev", "pa,id=a0",
        ], environment: ["DISPLAY": xvfb.display, "SDL_VIDEODRIVER": "x11", "PULSE_SERVER": pulse.server],
           inputPipe: true, workingDirectory: directory.path)
        defer { pcemu.stop() }
        XCTAssertTrue(pcemu.waitForOutput("pcemu-desktop: X ready", timeout: 900),
                      "\(pcemu.standardOutput.suffix(3000))\n\(pcemu.standardError.suffix(1000))")
        let seconds = Date().timeIntervalSince(started)
        print("desktop: X ready after \(Int(seconds)) s")
        let ready = pcemu.standardOutput.split(separator: "\n").first { $0.contains("pcemu-desktop: X ready") } ?? ""
        XCTAssertTrue(ready.contains("1280x800"), "X runs at the EDID's preferred 1280x800: \(ready)")
        let window = try pcemuWindow()

        // Keyboard: typed into the xterm.
        XCTAssertEqual(try runInXterm("echo typed-$((6*7))", window: window, pcemu: pcemu, timeout: 30), "typed-42",
                       "keys typed into the window reach the xterm")

        // The APIC platform: SeaBIOS's MADT puts Linux on the local APIC timer,
        // the I/O APIC and the TSC, as on QEMU's PC.
        // One line, so that the answer arrives whole.
        let timers = "echo $(cat /sys/devices/system/clockevents/clockevent0/current_device) "
            + "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) "
            + "$(grep -c IO-APIC /proc/interrupts) $(grep -c XT-PIC /proc/interrupts)"
        let platform = try XCTUnwrap(runInXterm(timers, window: window, pcemu: pcemu)).split(separator: " ").map(String.init)
        XCTAssertEqual(platform.count, 4, "\(platform)")
        if platform.count == 4 {
            XCTAssertEqual(platform[0], "lapic", "the clock event device")
            XCTAssertEqual(platform[1], "tsc", "the clocksource")
            XCTAssertGreaterThan(Int(platform[2]) ?? 0, 3, "interrupts through the I/O APIC")
            XCTAssertEqual(platform[3], "0", "none through the 8259")
        }

        // Mouse: a click grabs the pointer; moving it left and up moves X's pointer the same way.
        let location = #"xdotool getmouselocation | cut -d" " -f1-2"#
        let before = try XCTUnwrap(runInXterm(location, window: window, pcemu: pcemu))
        _ = try x11("xdotool", ["mousemove", "--window", String(window), "900", "700", "click", "1"])
        usleep(500_000)
        for _ in 0..<4 {
            _ = try x11("xdotool", ["mousemove_relative", "--", "-30", "-20"])
            usleep(200_000)
        }
        _ = try x11("xdotool", ["key", "--window", String(window), "ctrl+alt+g"])
        usleep(300_000)
        let after = try XCTUnwrap(runInXterm(location, window: window, pcemu: pcemu))
        func coordinates(_ text: String) -> (Int, Int) {
            let values = text.split(separator: " ").map { Int($0.split(separator: ":").last ?? "") ?? -1 }
            return values.count == 2 ? (values[0], values[1]) : (-1, -1)
        }
        let (x0, y0) = coordinates(before), (x1, y1) = coordinates(after)
        XCTAssertGreaterThan(x0, 0, before)
        XCTAssertLessThan(x1, x0, "the pointer moved left: \(before) -> \(after)")
        XCTAssertLessThan(y1, y0, "the pointer moved up: \(before) -> \(after)")

        // Network: DHCP on the NE2000, then a download from the host's loopback.
        let hash = try NetworkGuestTests.sha256(payload)
        // (DHCP may still be going on: wget is tried for up to a minute.)
        let fetch = "for i in $(seq 60); do wget -q -O /tmp/blob http://10.0.2.2:\(server.port)/blob && break; sleep 1; done; sha256sum /tmp/blob"
        let fetched = try runInXterm(fetch, window: window, pcemu: pcemu, timeout: 150)
        XCTAssertEqual(fetched?.split(separator: " ").first.map(String.init), hash, "the guest fetched the file whole")

        // Sound: aplay through ALSA's snd-sb16 into PulseAudio, the mixer at full volume.
        let play = "amixer -q sset Master 100% unmute && amixer -q sset PCM 100% unmute && aplay -q /root/tone.wav && echo played"
        XCTAssertEqual(try runInXterm(play, window: window, pcemu: pcemu), "played")

        // The screen while X is up: Ctrl+Alt+S writes a PNG beside pcemu.
        _ = try x11("xdotool", ["key", "--window", String(window), "ctrl+alt+s"])
        let screenshot = directory.appendingPathComponent("pcemu-screenshot-1.png").path
        let shotDeadline = Date(timeIntervalSinceNow: 30)
        while !FileManager.default.fileExists(atPath: screenshot), Date() < shotDeadline { usleep(100_000) }
        usleep(500_000)
        XCTAssertTrue(pcemu.standardError.contains("screenshot saved"), pcemu.standardError.suffix(500).description)

        try type("poweroff", into: window)
        XCTAssertEqual(pcemu.wait(timeout: 180), 0, "the guest powers the machine off")
        usleep(300_000)
        recorder.stop(signal: SIGINT)
        _ = recorder.wait(timeout: 10)

        let shot = try Screenshot(png: screenshot)
        XCTAssertEqual(shot.width, 1280)
        XCTAssertEqual(shot.height, 800)
        let background: UInt32 = 0x3A6EA5
        XCTAssertEqual(shot.pixel(x: 1000, y: 740), background, "the root window's colour, set by xsetroot")
        // The xterm: white with black text, where openbox placed it.
        let white = shot.pixels.filter { $0 & 0xFFFFFF == 0xFFFFFF }.count
        let black = shot.pixels.filter { $0 & 0xFFFFFF == 0 }.count
        XCTAssertGreaterThan(white, 80_000, "the xterm's window")
        XCTAssertGreaterThan(black, 500, "text in the xterm")

        let (samples, rate) = try AudioAnalysis.leftChannel(recording)
        let sound = AudioAnalysis.analyse(samples, rate: rate)
        let statistics = try ChildProcess.run("/usr/bin/sox", [recording, "-n", "stat"]).stderr
        XCTAssertEqual(sound.seconds, 3, accuracy: 0.2, "the 3 s tone came out of PulseAudio: \(statistics)")
        XCTAssertEqual(sound.frequency, 1000, accuracy: 2)
    }

    /// The issue's figure for the absolute pointer: with `-usb -device
    /// usb-tablet` (as scripts/run-desktop-guest.sh runs it), no click and
    /// no grab, the host pointer moved to 20 points across the window puts
    /// X's pointer within one guest pixel of the scaled position every
    /// time: ten points with the window at the guest's size, ten with it
    /// resized to 1200x800, where the picture is scaled with its aspect
    /// ratio kept, between bars.
    func testTheTabletPutsXsPointerUnderTheHostPointerWithoutAGrab() throws {
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "512", "-name", "desktop", "-hda", image, "-snapshot", "-serial", "stdio", "-nic", "none",
            "-usb", "-device", "usb-tablet",
        ], environment: ["DISPLAY": xvfb.display, "SDL_VIDEODRIVER": "x11"], inputPipe: true, workingDirectory: directory.path)
        defer { pcemu.stop() }
        XCTAssertTrue(pcemu.waitForOutput("pcemu-desktop: X ready", timeout: 900),
                      "\(pcemu.standardOutput.suffix(3000))\n\(pcemu.standardError.suffix(1000))")
        // X's screen size, as the guest reported it ("X ready 1280x800").
        let ready = pcemu.standardOutput.split(separator: "\n").first { $0.contains("pcemu-desktop: X ready") } ?? ""
        let size = (ready.split(separator: " ").last ?? "").split(separator: "x").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(size.count, 2, String(ready))
        let (width, height) = size.count == 2 ? (size[0], size[1]) : (1024, 768)
        let window = try pcemuWindow()
        _ = try x11("xdotool", ["windowmove", String(window), "0", "0"])
        usleep(500_000)
        XCTAssertEqual(try runInXterm("echo typed-$((6*7))", window: window, pcemu: pcemu, timeout: 30), "typed-42")
        XCTAssertEqual(try runInXterm("grep -c 'PCEmu USB Tablet' /proc/bus/input/devices", window: window, pcemu: pcemu), "1")

        func guestPointer() throws -> (Int, Int)? {
            guard let text = try runInXterm("xdotool getmouselocation", window: window, pcemu: pcemu) else { return nil }
            let fields = text.split(separator: " ").compactMap { field -> (String, Int)? in
                let parts = field.split(separator: ":")
                return parts.count == 2 ? (String(parts[0]), Int(parts[1]) ?? -1) : nil
            }
            guard let x = fields.first(where: { $0.0 == "x" })?.1, let y = fields.first(where: { $0.0 == "y" })?.1 else { return nil }
            return (x, y)
        }
        var results: [String] = []
        var misses = 0
        func check(windowX: Int, windowY: Int, expectedX: Double, expectedY: Double) throws {
            _ = try x11("xdotool", ["mousemove", "--window", String(window), String(windowX), String(windowY)])
            usleep(300_000)
            let found = try XCTUnwrap(try guestPointer(), "xdotool getmouselocation in the guest")
            let good = abs(Double(found.0) - expectedX) <= 1 && abs(Double(found.1) - expectedY) <= 1
            if !good { misses += 1 }
            results.append("(\(windowX),\(windowY)) -> \(found.0),\(found.1) for \(String(format: "%.1f,%.1f", expectedX, expectedY))\(good ? "" : " MISS")")
        }
        // At the guest's size: window pixel = guest pixel.
        for index in 0..<10 {
            let x = 15 + index * (width - 30) / 9, y = 10 + (index * 331) % (height - 20)
            try check(windowX: x, windowY: y, expectedX: Double(x), expectedY: Double(y))
        }
        _ = try x11("xdotool", ["windowsize", String(window), "1200", "800"])
        usleep(1_000_000)
        // The picture scaled by the smaller ratio both ways, centred between bars, as SDL lays it out.
        let scale = min(1200 / Double(width), 800 / Double(height))
        let shownWidth = Int(Double(width) * scale), shownHeight = Int(Double(height) * scale)
        let left = (1200 - shownWidth) / 2, top = (800 - shownHeight) / 2
        for index in 0..<10 {
            let x = left + 5 + index * (shownWidth - 10) / 9, y = top + 5 + (index * 277) % (shownHeight - 10)
            try check(windowX: x, windowY: y, expectedX: Double(x - left) / scale, expectedY: Double(y - top) / scale)
        }
        print("desktop tablet:\n" + results.joined(separator: "\n"))
        XCTAssertEqual(misses, 0, results.joined(separator: "\n"))
        XCTAssertEqual(try x11("xdotool", ["search", "--name", "release grab"]), "", "no grab at any time")
        try type("poweroff", into: window)
        XCTAssertEqual(pcemu.wait(timeout: 180), 0)
    }
}

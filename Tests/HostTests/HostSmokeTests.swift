import Foundation
import Host
import TestSupport
import XCTest

/// The real SDL2 and libpulse, opened against a private Xvfb and a private
/// PulseAudio server with a null sink.
final class HostSmokeTests: XCTestCase {
    func testWindowOpensAndShowsAFrame() throws {
        let xvfb = try XvfbServer()
        defer { xvfb.stop() }
        setenv("DISPLAY", xvfb.display, 1)
        setenv("SDL_VIDEODRIVER", "x11", 1)
        try showAFrame()
        SDLWindow.closeVideo()   // before this Xvfb goes away
    }

    private func showAFrame() throws {
        let window = try SDLWindow(title: "PCEmu smoke", width: 320, height: 200)
        XCTAssertEqual(window.title, "PCEmu smoke")
        // A 320x200 frame: left half red, right half blue.
        var frame = [UInt32](repeating: 0, count: 320 * 200)
        for y in 0..<200 { for x in 0..<320 { frame[y * 320 + x] = x < 160 ? 0x00FF_0000 : 0x0000_00FF } }
        try frame.withUnsafeBytes { try window.present(pixels: $0.baseAddress!, width: 320, height: 200, pitch: 320 * 4) }
        _ = window.pumpEvents()
        let shown = window.readPixels()
        XCTAssertEqual(shown.width, 320)
        XCTAssertEqual(shown.pixels[100 * 320 + 10] & 0xFF_FFFF, 0xFF_0000)
        XCTAssertEqual(shown.pixels[100 * 320 + 300] & 0xFF_FFFF, 0x00_00FF)

        // The X server really has a window with that name.
        let search = try ChildProcess.run("/usr/bin/xwininfo", ["-root", "-tree"], timeout: 10,
                                          environment: ["DISPLAY": ProcessInfo.processInfo.environment["DISPLAY"]!])
        XCTAssertTrue(search.stdout.contains("PCEmu smoke"), search.stdout)
    }

    func testAudioStreamPlaysIntoTheNullSink() throws {
        let pulse = try PulseAudioServer()
        defer { pulse.stop() }
        setenv("PULSE_SERVER", pulse.server, 1)
        let recording = try makeTemporaryDirectory("pcemu-rec").appendingPathComponent("monitor.raw")
        defer { try? FileManager.default.removeItem(at: recording.deletingLastPathComponent()) }
        let recorder = try ChildProcess("/usr/bin/parec", [
            "--raw", "--format=s16le", "--channels=2", "--rate=48000", "-d", "\(pulse.sinkName).monitor",
            "--file-format=wav", recording.path,
        ], environment: ["PULSE_SERVER": pulse.server])
        defer { recorder.stop() }
        usleep(300_000)

        let output = try PulseAudioOutput(name: "pcemu-smoke", sampleRate: 48_000, channels: 2)
        // Half a second of a 440 Hz tone at a quarter of full scale.
        let frames = 24_000
        var samples = [Int16](repeating: 0, count: frames * 2)
        for frame in 0..<frames {
            let value = Int16(8192 * sin(2 * Double.pi * 440 * Double(frame) / 48_000))
            samples[2 * frame] = value
            samples[2 * frame + 1] = value
        }
        let start = Date()
        XCTAssertEqual(samples.withUnsafeBufferPointer { output.enqueue($0) }, samples.count)
        output.close()
        let elapsed = Date().timeIntervalSince(start)
        // The null sink consumes in real time: playing took about as long as the sound.
        XCTAssertGreaterThan(elapsed, 0.4)
        XCTAssertLessThan(elapsed, 5)
        XCTAssertGreaterThanOrEqual(output.framesPlayed, frames)

        usleep(300_000)
        recorder.stop(signal: SIGINT)
        let captured = try Data(contentsOf: recording)
        let peak = captured.withUnsafeBytes { bytes in
            bytes.bindMemory(to: Int16.self).map { abs(Int($0)) }.max() ?? 0
        }
        XCTAssertGreaterThan(peak, 4000, "the tone reached the sink's monitor (\(captured.count) bytes recorded)")
    }
}

/// The window scales the guest's frame to its own size with the aspect ratio
/// kept, and how long showing a large frame takes.
final class WindowScalingTests: XCTestCase {
    var xvfb: XvfbServer!

    override func setUpWithError() throws {
        xvfb = try XvfbServer()
        setenv("DISPLAY", xvfb.display, 1)
        setenv("SDL_VIDEODRIVER", "x11", 1)
    }

    override func tearDown() {
        SDLWindow.closeVideo()   // the test's window is gone; then its X server
        xvfb.stop()
    }

    func testAWiderWindowLetterboxesTheFrame() throws {
        let window = try SDLWindow(title: "PCEmu scaling", width: 320, height: 200)
        let frame = [UInt32](repeating: 0x00FF_FFFF, count: 320 * 200)
        try frame.withUnsafeBytes { try window.present(pixels: $0.baseAddress!, width: 320, height: 200, pitch: 320 * 4) }
        window.resize(width: 800, height: 250)
        // The resize reaches SDL as an event; then the frame is drawn again at the new size.
        let deadline = Date(timeIntervalSinceNow: 10)
        var shown: (width: Int32, height: Int32, pixels: [UInt32])
        repeat {
            usleep(50_000)
            _ = window.pollEvents()
            window.redraw()
            shown = window.readPixels()
        } while shown.width != 800 && Date() < deadline
        XCTAssertEqual(shown.width, 800)
        XCTAssertEqual(shown.height, 250)
        // 320x200 in 800x250 keeps 8:5: 400x250 in the middle, black bars of 200 each side.
        func at(_ x: Int, _ y: Int) -> UInt32 { shown.pixels[y * Int(shown.width) + x] & 0xFF_FFFF }
        XCTAssertEqual(at(100, 125), 0, "left bar")
        XCTAssertEqual(at(700, 125), 0, "right bar")
        XCTAssertEqual(at(205, 125), 0xFF_FFFF)
        XCTAssertEqual(at(595, 5), 0xFF_FFFF)
        XCTAssertEqual(at(400, 245), 0xFF_FFFF)
        XCTAssertEqual((0..<800).filter { at($0, 125) != 0 }.count, 400, "the frame is 400 wide")
    }

    func testFullScreenTakesTheWholeScreen() throws {
        let window = try SDLWindow(title: "PCEmu full screen", width: 320, height: 200)
        let frame = [UInt32](repeating: 0x0000_FF00, count: 320 * 200)
        try frame.withUnsafeBytes { try window.present(pixels: $0.baseAddress!, width: 320, height: 200, pitch: 320 * 4) }
        window.isFullScreen = true
        XCTAssertTrue(window.isFullScreen)
        let deadline = Date(timeIntervalSinceNow: 10)
        var shown = window.readPixels()
        while shown.width != 1024, Date() < deadline {
            _ = window.pollEvents()
            usleep(50_000)
            shown = window.readPixels()
        }
        XCTAssertEqual(shown.width, 1024, "Xvfb's screen is 1024x768")
        XCTAssertEqual(shown.height, 768)
        window.isFullScreen = false
        XCTAssertFalse(window.isFullScreen)
    }

    /// Figure: uploading and showing a full 1024x768x32 frame.
    func testPresentingA1024x768FrameIsQuick() throws {
        let window = try SDLWindow(title: "PCEmu timing", width: 1024, height: 768)
        var frame = [UInt32](repeating: 0, count: 1024 * 768)
        try frame.withUnsafeBytes { try window.present(pixels: $0.baseAddress!, width: 1024, height: 768, pitch: 1024 * 4) }
        let count = 60
        let start = Date()
        for i in 0..<count {
            frame[i * 1000] = UInt32(i)   // a changed frame each time
            try frame.withUnsafeBytes { try window.present(pixels: $0.baseAddress!, width: 1024, height: 768, pitch: 1024 * 4) }
        }
        _ = window.readPixels()   // waits for the last one
        let milliseconds = Date().timeIntervalSince(start) * 1000 / Double(count)
        print("present 1024x768x32: \(String(format: "%.2f", milliseconds)) ms per frame")
        XCTAssertLessThan(milliseconds, 16, "a frame is shown within one 60 Hz refresh")
    }
}

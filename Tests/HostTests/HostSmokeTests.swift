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
                                          environment: ["DISPLAY": xvfb.display])
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

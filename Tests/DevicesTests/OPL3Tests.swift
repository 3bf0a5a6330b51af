import XCTest
@testable import Devices

final class OPL3Tests: XCTestCase {
    var harness: PortHarness!
    var opl: OPL3!

    override func setUp() {
        harness = PortHarness()
        opl = OPL3(clock: harness.clock)
        try! harness.bus.attach(opl, name: "opl3", base: 0x388, count: 4)
    }

    func write(_ register: Int, _ value: UInt8) {
        harness.out(register >= 0x100 ? 0x38A : 0x388, UInt8(register & 0xFF))
        harness.out(register >= 0x100 ? 0x38B : 0x389, value)
    }

    /// The AdLib detection every driver runs (Linux's snd_opl3_detect).
    func testTimerDetectionSequence() {
        write(0x04, 0x60)
        write(0x04, 0x80)
        let first = harness.inb(0x388)
        XCTAssertEqual(first & 0xE0, 0)
        XCTAssertEqual(first & 0x06, 0, "an OPL3, not an OPL2")
        write(0x02, 0xFF)
        write(0x04, 0x21)
        harness.advance(by: 79_000)
        XCTAssertEqual(harness.inb(0x388) & 0xE0, 0, "80 µs not over yet")
        harness.advance(by: 200_000)
        XCTAssertEqual(harness.inb(0x388) & 0xE0, 0xC0)
        write(0x04, 0x60)
        write(0x04, 0x80)
        XCTAssertEqual(harness.inb(0x388) & 0xE0, 0)
    }

    func testTimerTwoAndMasks() {
        write(0x03, 0xFE)  // two ticks of 320 µs
        write(0x04, 0x42)  // timer 1 masked, timer 2 started
        harness.advance(by: 600_000)
        XCTAssertEqual(harness.inb(0x388) & 0xE0, 0)
        harness.advance(by: 50_000)
        XCTAssertEqual(harness.inb(0x388) & 0xE0, 0xA0)
        write(0x04, 0x80)
        XCTAssertEqual(harness.inb(0x388) & 0xE0, 0, "flags reset")
        harness.advance(by: 700_000)
        XCTAssertEqual(harness.inb(0x388) & 0xE0, 0xA0, "the timer reloaded and overflowed again")
        write(0x04, 0x80)
        write(0x04, 0x22)  // timer 2 masked: no flag
        harness.advance(by: 10_000_000)
        XCTAssertEqual(harness.inb(0x388) & 0xE0, 0)
    }

    func render(seconds: Double, rate: Int = 48_000) -> [Float] {
        let frames = Int(seconds * Double(rate))
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: frames * 2)
        defer { buffer.deallocate() }
        buffer.update(repeating: 0, count: frames * 2)
        opl.render(into: buffer, frames: frames, rate: rate)
        return Array(UnsafeBufferPointer(start: buffer, count: frames * 2))
    }

    static func risingZeroCrossings(_ samples: [Float], channel: Int) -> Int {
        var count = 0
        var previous: Float = 0
        for index in stride(from: channel, to: samples.count, by: 2) {
            if previous < 0 && samples[index] >= 0 { count += 1 }
            previous = samples[index]
        }
        return count
    }

    /// An AdLib-style instrument: a silent modulator and a sine carrier at 440 Hz.
    func testChannelPlaysAToneAtItsFrequency() {
        write(0x20, 0x01); write(0x23, 0x01)  // MULT 1
        write(0x40, 0x3F); write(0x43, 0x00)  // modulator silent, carrier loudest
        write(0x60, 0xF0); write(0x63, 0xF0)  // instant attack, no decay
        write(0x80, 0x00); write(0x83, 0x00)
        write(0xC0, 0x00)
        // 440 Hz: F-number 580 in block 4 (580 * 49716 / 2^16).
        write(0xA0, UInt8(580 & 0xFF))
        write(0xB0, 0x20 | 4 << 2 | UInt8(580 >> 8))
        let samples = render(seconds: 1)
        let crossings = OPL3Tests.risingZeroCrossings(samples, channel: 0)
        XCTAssertEqual(Double(crossings), 580 * 49_716 / 65_536, accuracy: 2)
        let peak = samples.map(abs).max()!
        XCTAssertEqual(peak, 4096, accuracy: 50)
        // Key off with the fastest release: silence soon after.
        write(0x83, 0x0F)
        write(0xB0, 4 << 2 | UInt8(580 >> 8))
        _ = render(seconds: 0.1)
        XCTAssertEqual(render(seconds: 0.05).map(abs).max()!, 0)
    }

    func testFrequencyModulationAddsHarmonics() {
        write(0x20, 0x01); write(0x23, 0x01)
        write(0x40, 0x10); write(0x43, 0x00)  // the modulator audible: FM
        write(0x60, 0xF0); write(0x63, 0xF0)
        write(0xC0, 0x00)
        write(0xA0, UInt8(580 & 0xFF))
        write(0xB0, 0x20 | 4 << 2 | UInt8(580 >> 8))
        let samples = render(seconds: 1)
        // More crossings than a pure 440 Hz sine would make.
        XCTAssertGreaterThan(OPL3Tests.risingZeroCrossings(samples, channel: 0), 500)
    }

    /// Without the sustain bit the envelope goes on into its release after
    /// the decay (a percussive note); with it, it holds until key off.
    func testSustainBitHoldsTheNote() {
        write(0x40, 0x3F); write(0x43, 0x00)
        write(0x60, 0xF0); write(0x63, 0xF0)
        write(0x80, 0x00); write(0x83, 0x0F)
        write(0xA0, UInt8(580 & 0xFF))
        write(0x23, 0x01)  // percussive
        write(0xB0, 0x20 | 4 << 2 | UInt8(580 >> 8))
        _ = render(seconds: 0.05)
        XCTAssertEqual(render(seconds: 0.05).map(abs).max()!, 0, "released at once")
        write(0xB0, 4 << 2 | UInt8(580 >> 8))
        write(0x23, 0x21)  // sustained
        write(0xB0, 0x20 | 4 << 2 | UInt8(580 >> 8))
        _ = render(seconds: 0.05)
        XCTAssertEqual(render(seconds: 0.05).map(abs).max()!, 4096, accuracy: 50)
    }
}

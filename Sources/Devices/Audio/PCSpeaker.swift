/// The PC speaker: PIT counter 2's output, heard while port 0x61 has both
/// the counter's gate and the speaker data bit set. Counter 2 in mode 3
/// (what BIOS beeps, Linux's pcspkr and games program) is a square wave at
/// 1.193182 MHz / count; it is rendered band-limited by averaging the wave
/// over each host sample. Other modes hold a level, which is silence.
public final class PCSpeaker: AudioSource {
    /// A quarter of full scale, like a speaker beside the sound card.
    static let amplitude: Float = 8192
    private let pit: PIT8254
    private let portB: SystemControlPortB
    /// Where in its cycle the wave is (0..<1), kept across calls.
    private var phase = 0.0

    public init(pit: PIT8254, portB: SystemControlPortB) {
        self.pit = pit
        self.portB = portB
    }

    /// The tone's frequency now, nil when the speaker is silent.
    public var frequency: Double? {
        guard portB.speakerEnabled else { return nil }
        let (mode, count) = pit.programming(ofCounter: 2)
        guard mode == 3, count >= 2 else { return nil }
        return Double(PIT8254.frequency) / Double(count)
    }

    /// Heard while port 0x61 lets counter 2 through (whatever the counter
    /// then does): the machine wakes the mixer when it starts to.
    public var isActive: Bool { portB.speakerEnabled }

    public func render(into buffer: UnsafeMutablePointer<Float>, frames: Int, rate: Int) {
        guard let frequency, frequency < Double(rate) / 2 else {
            phase = 0
            return
        }
        let step = frequency / Double(rate)
        // Time spent high (in cycles) from phase 0 to x: the first half of each cycle is high.
        func highTime(_ x: Double) -> Double {
            let whole = x.rounded(.down)
            return whole * 0.5 + min(x - whole, 0.5)
        }
        for frame in 0..<frames {
            let high = (highTime(phase + step) - highTime(phase)) / step
            let sample = Float(2 * high - 1) * PCSpeaker.amplitude
            buffer[2 * frame] += sample
            buffer[2 * frame + 1] += sample
            phase += step
            if phase >= 1 { phase -= phase.rounded(.down) }
        }
    }
}

/// Where a sound card's recording comes from: interleaved stereo signed
/// 16-bit frames at `sampleRate`, taken without blocking on the CPU thread
/// (the host's PulseAudio source, or a test's own samples). `start` and
/// `stop` follow the guest's recording streams, so nothing is captured
/// while no guest stream records.
public protocol AudioCapture: AnyObject {
    var sampleRate: Int { get }
    func start()
    func stop()
    /// Takes up to `samples.count` samples; returns how many there were.
    func read(into samples: UnsafeMutableBufferPointer<Int16>) -> Int
}

/// Turns captured frames into a guest stream's format and rate: the nearest
/// captured frame for each guest frame, silence when the capture has
/// nothing (it runs late or records nothing).
final class CaptureConverter {
    private let pending: UnsafeMutableBufferPointer<Int16>
    private var pendingFrames = 0
    /// Position of the next guest frame among the pending captured frames.
    private var phase = 0.0
    static let capacityFrames = 4096

    init() {
        pending = .allocate(capacity: 2 * CaptureConverter.capacityFrames)
        pending.initialize(repeating: 0)
    }

    deinit { pending.deallocate() }

    func reset() {
        pendingFrames = 0
        phase = 0
    }

    /// Fills `bytes` with frames of `channels` channels of `sampleBytes`
    /// each at `rate`, from `capture`, scaled by the gains.
    func fill(_ bytes: UnsafeMutableRawBufferPointer, from capture: AudioCapture, rate: Int, channels: Int,
              sampleBytes: Int, left: Float, right: Float) {
        let frameBytes = channels * sampleBytes
        let step = Double(capture.sampleRate) / Double(max(rate, 1))
        var offset = 0
        while offset + frameBytes <= bytes.count {
            var index = Int(phase)
            if index >= pendingFrames {
                refill(from: capture, consumed: min(index, pendingFrames))
                index = Int(phase)
            }
            var l: Float = 0, r: Float = 0
            if index < pendingFrames {
                l = Float(pending[2 * index]) * left
                r = Float(pending[2 * index + 1]) * right
            } else {
                phase = 0  // ran dry: silence, and start afresh with what comes next
            }
            for channel in 0..<channels {
                let value = channel == 0 ? l : channel == 1 ? r : 0
                let at = offset + channel * sampleBytes
                let clamped = Int32(max(-32768, min(32767, value.rounded())))
                switch sampleBytes {
                case 1: bytes[at] = UInt8(truncatingIfNeeded: clamped >> 8)
                case 2: bytes.storeBytes(of: Int16(clamped).littleEndian, toByteOffset: at, as: Int16.self)
                default: bytes.storeBytes(of: (clamped << 16).littleEndian, toByteOffset: at, as: Int32.self)
                }
            }
            if index < pendingFrames { phase += step }
            offset += frameBytes
        }
    }

    /// Drops the frames used and reads more behind those left.
    private func refill(from capture: AudioCapture, consumed: Int) {
        let keep = pendingFrames - consumed
        if keep > 0 && consumed > 0 {
            for index in 0..<2 * keep { pending[index] = pending[2 * consumed + index] }
        }
        pendingFrames = keep
        phase -= Double(consumed)
        let room = UnsafeMutableBufferPointer(rebasing: pending[2 * pendingFrames..<2 * CaptureConverter.capacityFrames])
        let got = capture.read(into: room)
        pendingFrames += got / 2
    }
}

/// The frames a PCI sound card's DMA engine brought in at the guest's rate,
/// played out at the host's by linear interpolation when the mixer renders.
/// A fixed ring of stereo float frames: appending and rendering allocate
/// nothing. When nothing drains it (no back end) the oldest frames go.
///
/// Like the SB16's FIFO, a stream that starts (or restarts after running dry)
/// is placed in the mixer's buffer at the time its frames were made rather
/// than at the buffer's start, a few frames behind, so that interpolation
/// (which reads one frame ahead) never waits for a frame not yet fetched.
public final class ResamplingFIFO {
    /// One second at the highest rate a card plays (HDA's 192 kHz).
    static let capacityFrames = 192_000
    /// Host frames a stream is played behind its DMA.
    static let cushion = 4

    private let storage: UnsafeMutablePointer<Float>
    private var head = 0
    public private(set) var count = 0
    /// Where between frame `head` and the next the output stands (0..<1 beyond it).
    private var position = 0.0
    /// The guest's rate of the frames queued.
    public private(set) var rate = 48_000
    private var endTime: Int64 = 0
    private var starved = true
    /// Frames appended since creation, for tests and the log.
    public private(set) var framesReceived: Int64 = 0
    /// Renders that ran dry in the middle of a stream (a glitch).
    public private(set) var starvedRenders = 0

    public init() {
        storage = .allocate(capacity: 2 * ResamplingFIFO.capacityFrames)
        storage.initialize(repeating: 0, count: 2 * ResamplingFIFO.capacityFrames)
    }

    deinit { storage.deallocate() }

    /// Empties the FIFO; later frames are at `rate` frames per second.
    public func restart(rate: Int) {
        self.rate = max(rate, 1)
        head = 0
        count = 0
        position = 0
        starved = true
    }

    /// Appends one frame made at guest time `now`.
    @inline(__always)
    public func append(left: Float, right: Float, now: Int64) {
        if count == ResamplingFIFO.capacityFrames { dropOldest(count - rate / 2) }
        let index = (head + count) % ResamplingFIFO.capacityFrames
        storage[2 * index] = left
        storage[2 * index + 1] = right
        count += 1
        framesReceived &+= 1
        endTime = now
    }

    /// Appends little-endian signed 16-bit frames of `channels` interleaved
    /// channels: the first two are played as left and right (a mono stream
    /// on both).
    public func appendS16(_ bytes: UnsafeRawBufferPointer, channels: Int, now: Int64) {
        let frameBytes = 2 * max(channels, 1)
        var offset = 0
        while offset + frameBytes <= bytes.count {
            let left = Float(Int16(bitPattern: UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8))
            var right = left
            if channels > 1 {
                right = Float(Int16(bitPattern: UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8))
            }
            append(left: left, right: right, now: now)
            offset += frameBytes
        }
    }

    private func dropOldest(_ frames: Int) {
        let dropped = min(max(frames, 0), count)
        head = (head + dropped) % ResamplingFIFO.capacityFrames
        count -= dropped
        position = 0
    }

    @inline(__always)
    private func sample(_ frame: Int, _ channel: Int) -> Float {
        storage[2 * ((head + frame) % ResamplingFIFO.capacityFrames) + channel]
    }

    /// Adds `frames` host frames at `hostRate`, scaled by the gains, to
    /// `buffer`; `playing` says whether the guest's stream runs (running
    /// dry then counts as a glitch).
    public func render(into buffer: UnsafeMutablePointer<Float>, frames: Int, hostRate: Int, now: Int64,
                       left: Float, right: Float, playing: Bool) {
        let step = Double(rate) / Double(max(hostRate, 1))
        var frame = 0
        if starved {
            let covered = Int(Double(max(count - 1, 0)) / step)
            let lag = Int(TickConversion.ticks(inNanoseconds: max(now - endTime, 0), hz: Int64(hostRate)))
            frame = max(0, frames - covered - lag + ResamplingFIFO.cushion)
        }
        var position = self.position
        while frame < frames {
            let index = Int(position)
            guard index + 1 < count else { break }
            let fraction = Float(position - Double(index))
            let l0 = sample(index, 0), r0 = sample(index, 1)
            let l = l0 + (sample(index + 1, 0) - l0) * fraction
            let r = r0 + (sample(index + 1, 1) - r0) * fraction
            buffer[2 * frame] += l * left
            buffer[2 * frame + 1] += r * right
            position += step
            frame += 1
        }
        if frame < frames && !starved && playing { starvedRenders += 1 }
        starved = frame < frames
        let consumed = min(Int(position), count)
        head = (head + consumed) % ResamplingFIFO.capacityFrames
        count -= consumed
        self.position = count == 0 ? 0 : position - Double(consumed)
    }
}

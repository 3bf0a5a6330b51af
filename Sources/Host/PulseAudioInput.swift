import CPulse
import Foundation
import PCEmuSupport

/// Records signed 16-bit interleaved samples from PulseAudio's default
/// source, only while a guest records: `start()` asks a thread of its own to
/// connect and read 10 ms chunks into a ring, `stop()` disconnects it. The
/// ring keeps at most `maximumQueuedMilliseconds`, the newest, so what the
/// guest records stays close to now. The CPU thread takes samples with
/// `read`, which never blocks.
public final class PulseAudioInput {
    public let sampleRate: Int
    public let channels: Int
    let chunkFrames: Int
    private let ring: SampleRing
    private let maximumQueuedSamples: Int
    private let state = NSCondition()
    private var wanted = false
    private var running = true
    private var thread: Thread?
    private let name: String
    private let server: String?
    public private(set) var framesRecorded = 0

    public init(name: String, server: String? = nil, sampleRate: Int = 48_000, channels: Int = 2, maximumQueuedMilliseconds: Int = 40) {
        self.name = name
        self.server = server
        self.sampleRate = sampleRate
        self.channels = channels
        chunkFrames = sampleRate / 100
        ring = SampleRing(capacity: sampleRate * channels / 2)
        maximumQueuedSamples = sampleRate * channels * maximumQueuedMilliseconds / 1000
        let thread = Thread { [unowned self] in self.record() }
        thread.name = "pcemu-record"
        self.thread = thread
        thread.start()
    }

    deinit { close() }

    /// A guest stream started recording: connect (on the recording thread).
    public func start() {
        state.lock()
        wanted = true
        state.broadcast()
        state.unlock()
    }

    /// No guest stream records any more: disconnect, and forget what was queued.
    public func stop() {
        state.lock()
        wanted = false
        state.unlock()
    }

    public func close() {
        state.lock()
        running = false
        wanted = false
        state.broadcast()
        state.unlock()
    }

    /// Takes up to `samples.count` samples recorded; returns how many.
    public func read(into samples: UnsafeMutableBufferPointer<Int16>) -> Int {
        ring.read(into: samples)
    }

    private func record() {
        let samplesPerChunk = chunkFrames * channels
        let chunk = UnsafeMutableBufferPointer<Int16>.allocate(capacity: samplesPerChunk)
        defer { chunk.deallocate() }
        while true {
            state.lock()
            while running && !wanted { state.wait() }
            let keepGoing = running
            state.unlock()
            guard keepGoing else { return }

            var spec = pa_sample_spec(format: PA_SAMPLE_S16LE, rate: UInt32(sampleRate), channels: UInt8(channels))
            var attributes = pa_buffer_attr(maxlength: UInt32.max, tlength: UInt32.max, prebuf: UInt32.max,
                                            minreq: UInt32.max, fragsize: UInt32(samplesPerChunk * 2))
            var error: Int32 = 0
            guard let stream = pa_simple_new(server, name, PA_STREAM_RECORD, nil, "capture", &spec, nil, &attributes, &error) else {
                Log.write(.device, "audio: cannot record from PulseAudio: \(String(cString: pa_strerror(error)))")
                // Nothing to record from: the guest records silence until it starts again.
                state.lock()
                wanted = false
                state.unlock()
                continue
            }
            Log.write(.device, "audio: recording from PulseAudio's default source")
            while true {
                state.lock()
                let still = running && wanted
                state.unlock()
                guard still else { break }
                guard pa_simple_read(stream, chunk.baseAddress, samplesPerChunk * 2, &error) >= 0 else {
                    Log.write(.device, "audio: PulseAudio read failed: \(String(cString: pa_strerror(error)))")
                    break
                }
                _ = ring.write(UnsafeBufferPointer(chunk))
                ring.discardOldest(keeping: maximumQueuedSamples - maximumQueuedSamples % channels)
                framesRecorded += chunkFrames
            }
            pa_simple_free(stream)
            ring.discardOldest(keeping: 0)
        }
    }
}

import CPulse
import Foundation
import PCEmuSupport

/// Plays signed 16-bit interleaved samples through PulseAudio. Sound devices
/// fill a ring buffer on the CPU thread; a thread of its own feeds the server
/// in 10 ms chunks, waiting for a whole chunk while the server still has
/// enough to play, and writing silence (counting an underrun) only when it
/// would otherwise run dry. The ring never holds more than
/// `maximumQueuedMilliseconds`: after a stall the oldest samples go, so the
/// latency stays bounded. Each write samples the latency a sample queued now
/// will see (the ring plus the server's own buffer).
public final class PulseAudioOutput {
    public let sampleRate: Int
    public let channels: Int
    /// Frames the server is handed per write: 10 ms.
    let chunkFrames: Int

    private let stream: OpaquePointer
    private let ring: SampleRing
    private var thread: Thread?
    private let stopped = NSCondition()
    private var running = true
    private var finished = false
    public private(set) var underruns = 0
    public private(set) var framesPlayed = 0
    /// Latency samples (microseconds), taken after each write by the feeding thread.
    public private(set) var latencyMaximum: UInt64 = 0
    private var latencySum: UInt64 = 0
    public private(set) var latencyCount = 0
    private var started = false
    /// Set while the mixer has stopped: the feeding thread sleeps rather than polling.
    private var idle = false
    /// Chunks of silence that refill the server's buffer when playing resumes.
    private let primeChunks: Int
    let maximumQueuedSamples: Int

    /// Connects to `server` (PulseAudio's address syntax: unix:PATH,
    /// tcp:HOST:PORT...), else to the one PULSE_SERVER names or the default.
    public init(name: String, server: String? = nil, sampleRate: Int = 48_000, channels: Int = 2, latencyMilliseconds: Int = 40,
                maximumQueuedMilliseconds: Int = 1000) throws {
        self.sampleRate = sampleRate
        self.channels = channels
        chunkFrames = sampleRate / 100
        primeChunks = max(1, latencyMilliseconds / 10)
        ring = SampleRing(capacity: sampleRate * channels)  // one second
        maximumQueuedSamples = min(sampleRate * channels, sampleRate * channels * maximumQueuedMilliseconds / 1000)
        var spec = pa_sample_spec(format: PA_SAMPLE_S16LE, rate: UInt32(sampleRate), channels: UInt8(channels))
        let latencyBytes = UInt32(sampleRate * channels * 2 * latencyMilliseconds / 1000)
        var attributes = pa_buffer_attr(maxlength: UInt32.max, tlength: latencyBytes, prebuf: UInt32.max,
                                        minreq: UInt32.max, fragsize: UInt32.max)
        var error: Int32 = 0
        guard let stream = pa_simple_new(server, name, PA_STREAM_PLAYBACK, nil, "playback", &spec, nil, &attributes, &error) else {
            throw EmulatorError.configuration("cannot connect to PulseAudio: \(String(cString: pa_strerror(error)))")
        }
        self.stream = stream
        let thread = Thread { [unowned self] in self.feed() }
        thread.name = "pcemu-audio"
        self.thread = thread
        thread.start()
    }

    deinit {
        close()
        pa_simple_free(stream)
    }

    /// Called by sound devices: queues samples; returns how many fitted.
    @discardableResult
    public func enqueue(_ samples: UnsafeBufferPointer<Int16>) -> Int {
        let written = ring.write(samples)
        ring.discardOldest(keeping: maximumQueuedSamples - maximumQueuedSamples % channels)
        return written
    }

    /// The mean and largest latency measured, in milliseconds (0 before any).
    public var latencyMilliseconds: (mean: Double, maximum: Double) {
        latencyCount == 0 ? (0, 0) : (Double(latencySum) / Double(latencyCount) / 1000, Double(latencyMaximum) / 1000)
    }

    /// Samples queued and not yet handed to the server.
    public var queuedSamples: Int { ring.count }

    /// Plays what is queued, then stops the feeding thread.
    public func close() {
        stopped.lock()
        running = false
        stopped.broadcast()
        while !finished, thread != nil { stopped.wait() }
        stopped.unlock()
    }

    /// The producer has stopped (true) or starts again (false). While idle
    /// the feeding thread waits without waking once the ring is played, and
    /// the server's stream runs dry without counting an underrun; playing
    /// resumes as a new start, once a whole chunk is queued.
    public func setIdle(_ value: Bool) {
        stopped.lock()
        idle = value
        stopped.broadcast()
        stopped.unlock()
    }

    private func feed() {
        let samplesPerChunk = chunkFrames * channels
        let chunk = UnsafeMutableBufferPointer<Int16>.allocate(capacity: samplesPerChunk)
        defer { chunk.deallocate() }
        var error: Int32 = 0
        let chunkMicroseconds = UInt64(chunkFrames) * 1_000_000 / UInt64(sampleRate)
        while true {
            stopped.lock()
            var slept = false
            while idle && running && ring.count < samplesPerChunk {
                stopped.wait()
                slept = true
            }
            let keepGoing = running
            stopped.unlock()
            if slept {
                // The server's buffer ran dry while idle: refill it with
                // silence, as it stood while mixing, so the sound that woke
                // the mixer has the same cushion.
                for index in 0..<samplesPerChunk { chunk[index] = 0 }
                for _ in 0..<primeChunks where pa_simple_write(stream, chunk.baseAddress, samplesPerChunk * 2, &error) >= 0 {
                    framesPlayed += chunkFrames
                }
                started = true
            }
            if keepGoing && ring.count < samplesPerChunk {
                // Wait for a whole chunk while the server has more than a chunk and a half to play.
                let buffered = pa_simple_get_latency(stream, &error)
                if !started || buffered > chunkMicroseconds * 3 / 2 {
                    usleep(1000)
                    continue
                }
            }
            let got = ring.read(into: chunk)
            if got == 0 && !keepGoing { break }
            if got < samplesPerChunk {
                if keepGoing && started {
                    underruns += 1
                    Log.write(.device, "audio: PulseAudio underrun (\(got / channels) of \(chunkFrames) frames) after \(framesPlayed / sampleRate) s")
                }
                for index in got..<samplesPerChunk { chunk[index] = 0 }
            }
            // Blocks until the server wants more: this is what paces the thread.
            if pa_simple_write(stream, chunk.baseAddress, samplesPerChunk * 2, &error) < 0 {
                Log.emit("pcemu: PulseAudio write failed: \(String(cString: pa_strerror(error)))")
                break
            }
            framesPlayed += chunkFrames
            started = true
            let latency = pa_simple_get_latency(stream, &error)
                + UInt64(ring.count / channels) * 1_000_000 / UInt64(sampleRate)
            latencySum += latency
            latencyCount += 1
            latencyMaximum = max(latencyMaximum, latency)
        }
        pa_simple_drain(stream, &error)
        stopped.lock()
        finished = true
        stopped.broadcast()
        stopped.unlock()
    }
}

/// A bounded FIFO of samples shared by one producer and one consumer thread.
final class SampleRing {
    private let storage: UnsafeMutableBufferPointer<Int16>
    private var head = 0
    private(set) var count = 0
    private let lock = NSLock()

    init(capacity: Int) {
        storage = .allocate(capacity: capacity)
        storage.initialize(repeating: 0)
    }

    deinit { storage.deallocate() }

    func write(_ samples: UnsafeBufferPointer<Int16>) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let accepted = min(samples.count, storage.count - count)
        for index in 0..<accepted {
            storage[(head + count + index) % storage.count] = samples[index]
        }
        count += accepted
        return accepted
    }

    /// Drops the oldest samples beyond `limit`.
    func discardOldest(keeping limit: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard count > limit else { return }
        head = (head + count - limit) % storage.count
        count = limit
    }

    func read(into buffer: UnsafeMutableBufferPointer<Int16>) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let taken = min(buffer.count, count)
        for index in 0..<taken { buffer[index] = storage[(head + index) % storage.count] }
        head = (head + taken) % storage.count
        count -= taken
        return taken
    }
}

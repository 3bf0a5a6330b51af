import PCEmuSupport
import Timing

/// Something that makes sound: it adds its output for the next `frames`
/// host frames to an interleaved stereo buffer (full scale is ±32768).
/// Sources are pulled by the mixer on the CPU thread, never elsewhere.
public protocol AudioSource: AnyObject {
    func render(into buffer: UnsafeMutablePointer<Float>, frames: Int, rate: Int)
    /// Whether it may make sound now. A source that can say no (a PCI card
    /// with no stream running) lets the mixer stop ticking, and must call
    /// the mixer's `wake()` when a stream starts.
    var isActive: Bool { get }
}

extension AudioSource {
    public var isActive: Bool { true }
}

/// Mixes every sound device into host frames (stereo, signed 16-bit) at the
/// back end's rate, paced by the virtual clock: every `period` of guest time
/// it asks each source for the frames that time is worth and hands them to
/// the back end. Sources produce at their own rate and resample themselves.
public final class AudioMixer {
    /// How often the mixer runs (guest time): small enough for low latency,
    /// large enough that the per-call cost does not matter.
    public static let period: Int64 = 5_000_000
    /// After a stall (a paused clock, a slow host) at most this much is made up.
    static let maximumCatchUp: Int64 = 100_000_000

    public let sampleRate: Int
    private let clock: VirtualClock
    private let scheduler: EventScheduler
    private let output: (UnsafeBufferPointer<Int16>) -> Void
    private var sources: [AudioSource] = []
    var timer: TimerEvent!
    /// Guest time of frame 0 and the frames made since.
    private var origin: Int64 = 0
    private var framesMade: Int64 = 0
    private var mix: UnsafeMutablePointer<Float>
    private var samples: UnsafeMutablePointer<Int16>
    private var capacity: Int
    /// Whether the mixer may stop while every source is inactive (not for a
    /// WAV file, whose timeline the silence belongs to), and what it tells
    /// the back end when it stops and starts again.
    public var mayIdle = false
    public var idleChanged: (Bool) -> Void = { _ in }
    public private(set) var isIdle = false
    private var quietTicks = 0
    /// Quiet periods before the mixer stops: 200 ms, so short gaps between sounds keep it going.
    static let quietTicksBeforeIdle = 40

    /// `output` receives interleaved stereo frames (it must copy them).
    public init(sampleRate: Int, clock: VirtualClock, scheduler: EventScheduler,
                output: @escaping (UnsafeBufferPointer<Int16>) -> Void) {
        self.sampleRate = sampleRate
        self.clock = clock
        self.scheduler = scheduler
        self.output = output
        capacity = Int(TickConversion.ticks(inNanoseconds: AudioMixer.maximumCatchUp + AudioMixer.period, hz: Int64(sampleRate))) + 1
        mix = .allocate(capacity: capacity * 2)
        samples = .allocate(capacity: capacity * 2)
        timer = TimerEvent(name: "audio-mixer") { [unowned self] in self.tick() }
    }

    deinit {
        mix.deallocate()
        samples.deallocate()
    }

    public func add(_ source: AudioSource) {
        sources.append(source)
    }

    /// Starts (or restarts) mixing from now.
    public func start() {
        origin = clock.now
        framesMade = 0
        isIdle = false
        quietTicks = 0
        scheduler.schedule(timer, at: origin + AudioMixer.period)
    }

    /// A source has sound to make: mixing starts again from now if it had stopped.
    public func wake() {
        guard isIdle else { return }
        start()
        idleChanged(false)
    }

    public func stop() {
        scheduler.cancel(timer)
    }

    /// Makes the frames due by now and hands them to the back end.
    func tick() {
        let now = clock.now
        var due = TickConversion.ticks(inNanoseconds: now - origin, hz: Int64(sampleRate)) - framesMade
        if due > Int64(capacity) {
            // The clock ran on without us (a stall): skip what cannot be made in time.
            framesMade += due - Int64(capacity)
            due = Int64(capacity)
        }
        if due > 0 {
            let frames = Int(due)
            mix.update(repeating: 0, count: frames * 2)
            for source in sources { source.render(into: mix, frames: frames, rate: sampleRate) }
            for index in 0..<frames * 2 {
                samples[index] = Int16(max(-32768, min(32767, mix[index].rounded())))
            }
            output(UnsafeBufferPointer(start: samples, count: frames * 2))
            framesMade += due
        }
        if mayIdle {
            quietTicks = sources.contains { $0.isActive } ? 0 : quietTicks + 1
            if quietTicks >= AudioMixer.quietTicksBeforeIdle {
                // Nothing plays: no timer until a source wakes the mixer.
                isIdle = true
                idleChanged(true)
                return
            }
        }
        scheduler.schedule(timer, at: now + AudioMixer.period)
    }
}

import PCEmuSupport
import Timing

/// One bus-master box of the ICH AC'97 controller (PCM in, PCM out or mic
/// in): a list of 32 buffer descriptors in guest RAM (address, length in
/// 16-bit samples, IOC and BUP flags), the current, prefetched and last
/// valid indexes, the samples left in the current buffer, and the status
/// bits with their interrupt enables.
///
/// Transfers are paced by the virtual clock at the codec's rate: the
/// samples due since the box started are moved whenever a register is read,
/// the mixer renders, or a buffer ends (the one timer, armed for the end of
/// the current buffer while the box runs). Output goes to the FIFO the mixer
/// plays; input records silence. A halted or stopped box arms nothing.
public final class AC97Channel {
    public enum Kind { case pcmIn, pcmOut, micIn }

    /// Offsets inside the box's 16 bytes.
    public enum Offset {
        public static let bufferListBase: UInt16 = 0x0
        public static let currentIndex: UInt16 = 0x4
        public static let lastValidIndex: UInt16 = 0x5
        public static let status: UInt16 = 0x6
        public static let positionInBuffer: UInt16 = 0x8
        public static let prefetchedIndex: UInt16 = 0xA
        public static let control: UInt16 = 0xB
    }

    public enum Status {
        public static let halted: UInt16 = 0x01
        public static let currentIsLastValid: UInt16 = 0x02
        public static let lastValidBufferCompleted: UInt16 = 0x04
        public static let bufferCompleted: UInt16 = 0x08
        public static let fifoError: UInt16 = 0x10
        /// The bits software clears by writing ones.
        static let writeOneToClear: UInt16 = 0x1C
    }

    public enum Control {
        public static let run: UInt8 = 0x01
        public static let resetRegisters: UInt8 = 0x02
        public static let lastValidInterruptEnable: UInt8 = 0x04
        public static let fifoErrorInterruptEnable: UInt8 = 0x08
        public static let completionInterruptEnable: UInt8 = 0x10
        static let writable: UInt8 = 0x1D
    }

    /// Descriptor control bits (the high word of its second dword).
    enum Descriptor {
        static let bytes: UInt32 = 8
        static let interruptOnCompletion: UInt16 = 0x8000
        static let bufferUnderrunPolicy: UInt16 = 0x4000
    }

    static let indexMask: UInt8 = 0x1F
    /// Descriptors a box may step over without moving a sample before it
    /// waits for time to pass: a list of empty buffers must not spin.
    static let emptyBuffersPerAdvance = 32
    static let emptyBufferWait: Int64 = 1_000_000
    /// Samples moved per DMA copy.
    static let chunkSamples = 2048

    public let kind: Kind
    let name: String
    private let dma: GuestMemoryDMA
    let clock: VirtualClock
    let scheduler: EventScheduler
    /// Where output samples go (nil for the input boxes).
    let fifo: ResamplingFIFO?
    /// The converter's rate, from the codec.
    let rate: () -> Int
    /// Called when the box's interrupt output may have changed.
    private let interruptChanged: () -> Void
    /// Called when the box starts moving samples.
    private let started: () -> Void
    /// Channels per frame: two for PCM, one for the mic.
    private let channels: Int

    public internal(set) var bufferListBase: UInt32 = 0
    public internal(set) var currentIndex: UInt8 = 0
    public internal(set) var lastValidIndex: UInt8 = 0
    public internal(set) var status: UInt16 = Status.halted
    var samplesLeft: UInt16 = 0
    public internal(set) var prefetchedIndex: UInt8 = 0
    public internal(set) var control: UInt8 = 0
    /// The current descriptor: where its next sample is and its flags.
    var bufferAddress: UInt32 = 0
    var bufferFlags: UInt16 = 0
    /// Whether a descriptor was fetched since the box was reset.
    var loaded = false
    /// Pacing: guest time the count runs from and samples moved since.
    var origin: Int64 = 0
    var samplesSinceOrigin: Int64 = 0
    var samplesPerSecond: Int64 = 96_000
    var timer: TimerEvent!
    /// The last advance stopped after a run of empty buffers.
    var emptyRun = false
    private let scratch: UnsafeMutableRawBufferPointer

    init(kind: Kind, name: String, dma: GuestMemoryDMA, clock: VirtualClock, scheduler: EventScheduler,
         rate: @escaping () -> Int, interruptChanged: @escaping () -> Void, started: @escaping () -> Void) {
        self.kind = kind
        self.name = name
        self.dma = dma
        self.clock = clock
        self.scheduler = scheduler
        self.rate = rate
        self.interruptChanged = interruptChanged
        self.started = started
        channels = kind == .micIn ? 1 : 2
        fifo = kind == .pcmOut ? ResamplingFIFO() : nil
        scratch = .allocate(byteCount: AC97Channel.chunkSamples * 2, alignment: 8)
        timer = TimerEvent(name: name) { [unowned self] in self.advance(to: self.clock.now) }
    }

    deinit { scratch.deallocate() }

    /// Whether the bus master moves samples now.
    public var isRunning: Bool { control & Control.run != 0 && status & Status.halted == 0 }

    /// The box's interrupt: a status bit whose enable is set.
    public var interruptPending: Bool {
        status & Status.bufferCompleted != 0 && control & Control.completionInterruptEnable != 0
            || status & Status.lastValidBufferCompleted != 0 && control & Control.lastValidInterruptEnable != 0
            || status & Status.fifoError != 0 && control & Control.fifoErrorInterruptEnable != 0
    }

    /// The register reset (CR bit 1, and the controller's cold reset).
    func resetRegisters() {
        scheduler.cancel(timer)
        bufferListBase = 0
        currentIndex = 0
        lastValidIndex = 0
        prefetchedIndex = 0
        samplesLeft = 0
        status = Status.halted
        control &= Control.lastValidInterruptEnable | Control.fifoErrorInterruptEnable | Control.completionInterruptEnable
        loaded = false
        fifo?.restart(rate: rate())
        interruptChanged()
    }

    func powerOn() {
        control = 0
        resetRegisters()
    }

    // MARK: Registers

    func readByte(_ offset: UInt16) -> UInt8 {
        if isRunning { advance(to: clock.now) }
        switch offset {
        case 0...3: return UInt8(truncatingIfNeeded: bufferListBase >> (8 * UInt32(offset)))
        case Offset.currentIndex: return currentIndex
        case Offset.lastValidIndex: return lastValidIndex
        case Offset.status: return UInt8(truncatingIfNeeded: status)
        case Offset.status + 1: return UInt8(truncatingIfNeeded: status >> 8)
        case Offset.positionInBuffer: return UInt8(truncatingIfNeeded: samplesLeft)
        case Offset.positionInBuffer + 1: return UInt8(truncatingIfNeeded: samplesLeft >> 8)
        case Offset.prefetchedIndex: return prefetchedIndex
        case Offset.control: return control
        default: return 0
        }
    }

    func writeByte(_ offset: UInt16, _ value: UInt8) {
        switch offset {
        case 0...3:
            let shift = 8 * UInt32(offset)
            bufferListBase = (bufferListBase & ~(0xFF << shift) | UInt32(value) << shift) & ~7
        case Offset.lastValidIndex:
            writeLastValidIndex(value)
        case Offset.status:
            status &= ~(UInt16(value) & Status.writeOneToClear)
            interruptChanged()
        case Offset.control:
            writeControl(value)
        default:
            break  // CIV, PICB and PIV are read-only
        }
    }

    private func writeLastValidIndex(_ value: UInt8) {
        let now = clock.now
        if isRunning { advance(to: now) }
        lastValidIndex = value & AC97Channel.indexMask
        // A box halted on its last valid buffer goes on when software adds more.
        if control & Control.run != 0, status & Status.halted != 0, loaded, lastValidIndex != currentIndex {
            status &= ~(Status.halted | Status.currentIsLastValid)
            nextDescriptor()
            startPacing(at: now)
        }
    }

    private func writeControl(_ value: UInt8) {
        let now = clock.now
        if isRunning { advance(to: now) }
        if value & Control.resetRegisters != 0 {
            if control & Control.run != 0 {
                Log.write(.guestErrors, "\(name): register reset while running")
            }
            resetRegisters()
            return
        }
        let wasRunning = control & Control.run != 0
        control = value & Control.writable
        let run = control & Control.run != 0
        if run && !wasRunning {
            if !loaded || status & Status.currentIsLastValid != 0 && lastValidIndex != currentIndex {
                status &= ~Status.currentIsLastValid
                nextDescriptor()
            }
            if status & Status.currentIsLastValid == 0 { status &= ~Status.halted }
            startPacing(at: now)
            Log.write(.device, "\(name): run at \(rate()) Hz, list at 0x\(String(bufferListBase, radix: 16)), CIV \(currentIndex) LVI \(lastValidIndex)")
        } else if !run && wasRunning {
            // Paused: the DMA engine halts where it is.
            status |= Status.halted
            scheduler.cancel(timer)
        }
        interruptChanged()
    }

    /// Moves to the prefetched descriptor and loads it.
    private func nextDescriptor() {
        currentIndex = prefetchedIndex
        prefetchedIndex = (prefetchedIndex &+ 1) & AC97Channel.indexMask
        let entry = bufferListBase &+ UInt32(currentIndex) &* Descriptor.bytes
        bufferAddress = dma.readDword(entry) & ~1
        let second = dma.readDword(entry &+ 4)
        samplesLeft = UInt16(truncatingIfNeeded: second)
        bufferFlags = UInt16(truncatingIfNeeded: second >> 16)
        loaded = true
    }

    /// The rate may have changed: the count restarts from now.
    func rateChanged() {
        let now = clock.now
        if isRunning {
            advance(to: now)
            startPacing(at: now)
        }
    }

    private func startPacing(at now: Int64) {
        let hz = max(rate(), 1)
        samplesPerSecond = Int64(hz * channels)
        origin = now
        samplesSinceOrigin = 0
        if let fifo, fifo.rate != hz || fifo.count == 0 { fifo.restart(rate: hz) }
        armTimer()
        started()
    }

    // MARK: Transfers

    /// Moves the samples due by `now`, ending buffers on the way.
    public func advance(to now: Int64) {
        guard isRunning else { return }
        var due = TickConversion.ticks(inNanoseconds: now - origin, hz: samplesPerSecond) - samplesSinceOrigin
        var emptySteps = 0
        emptyRun = false
        while due > 0 || samplesLeft == 0, isRunning {
            if samplesLeft == 0 {
                // An empty buffer (a zero length) ends at once.
                emptySteps += 1
                if emptySteps > AC97Channel.emptyBuffersPerAdvance {
                    emptyRun = true
                    origin = now
                    samplesSinceOrigin = 0
                    break
                }
                completeBuffer()
                continue
            }
            var count = Int(min(due, Int64(samplesLeft), Int64(AC97Channel.chunkSamples)))
            // Whole frames only, unless the buffer itself ends mid-frame.
            if count < Int(samplesLeft) { count -= count % channels }
            guard count > 0 else { break }
            move(count, now: now)
            bufferAddress = bufferAddress &+ UInt32(count * 2)
            samplesLeft -= UInt16(count)
            samplesSinceOrigin += Int64(count)
            due -= Int64(count)
            if samplesLeft == 0 { completeBuffer() }
        }
        armTimer()
    }

    private func move(_ samples: Int, now: Int64) {
        let bytes = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<samples * 2])
        if let fifo {
            dma.read(bufferAddress, into: bytes)
            fifo.appendS16(UnsafeRawBufferPointer(bytes), channels: channels, now: now)
        } else {
            // No microphone or line in: the ADC records silence.
            bytes.initializeMemory(as: UInt8.self, repeating: 0)
            dma.write(bufferAddress, UnsafeRawBufferPointer(bytes))
        }
    }

    private func completeBuffer() {
        if bufferFlags & Descriptor.interruptOnCompletion != 0 { status |= Status.bufferCompleted }
        if currentIndex == lastValidIndex {
            status |= Status.lastValidBufferCompleted | Status.currentIsLastValid | Status.halted
            scheduler.cancel(timer)
        } else {
            nextDescriptor()
        }
        interruptChanged()
    }

    private func armTimer() {
        guard isRunning else {
            scheduler.cancel(timer)
            return
        }
        if samplesLeft == 0 {
            // An empty buffer is next: it ends at once, or (after a run of
            // them) a millisecond later, so a list of them cannot spin.
            scheduler.schedule(timer, at: clock.now + (emptyRun ? AC97Channel.emptyBufferWait : 0))
            return
        }
        let end = samplesSinceOrigin + Int64(samplesLeft)
        scheduler.schedule(timer, at: origin + TickConversion.nanoseconds(forTicks: end, hz: samplesPerSecond))
    }
}

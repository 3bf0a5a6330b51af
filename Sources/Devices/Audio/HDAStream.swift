import Memory
import PCEmuSupport
import Timing

/// One stream descriptor of the HD Audio controller: control (reset, run,
/// interrupt enables, stream tag), status, the link position in the cyclic
/// buffer (LPIB), the buffer's length (CBL), the last valid index, the
/// format, and the buffer descriptor list: up to 256 entries of 16 bytes
/// (64-bit address, length in bytes, IOC) in guest memory.
///
/// Like the AC'97 boxes, a running stream moves the bytes its format makes
/// due since it started whenever it is read, the mixer renders, or an entry
/// ends (its one timer, armed for the end of the current entry). An output
/// stream whose tag the codec's DAC listens to feeds the mixer's FIFO; the
/// others are consumed unheard. Input streams record silence.
public final class HDAStream {
    public enum Offset {
        public static let control: UInt32 = 0x00
        public static let status: UInt32 = 0x03
        public static let linkPosition: UInt32 = 0x04
        public static let cyclicBufferLength: UInt32 = 0x08
        public static let lastValidIndex: UInt32 = 0x0C
        public static let fifoWatermark: UInt32 = 0x0E
        public static let fifoSize: UInt32 = 0x10
        public static let format: UInt32 = 0x12
        public static let listLow: UInt32 = 0x18
        public static let listHigh: UInt32 = 0x1C
    }

    public enum Control {
        public static let reset: UInt32 = 0x01
        public static let run: UInt32 = 0x02
        public static let completionInterruptEnable: UInt32 = 0x04
        public static let fifoErrorInterruptEnable: UInt32 = 0x08
        public static let descriptorErrorInterruptEnable: UInt32 = 0x10
        static let tagShift: UInt32 = 20
        static let writable: UInt32 = 0xFF_001F
    }

    public enum Status {
        public static let bufferCompleted: UInt8 = 0x04
        public static let fifoError: UInt8 = 0x08
        public static let descriptorError: UInt8 = 0x10
        public static let fifoReady: UInt8 = 0x20
        static let writeOneToClear: UInt8 = 0x1C
    }

    static let entryBytes: UInt32 = 16
    /// Entries a stream may step over without moving a byte before it
    /// waits a millisecond: a list of empty entries must not spin.
    static let emptyEntriesPerAdvance = 256
    static let emptyEntryWait: Int64 = 1_000_000
    static let chunkBytes = 8192
    /// What FIFOS reports: bytes the controller buffers, less one.
    static let fifoSizeValue: UInt16 = 0xFF

    public let index: Int
    public let isOutput: Bool
    let dma: GuestMemoryDMA
    let clock: VirtualClock
    let scheduler: EventScheduler
    /// The stream tag the codec's DAC (or ADC) listens to.
    let codecStream: () -> UInt8
    /// Where an audible output stream's frames go.
    let fifo: ResamplingFIFO?
    let interruptChanged: () -> Void
    let positionChanged: (HDAStream) -> Void
    let started: () -> Void
    let stopped: () -> Void
    /// Where an input stream's samples come from, and their gains (set by the controller).
    var capture: AudioCapture?
    var captureGains: () -> (left: Float, right: Float) = { (0, 0) }
    lazy var converter = CaptureConverter()

    public internal(set) var control: UInt32 = 0
    public internal(set) var status: UInt8 = 0
    public internal(set) var linkPosition: UInt32 = 0
    public internal(set) var cyclicBufferLength: UInt32 = 0
    public internal(set) var lastValidIndex: UInt16 = 0
    public internal(set) var format: UInt16 = 0
    var fifoWatermark: UInt16 = 0
    var listLow: UInt32 = 0
    var listHigh: UInt32 = 0

    /// The entry being played: its index, where its next byte is, the bytes left, IOC.
    var entry = 0
    var entryAddress: UInt64 = 0
    var entryLeft: UInt32 = 0
    var entryInterrupts = false
    var origin: Int64 = 0
    var bytesSinceOrigin: Int64 = 0
    var bytesPerSecond: Int64 = 192_000
    var frameBytes = 4
    var channels = 2
    var sampleBytes = 2
    var emptyRun = false
    var timer: TimerEvent!
    private let scratch: UnsafeMutableRawBufferPointer

    init(index: Int, isOutput: Bool, dma: GuestMemoryDMA, clock: VirtualClock, scheduler: EventScheduler,
         fifo: ResamplingFIFO?, codecStream: @escaping () -> UInt8, interruptChanged: @escaping () -> Void,
         positionChanged: @escaping (HDAStream) -> Void, started: @escaping () -> Void,
         stopped: @escaping () -> Void) {
        self.index = index
        self.isOutput = isOutput
        self.dma = dma
        self.clock = clock
        self.scheduler = scheduler
        self.fifo = fifo
        self.codecStream = codecStream
        self.interruptChanged = interruptChanged
        self.positionChanged = positionChanged
        self.started = started
        self.stopped = stopped
        scratch = .allocate(byteCount: HDAStream.chunkBytes, alignment: 8)
        timer = TimerEvent(name: "hda-stream\(index)") { [unowned self] in self.advance(to: self.clock.now) }
    }

    deinit { scratch.deallocate() }

    public var isRunning: Bool { control & Control.run != 0 && control & Control.reset == 0 }
    public var tag: UInt8 { UInt8(truncatingIfNeeded: control >> Control.tagShift & 0xF) }

    public var interruptPending: Bool {
        status & Status.bufferCompleted != 0 && control & Control.completionInterruptEnable != 0
            || status & Status.fifoError != 0 && control & Control.fifoErrorInterruptEnable != 0
            || status & Status.descriptorError != 0 && control & Control.descriptorErrorInterruptEnable != 0
    }

    /// The stream reset (SRST, and the controller's reset): every register
    /// but SRST itself back to zero.
    func resetRegisters(keepingResetBit: Bool) {
        let wasRunning = isRunning
        scheduler.cancel(timer)
        control = keepingResetBit ? Control.reset : 0
        status = 0
        linkPosition = 0
        cyclicBufferLength = 0
        lastValidIndex = 0
        format = 0
        fifoWatermark = 0
        listLow = 0
        listHigh = 0
        entry = 0
        entryLeft = 0
        interruptChanged()
        if wasRunning { stopped() }
    }

    // MARK: Registers

    func read(_ register: UInt32) -> UInt32 {
        if isRunning { advance(to: clock.now) }
        switch register {
        case Offset.control: return control
        case Offset.status: return UInt32(status | (control & Control.reset == 0 ? Status.fifoReady : 0))
        case Offset.linkPosition: return linkPosition
        case Offset.cyclicBufferLength: return cyclicBufferLength
        case Offset.lastValidIndex: return UInt32(lastValidIndex)
        case Offset.fifoWatermark: return UInt32(fifoWatermark)
        case Offset.fifoSize: return UInt32(HDAStream.fifoSizeValue)
        case Offset.format: return UInt32(format)
        case Offset.listLow: return listLow
        case Offset.listHigh: return listHigh
        default: return 0
        }
    }

    /// `value` is the register's whole new value (bytes not written kept).
    func write(_ register: UInt32, _ value: UInt32, mask: UInt32) {
        let now = clock.now
        if isRunning { advance(to: now) }
        switch register {
        case Offset.control:
            writeControl(value & Control.writable, now: now)
        case Offset.status:
            status &= ~(UInt8(truncatingIfNeeded: value & mask) & Status.writeOneToClear)
            interruptChanged()
        case Offset.cyclicBufferLength:
            if !isRunning { cyclicBufferLength = value }
        case Offset.lastValidIndex:
            lastValidIndex = UInt16(truncatingIfNeeded: value) & 0xFF
        case Offset.fifoWatermark:
            fifoWatermark = UInt16(truncatingIfNeeded: value) & 0x7
        case Offset.format:
            if !isRunning { format = UInt16(truncatingIfNeeded: value) & 0x7F7F }
        case Offset.listLow:
            if !isRunning { listLow = value & ~0x7F }
        case Offset.listHigh:
            if !isRunning { listHigh = value }
        default:
            break
        }
    }

    private func writeControl(_ value: UInt32, now: Int64) {
        if value & Control.reset != 0 {
            if control & Control.reset == 0 { resetRegisters(keepingResetBit: true) }
            return
        }
        let wasRunning = isRunning
        control = value
        if isRunning && !wasRunning {
            start(at: now)
        } else if !isRunning && wasRunning {
            scheduler.cancel(timer)
            stopped()
            Log.write(.device, "hda: stream \(index) stopped at LPIB \(linkPosition)")
        }
        interruptChanged()
    }

    /// The format register: rate from base, multiple and divisor; sample size; channels.
    var rate: Int {
        let base = format & 0x4000 != 0 ? 44_100 : 48_000
        let multiple = Int(format >> 11 & 0x7) + 1
        let divisor = Int(format >> 8 & 0x7) + 1
        return base * min(multiple, 4) / divisor
    }

    private func start(at now: Int64) {
        channels = Int(format & 0xF) + 1
        switch format >> 4 & 0x7 {
        case 0: sampleBytes = 1
        case 1: sampleBytes = 2
        default: sampleBytes = 4  // 20, 24 and 32 bits travel in 32-bit containers
        }
        frameBytes = channels * sampleBytes
        bytesPerSecond = Int64(rate * frameBytes)
        origin = now
        bytesSinceOrigin = 0
        if linkPosition == 0 { loadEntry(0) }
        if let fifo, tag != 0, tag == codecStream() { fifo.restart(rate: rate) }
        if !isOutput { converter.reset() }
        started()
        Log.write(.device, "hda: stream \(index) (tag \(tag)) runs: \(rate) Hz, \(channels) channels of \(sampleBytes) bytes, CBL \(cyclicBufferLength), LVI \(lastValidIndex)")
        armTimer()
    }

    private func loadEntry(_ index: Int) {
        entry = index
        let base = UInt64(listHigh) << 32 | UInt64(listLow)
        let address = base &+ UInt64(index) &* UInt64(HDAStream.entryBytes)
        // An entry past the physical address space reads as all ones, as nothing answers there.
        let inSpace = address < AddressSpace.physicalLimit && AddressSpace.physicalLimit - address >= 16
        func word(_ index: UInt32) -> UInt32 {
            guard inSpace else { return 0xFFFF_FFFF }
            return dma.readDword(address &+ 4 * UInt64(index))
        }
        entryAddress = UInt64(word(1)) << 32 | UInt64(word(0))
        entryLeft = word(2)
        entryInterrupts = word(3) & 1 != 0
    }

    // MARK: Transfers

    /// Moves the bytes due by `now`, ending entries on the way.
    public func advance(to now: Int64) {
        guard isRunning else { return }
        var due = TickConversion.ticks(inNanoseconds: now - origin, hz: bytesPerSecond) - bytesSinceOrigin
        due -= due % Int64(frameBytes)
        var emptySteps = 0
        emptyRun = false
        var moved = false
        while due > 0 || entryLeft == 0 {
            if entryLeft == 0 {
                emptySteps += 1
                if emptySteps > HDAStream.emptyEntriesPerAdvance {
                    emptyRun = true
                    origin = now
                    bytesSinceOrigin = 0
                    break
                }
                completeEntry()
                continue
            }
            let count = Int(min(due, Int64(entryLeft), Int64(HDAStream.chunkBytes - HDAStream.chunkBytes % frameBytes)))
            guard count > 0 else { break }
            move(count, now: now)
            moved = true
            entryAddress &+= UInt64(count)
            entryLeft -= UInt32(count)
            bytesSinceOrigin += Int64(count)
            due -= Int64(count)
            linkPosition &+= UInt32(count)
            if cyclicBufferLength > 0, linkPosition >= cyclicBufferLength { linkPosition %= cyclicBufferLength }
            if entryLeft == 0 { completeEntry() }
        }
        if moved { positionChanged(self) }
        armTimer()
    }

    private func move(_ count: Int, now: Int64) {
        let bytes = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count])
        let inRange = entryAddress < AddressSpace.physicalLimit && UInt64(count) <= AddressSpace.physicalLimit - entryAddress
        if isOutput {
            if inRange {
                dma.read(entryAddress, into: bytes)
            } else {
                bytes.initializeMemory(as: UInt8.self, repeating: 0xFF)  // past the physical address space: nothing answers
            }
            if let fifo, tag != 0, tag == codecStream() { decode(UnsafeRawBufferPointer(bytes), into: fifo, now: now) }
        } else {
            if let capture, tag != 0, tag == codecStream() {
                let gains = captureGains()
                converter.fill(bytes, from: capture, rate: rate, channels: channels, sampleBytes: sampleBytes,
                               left: gains.left, right: gains.right)
            } else {
                // Nothing to record from: the line in records silence.
                bytes.initializeMemory(as: UInt8.self, repeating: 0)
            }
            if inRange { dma.write(entryAddress, UnsafeRawBufferPointer(bytes)) }
        }
    }

    private func decode(_ bytes: UnsafeRawBufferPointer, into fifo: ResamplingFIFO, now: Int64) {
        if sampleBytes == 2 {
            fifo.appendS16(bytes, channels: channels, now: now)
            return
        }
        var offset = 0
        func sample(_ at: Int) -> Float {
            switch sampleBytes {
            case 1: return Float(Int8(bitPattern: bytes[at])) * 256
            default:
                let word = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
                return Float(Int32(bitPattern: word)) / 65_536
            }
        }
        while offset + frameBytes <= bytes.count {
            let left = sample(offset)
            fifo.append(left: left, right: channels > 1 ? sample(offset + sampleBytes) : left, now: now)
            offset += frameBytes
        }
    }

    private func completeEntry() {
        if entryInterrupts {
            status |= Status.bufferCompleted
            interruptChanged()
        }
        loadEntry(entry >= Int(lastValidIndex) ? 0 : entry + 1)
    }

    private func armTimer() {
        guard isRunning else {
            scheduler.cancel(timer)
            return
        }
        if entryLeft == 0 {
            scheduler.schedule(timer, at: clock.now + (emptyRun ? HDAStream.emptyEntryWait : 0))
            return
        }
        // The entry's end, in whole frames.
        let left = (Int64(entryLeft) + Int64(frameBytes) - 1) / Int64(frameBytes) * Int64(frameBytes)
        scheduler.schedule(timer, at: origin + TickConversion.nanoseconds(forTicks: bytesSinceOrigin + left, hz: bytesPerSecond))
    }
}

import Memory
import PCEmuSupport
import Timing

/// The Sound Blaster 16's DSP (version 4.05) at base 0x220: reset and
/// identification, 8- and 16-bit, mono and stereo, signed and unsigned
/// playback by DMA in single-cycle and auto-init modes, recording (of
/// silence, there being no input), pause and resume, the block-end
/// interrupts with their acknowledge ports (base+0xE 8-bit, base+0xF 16-bit),
/// and the CT1745 mixer at base+4/base+5 whose registers 0x80/0x81 choose the
/// IRQ and DMA channels. Base+0-3 and base+8/9 reach the OPL3.
///
/// Transfers are paced by the virtual clock: each DMA engine counts the bytes
/// its rate makes due since it started, pulls them from the DMA controller
/// when the mixer renders or a block ends (a timer is armed for the block
/// end), and raises its interrupt there. Samples go to a FIFO at the guest's
/// rate that `render` resamples (linearly) to the host's.
public final class SoundBlaster16: PortHandler, AudioSource {
    public static let base: UInt16 = 0x220
    public static let portCount = 16
    public static let defaultIRQ = 5
    public static let defaultDMA8 = 1
    public static let defaultDMA16 = 5
    static let versionMajor: UInt8 = 4
    static let versionMinor: UInt8 = 5
    static let copyright = Array("COPYRIGHT (C) CREATIVE TECHNOLOGY LTD, 1992.".utf8) + [0]
    /// The IRQs the card can be set to (mixer register 0x80).
    public static let selectableIRQs = [5, 7, 9, 10]

    enum Port {
        static let oplFirst: UInt16 = 0x0
        static let oplLast: UInt16 = 0x3
        static let mixerIndex: UInt16 = 0x4
        static let mixerData: UInt16 = 0x5
        static let reset: UInt16 = 0x6
        static let oplCompatAddress: UInt16 = 0x8
        static let oplCompatData: UInt16 = 0x9
        static let readData: UInt16 = 0xA
        /// Write: a command or its argument; read: write-buffer status.
        static let writeData: UInt16 = 0xC
        /// Read: data-available status, which also acknowledges the 8-bit interrupt.
        static let readStatus: UInt16 = 0xE
        static let acknowledge16: UInt16 = 0xF
    }

    enum Command {
        static let aspSetCodecParameter: UInt8 = 0x05
        static let aspSetRegister: UInt8 = 0x0E
        static let aspGetRegister: UInt8 = 0x0F
        static let directOutput: UInt8 = 0x10
        static let output8Single: UInt8 = 0x14
        static let output8Auto: UInt8 = 0x1C
        static let directInput: UInt8 = 0x20
        static let input8Single: UInt8 = 0x24
        static let input8Auto: UInt8 = 0x2C
        static let midiWrite: UInt8 = 0x38
        static let timeConstant: UInt8 = 0x40
        static let outputRate: UInt8 = 0x41
        static let inputRate: UInt8 = 0x42
        static let continue8Auto: UInt8 = 0x45
        static let continue16Auto: UInt8 = 0x47
        static let blockSize: UInt8 = 0x48
        static let silence: UInt8 = 0x80
        static let output8HighSpeedAuto: UInt8 = 0x90
        static let output8HighSpeedSingle: UInt8 = 0x91
        static let input8HighSpeedAuto: UInt8 = 0x98
        static let input8HighSpeedSingle: UInt8 = 0x99
        /// 0xB0-0xBF: 16-bit transfer; 0xC0-0xCF: 8-bit transfer (bits below).
        static let generic16: UInt8 = 0xB0
        static let generic8: UInt8 = 0xC0
        static let genericInput: UInt8 = 0x08
        static let genericAutoInit: UInt8 = 0x04
        static let pause8: UInt8 = 0xD0
        static let speakerOn: UInt8 = 0xD1
        static let speakerOff: UInt8 = 0xD3
        static let resume8: UInt8 = 0xD4
        static let pause16: UInt8 = 0xD5
        static let resume16: UInt8 = 0xD6
        static let speakerStatus: UInt8 = 0xD8
        static let exitAuto16: UInt8 = 0xD9
        static let exitAuto8: UInt8 = 0xDA
        static let identify: UInt8 = 0xE0
        static let version: UInt8 = 0xE1
        static let dmaIdentify: UInt8 = 0xE2
        static let copyrightString: UInt8 = 0xE3
        static let writeTest: UInt8 = 0xE4
        static let readTest: UInt8 = 0xE8
        static let interrupt8: UInt8 = 0xF2
        static let interrupt16: UInt8 = 0xF3
    }

    /// The mode byte of the 0xBx/0xCx commands.
    enum TransferMode {
        static let signed: UInt8 = 0x10
        static let stereo: UInt8 = 0x20
    }

    /// Interrupt status bits (mixer register 0x82).
    enum InterruptBit {
        static let dma8: UInt8 = 0x01
        static let dma16: UInt8 = 0x02
    }

    /// Argument bytes each command takes (the rest take none).
    static func argumentCount(_ command: UInt8) -> Int {
        switch command {
        case Command.aspSetCodecParameter, Command.aspSetRegister: return 2
        case Command.aspGetRegister, Command.directOutput, Command.midiWrite, Command.timeConstant: return 1
        case Command.output8Single, Command.input8Single, 0x16, 0x17, 0x74...0x77: return 2
        case Command.outputRate, Command.inputRate, Command.blockSize, Command.silence: return 2
        case 0xB0...0xCF: return 3
        case Command.identify, Command.dmaIdentify, Command.writeTest: return 1
        default: return 0
        }
    }

    /// One DMA engine: the 8-bit one (commands 0x14, 0x1C, 0xCx; IRQ status
    /// bit 0) or the 16-bit one (0xBx; bit 1).
    struct Engine {
        var active = false
        var paused = false
        var autoInit = false
        var exitAutoInit = false
        var input = false
        var sixteenBit = false
        var stereo = false
        var signed = false
        var channel = 0
        var bytesPerSecond: Int64 = 1
        var blockBytes = 0
        var bytesLeftInBlock = 0
        /// Guest time the byte count runs from, and bytes moved since.
        var origin: Int64 = 0
        var bytesSinceOrigin: Int64 = 0
    }

    struct State {
        var resetting = false
        var command: UInt8?
        var arguments: [UInt8] = []
        var output: [UInt8] = []
        var lastRead: UInt8 = 0xFF
        /// Samples per second (all channels) set by 0x40, 0x41 or 0x42.
        var sampleRate = 11_025
        var legacyBlockBytes = 0x800
        var speakerOn = false
        var testRegister: UInt8 = 0
        var aspRegisters = [UInt8](repeating: 0, count: 256)
        var engines = [Engine(), Engine()]
    }

    public let mixer: CT1745Mixer
    let clock: VirtualClock
    let scheduler: EventScheduler
    private let dma: DMA8237
    private let opl: OPL3?
    private let lines: [Int: InterruptLine]
    private var activeLine: InterruptLine?
    var state = State()
    var blockTimers: [TimerEvent] = []
    var silenceTimer: TimerEvent!
    private var scratch = [UInt8](repeating: 0, count: 4096)

    /// Renders that ran out of frames in the middle of a stream (a glitch).
    public private(set) var starvedRenders = 0
    /// Host frames a stream is played behind the DMA (about 0.1 ms).
    static let resamplerCushion = 4
    /// Whether a mixer pulls samples; without one they are dropped at once.
    public var isAudible = false
    /// Called when an output transfer starts or resumes: the mixer wakes.
    public var streamStarted: () -> Void = {}
    /// Decoded frames at the guest's rate, interleaved left/right.
    var fifo: [Float] = []
    var fifoRate = 11_025
    var fifoPosition = 0.0
    var decoder = Decoder()
    /// The guest time the newest FIFO frame belongs to, and whether the last
    /// render ran out of frames (so new ones start a stream and are placed at
    /// the time they were made, not at the start of the next buffer).
    var fifoEndTime: Int64 = 0
    var fifoStarved = true

    /// `irqLine(n)` gives the wire to ISA IRQ n (asked once for each of 5, 7, 9, 10).
    public init(clock: VirtualClock, scheduler: EventScheduler, dma: DMA8237, opl: OPL3?,
                irq: Int = SoundBlaster16.defaultIRQ, dma8: Int = SoundBlaster16.defaultDMA8,
                dma16: Int = SoundBlaster16.defaultDMA16, irqLine: (Int) -> InterruptLine) {
        self.clock = clock
        self.scheduler = scheduler
        self.dma = dma
        self.opl = opl
        var lines: [Int: InterruptLine] = [:]
        for number in SoundBlaster16.selectableIRQs { lines[number] = irqLine(number) }
        self.lines = lines
        let irqBits = CT1745Mixer.irqBits.first { $0.irq == irq }?.bit ?? 0x02
        let dmaBits = (CT1745Mixer.dma8Bits.first { $0.channel == dma8 }?.bit ?? 0)
            | (CT1745Mixer.dma16Bits.first { $0.channel == dma16 }?.bit ?? 0)
        mixer = CT1745Mixer(irqSelect: irqBits, dmaSelect: dmaBits)
        super.init()
        for index in 0..<2 {
            blockTimers.append(TimerEvent(name: "sb16-block\(index == 0 ? 8 : 16)") { [unowned self] in
                self.advance(index, to: self.clock.now)
            })
        }
        silenceTimer = TimerEvent(name: "sb16-silence") { [unowned self] in self.raiseInterrupt(InterruptBit.dma8) }
        updateInterruptLine()
    }

    /// Power-on: the DSP reset and silent (the mixer's IRQ/DMA selection stays).
    public func reset() {
        resetDSP()
        state.output = []
        mixer.resetVolumes()
    }

    // MARK: Ports

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        switch offset {
        case Port.oplFirst...Port.oplLast:
            return UInt32(opl?.readPort(offset) ?? 0xFF)
        case Port.oplCompatAddress, Port.oplCompatData:
            return UInt32(opl?.readPort(offset - Port.oplCompatAddress) ?? 0xFF)
        case Port.mixerIndex:
            return UInt32(mixer.index)
        case Port.mixerData:
            return UInt32(mixer.readData())
        case Port.readData:
            if !state.output.isEmpty { state.lastRead = state.output.removeFirst() }
            return UInt32(state.lastRead)
        case Port.writeData:
            // Bit 7 clear: ready for a command (commands complete at once).
            return 0x7F
        case Port.readStatus:
            acknowledge(InterruptBit.dma8)
            return state.output.isEmpty ? 0x7F : 0xFF
        case Port.acknowledge16:
            acknowledge(InterruptBit.dma16)
            return 0xFF
        default:
            return 0xFF
        }
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        switch offset {
        case Port.oplFirst...Port.oplLast:
            opl?.writePort(offset, byte)
        case Port.oplCompatAddress, Port.oplCompatData:
            opl?.writePort(offset - Port.oplCompatAddress, byte)
        case Port.mixerIndex:
            mixer.selectRegister(byte)
        case Port.mixerData:
            mixer.writeData(byte)
            if mixer.index == CT1745Mixer.Register.irqSelect { updateInterruptLine() }
        case Port.reset:
            if byte & 1 != 0 {
                state.resetting = true
            } else if state.resetting {
                state.resetting = false
                resetDSP()
                state.output = [0xAA]
            }
        case Port.writeData:
            writeCommandByte(byte)
        default:
            Log.write(.guestErrors, "sb16: write 0x\(String(byte, radix: 16)) to port +0x\(String(offset, radix: 16))")
        }
    }

    private func resetDSP() {
        for index in 0..<2 {
            scheduler.cancel(blockTimers[index])
            dma.setRequest(state.engines[index].channel, false)
        }
        scheduler.cancel(silenceTimer)
        let keep = state.aspRegisters
        state = State()
        state.aspRegisters = keep
        mixer.interruptStatus = 0
        updateInterruptLine()
        fifo.removeAll(keepingCapacity: true)
        fifoPosition = 0
    }

    // MARK: Commands

    private func writeCommandByte(_ byte: UInt8) {
        guard let command = state.command else {
            state.arguments = []
            if SoundBlaster16.argumentCount(byte) == 0 {
                execute(byte, [])
            } else {
                state.command = byte
            }
            return
        }
        state.arguments.append(byte)
        if state.arguments.count == SoundBlaster16.argumentCount(command) {
            state.command = nil
            execute(command, state.arguments)
        }
    }

    private func reply(_ bytes: [UInt8]) { state.output.append(contentsOf: bytes) }

    private func execute(_ command: UInt8, _ arguments: [UInt8]) {
        let word = arguments.count >= 2 ? Int(arguments[0]) | Int(arguments[1]) << 8 : 0
        let legacyStereo = mixer.sbProStereo
        switch command {
        case Command.output8Single, Command.input8Single:
            startLegacy(input: command == Command.input8Single, autoInit: false, bytes: word + 1, stereo: legacyStereo)
        case Command.output8Auto, Command.output8HighSpeedAuto:
            startLegacy(input: false, autoInit: true, bytes: state.legacyBlockBytes, stereo: legacyStereo)
        case Command.input8Auto, Command.input8HighSpeedAuto:
            startLegacy(input: true, autoInit: true, bytes: state.legacyBlockBytes, stereo: legacyStereo)
        case Command.output8HighSpeedSingle, Command.input8HighSpeedSingle:
            startLegacy(input: command == Command.input8HighSpeedSingle, autoInit: false,
                        bytes: state.legacyBlockBytes, stereo: legacyStereo)
        case 0xB0...0xCF:
            guard command & 0x01 == 0 else {
                Log.write(.guestErrors, "sb16: transfer command 0x\(String(command, radix: 16)) has bit 0 set")
                return
            }
            let sixteenBit = command < Command.generic8
            let mode = arguments[0]
            let samples = (Int(arguments[1]) | Int(arguments[2]) << 8) + 1
            start(engine: sixteenBit ? 1 : 0, input: command & Command.genericInput != 0,
                  autoInit: command & Command.genericAutoInit != 0, sixteenBit: sixteenBit,
                  stereo: mode & TransferMode.stereo != 0, signed: mode & TransferMode.signed != 0,
                  blockBytes: samples * (sixteenBit ? 2 : 1), rate: state.sampleRate)
        case Command.timeConstant:
            state.sampleRate = 1_000_000 / (256 - Int(arguments[0]))
        case Command.outputRate, Command.inputRate:
            // High byte first; the DSP's range is about 5000-45000 Hz.
            state.sampleRate = max(4_000, min(48_000, Int(arguments[0]) << 8 | Int(arguments[1])))
        case Command.blockSize:
            state.legacyBlockBytes = word + 1
        case Command.pause8, Command.pause16:
            pause(engine: command == Command.pause8 ? 0 : 1, true)
        case Command.resume8, Command.resume16:
            pause(engine: command == Command.resume8 ? 0 : 1, false)
        case Command.exitAuto8, Command.exitAuto16:
            state.engines[command == Command.exitAuto8 ? 0 : 1].exitAutoInit = true
        case Command.continue8Auto, Command.continue16Auto:
            state.engines[command == Command.continue8Auto ? 0 : 1].exitAutoInit = false
        case Command.speakerOn: state.speakerOn = true
        case Command.speakerOff: state.speakerOn = false
        case Command.speakerStatus: reply([state.speakerOn ? 0xFF : 0x00])
        case Command.identify: reply([~arguments[0]])
        case Command.version: reply([SoundBlaster16.versionMajor, SoundBlaster16.versionMinor])
        case Command.copyrightString: reply(SoundBlaster16.copyright)
        case Command.writeTest: state.testRegister = arguments[0]
        case Command.readTest: reply([state.testRegister])
        case Command.interrupt8: raiseInterrupt(InterruptBit.dma8)
        case Command.interrupt16: raiseInterrupt(InterruptBit.dma16)
        case Command.silence:
            // Plays word + 1 samples of silence, then interrupts like a block end.
            let nanoseconds = Int64(word + 1) * 1_000_000_000 / Int64(max(state.sampleRate, 1))
            scheduler.schedule(silenceTimer, at: clock.now + nanoseconds)
        case Command.directInput: reply([0x80])
        case Command.aspSetRegister: state.aspRegisters[Int(arguments[0])] = arguments[1]
        case Command.aspGetRegister: reply([state.aspRegisters[Int(arguments[0])]])
        case Command.aspSetCodecParameter, Command.directOutput, Command.midiWrite:
            break
        default:
            Log.write(.unimplemented, "sb16: DSP command 0x\(String(command, radix: 16))")
        }
    }

    /// The SB/SB Pro commands: 8-bit unsigned on the 8-bit engine, at the
    /// time-constant rate, which for SB Pro stereo counts both channels.
    private func startLegacy(input: Bool, autoInit: Bool, bytes: Int, stereo: Bool) {
        let rate = stereo ? state.sampleRate / 2 : state.sampleRate
        start(engine: 0, input: input, autoInit: autoInit, sixteenBit: false, stereo: stereo, signed: false,
              blockBytes: bytes, rate: rate)
    }

    private func start(engine index: Int, input: Bool, autoInit: Bool, sixteenBit: Bool, stereo: Bool,
                       signed: Bool, blockBytes: Int, rate: Int) {
        let now = clock.now
        advance(index, to: now)
        // 16-bit samples travel on the 16-bit channel, or on the 8-bit one when none is set.
        let channel = sixteenBit ? (mixer.selectedDMA16 ?? mixer.selectedDMA8) : mixer.selectedDMA8
        guard let channel else {
            Log.write(.guestErrors, "sb16: transfer started with no DMA channel selected")
            return
        }
        var engine = Engine()
        engine.active = true
        engine.autoInit = autoInit
        engine.input = input
        engine.sixteenBit = sixteenBit
        engine.stereo = stereo
        engine.signed = signed
        engine.channel = channel
        engine.bytesPerSecond = Int64(max(rate, 1) * (stereo ? 2 : 1) * (sixteenBit ? 2 : 1))
        engine.blockBytes = max(blockBytes, sixteenBit ? 2 : 1)
        engine.bytesLeftInBlock = engine.blockBytes
        engine.origin = now
        state.engines[index] = engine
        if !input {
            fifoRate = max(rate, 1)
            decoder = Decoder(sixteenBit: sixteenBit, stereo: stereo, signed: signed)
        }
        dma.setRequest(channel, true)
        armBlockTimer(index)
        if !input { streamStarted() }
        Log.write(.device, "sb16: \(input ? "input" : "output") \(sixteenBit ? 16 : 8)-bit \(stereo ? "stereo" : "mono") \(signed ? "signed" : "unsigned") at \(rate) Hz, \(autoInit ? "auto-init" : "single-cycle") blocks of \(engine.blockBytes) bytes on DMA \(channel)")
    }

    private func pause(engine index: Int, _ paused: Bool) {
        let now = clock.now
        advance(index, to: now)
        guard state.engines[index].paused != paused else { return }
        state.engines[index].paused = paused
        state.engines[index].origin = now
        state.engines[index].bytesSinceOrigin = 0
        dma.setRequest(state.engines[index].channel, state.engines[index].active && !paused)
        armBlockTimer(index)
        if !paused && state.engines[index].active && !state.engines[index].input { streamStarted() }
    }

    // MARK: Transfers

    /// Moves the bytes due by `now` on engine `index`, ending blocks on the way.
    func advance(_ index: Int, to now: Int64) {
        var engine = state.engines[index]
        guard engine.active, !engine.paused else { return }
        let unit = engine.sixteenBit ? 2 : 1
        var due = Int(TickConversion.ticks(inNanoseconds: now - engine.origin, hz: engine.bytesPerSecond) - engine.bytesSinceOrigin)
        while due >= unit, engine.active {
            var count = min(due, engine.bytesLeftInBlock, scratch.count)
            count -= count % unit
            guard count > 0 else { break }
            let result = move(count, engine: engine)
            engine.bytesSinceOrigin += Int64(result.bytes)
            engine.bytesLeftInBlock -= result.bytes
            due -= result.bytes
            if engine.bytesLeftInBlock <= 0 {
                raiseInterrupt(index == 0 ? InterruptBit.dma8 : InterruptBit.dma16)
                if engine.autoInit && !engine.exitAutoInit {
                    engine.bytesLeftInBlock = engine.blockBytes
                } else {
                    engine.active = false
                    dma.setRequest(engine.channel, false)
                }
            } else if result.bytes < count && !result.terminalCount {
                // The DMA channel gave no more: the DSP waits for it, time does not count.
                Log.write(.device, "sb16: DMA \(engine.channel) gave \(result.bytes) of \(count) bytes; waiting for it")
                engine.origin = now
                engine.bytesSinceOrigin = 0
                break
            }
        }
        state.engines[index] = engine
        armBlockTimer(index)
    }

    private func move(_ count: Int, engine: Engine) -> DMA8237.Transfer {
        scratch.withUnsafeMutableBytes { buffer in
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
            if engine.input {
                // No microphone: record silence in the transfer's format.
                let silence: UInt8 = engine.signed ? 0 : 0x80
                for index in 0..<count {
                    slice[index] = engine.sixteenBit ? (index & 1 == 1 ? silence : 0) : silence
                }
                return dma.writeToMemory(channel: engine.channel, from: UnsafeRawBufferPointer(slice))
            }
            let result = dma.readFromMemory(channel: engine.channel, into: slice)
            if isAudible {
                decoder.decode(UnsafeRawBufferPointer(rebasing: slice[0..<result.bytes]), into: &fifo)
                fifoEndTime = clock.now
                trimFIFO()
            }
            return result
        }
    }

    private func armBlockTimer(_ index: Int) {
        let engine = state.engines[index]
        guard engine.active, !engine.paused else {
            scheduler.cancel(blockTimers[index])
            return
        }
        let end = engine.bytesSinceOrigin + Int64(engine.bytesLeftInBlock)
        scheduler.schedule(blockTimers[index], at: engine.origin + TickConversion.nanoseconds(forTicks: end, hz: engine.bytesPerSecond))
    }

    /// Bounds the FIFO when nothing drains it: past a second of frames, the
    /// oldest go and half a second stays.
    private func trimFIFO() {
        let second = 2 * fifoRate
        if fifo.count > second {
            fifo.removeFirst(fifo.count - second / 2)
            fifoPosition = 0
        }
    }

    // MARK: Interrupts

    private func raiseInterrupt(_ bit: UInt8) {
        mixer.interruptStatus |= bit
        updateInterruptLine()
    }

    private func acknowledge(_ bit: UInt8) {
        mixer.interruptStatus &= ~bit
        updateInterruptLine()
    }

    func updateInterruptLine() {
        let line = mixer.selectedIRQ.flatMap { lines[$0] }
        if line !== activeLine {
            activeLine?.lower()
            activeLine = line
        }
        activeLine?.set(mixer.interruptStatus & (InterruptBit.dma8 | InterruptBit.dma16) != 0)
    }

    // MARK: Sound

    /// Sound to make: an output transfer running, or frames still to play
    /// (the last frame stays behind: interpolation needs one after it).
    public var isActive: Bool {
        fifo.count >= 4 || state.engines.contains { $0.active && !$0.paused && !$0.input }
    }

    public func render(into buffer: UnsafeMutablePointer<Float>, frames: Int, rate: Int) {
        let now = clock.now
        advance(0, to: now)
        advance(1, to: now)
        let (left, right) = mixer.gains(left: CT1745Mixer.Register.voiceLeft, right: CT1745Mixer.Register.voiceRight)
        let step = Double(fifoRate) / Double(rate)
        let available = fifo.count / 2
        var position = fifoPosition
        var frame = 0
        if fifoStarved {
            // A stream (re)starting: its first frame belongs after the silence
            // that preceded it in this buffer, not at the buffer's start; and
            // a few frames later still, so that interpolation, which reads one
            // frame ahead, never waits for a frame the DMA has not brought yet.
            let covered = Int(Double(max(available - 1, 0)) / step)
            let lag = Int(TickConversion.ticks(inNanoseconds: max(now - fifoEndTime, 0), hz: Int64(rate)))
            frame = max(0, frames - covered - lag + SoundBlaster16.resamplerCushion)
        }
        fifo.withUnsafeBufferPointer { samples in
            while frame < frames {
                let index = Int(position)
                guard index + 1 < available else { break }
                let fraction = Float(position - Double(index))
                let l = samples[2 * index] + (samples[2 * index + 2] - samples[2 * index]) * fraction
                let r = samples[2 * index + 1] + (samples[2 * index + 3] - samples[2 * index + 1]) * fraction
                buffer[2 * frame] += l * left
                buffer[2 * frame + 1] += r * right
                position += step
                frame += 1
            }
        }
        let playing = state.engines.contains { $0.active && !$0.paused && !$0.input }
        if frame < frames && !fifoStarved && playing { starvedRenders += 1 }
        fifoStarved = frame < frames
        let consumed = min(Int(position), available)
        fifo.removeFirst(consumed * 2)
        fifoPosition = position - Double(consumed)
        if fifo.isEmpty { fifoPosition = 0 }
    }
}

/// Turns DMA bytes into float frames, carrying a split sample or frame over
/// to the next call.
struct Decoder {
    var sixteenBit = false
    var stereo = false
    var signed = false
    private var lowByte: UInt8?
    private var left: Float?

    init(sixteenBit: Bool = false, stereo: Bool = false, signed: Bool = false) {
        self.sixteenBit = sixteenBit
        self.stereo = stereo
        self.signed = signed
    }

    mutating func decode(_ bytes: UnsafeRawBufferPointer, into frames: inout [Float]) {
        for byte in bytes {
            let sample: Float
            if sixteenBit {
                guard let low = lowByte else { lowByte = byte; continue }
                lowByte = nil
                let raw = UInt16(low) | UInt16(byte) << 8
                sample = Float(signed ? Int16(bitPattern: raw) : Int16(bitPattern: raw ^ 0x8000))
            } else {
                sample = Float(signed ? Int(Int8(bitPattern: byte)) : Int(byte) - 128) * 256
            }
            if stereo {
                guard let first = left else { left = sample; continue }
                left = nil
                frames.append(first)
                frames.append(sample)
            } else {
                frames.append(sample)
                frames.append(sample)
            }
        }
    }
}

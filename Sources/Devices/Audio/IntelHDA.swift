import Memory
import PCEmuSupport
import Timing

/// The Intel ICH6 High Definition Audio controller, 8086:2668, as QEMU's
/// `-device intel-hda`: 16 KiB of registers behind memory BAR 0 (global
/// capabilities and control, interrupt control and status, the wall clock,
/// the CORB and RIRB rings through which verbs reach the codec and
/// responses come back, the immediate command registers, the DMA position
/// buffer) and four input and four output stream descriptors; its
/// interrupt on INTA#. One codec (`hda-duplex` or `hda-output`) sits at
/// address 0 of the link. Output streams play through the machine's mixer.
public final class IntelHDA: PCIDevice, AudioSource {
    public static let vendorID: UInt16 = 0x8086
    public static let deviceID: UInt16 = 0x2668
    static let audioClass: UInt32 = 0x04_03_00
    static let revision: UInt8 = 0x01
    static let interruptPinA: UInt8 = 1
    public static let registerBytes: UInt32 = 0x4000
    public static let inputStreams = 4
    public static let outputStreams = 4

    public enum Register {
        public static let capabilities: UInt32 = 0x00
        public static let minorVersion: UInt32 = 0x02
        public static let majorVersion: UInt32 = 0x03
        public static let outputPayload: UInt32 = 0x04
        public static let inputPayload: UInt32 = 0x06
        public static let control: UInt32 = 0x08
        public static let wakeEnable: UInt32 = 0x0C
        public static let stateChange: UInt32 = 0x0E
        public static let status: UInt32 = 0x10
        public static let outputStreamPayload: UInt32 = 0x18
        public static let inputStreamPayload: UInt32 = 0x1A
        public static let interruptControl: UInt32 = 0x20
        public static let interruptStatus: UInt32 = 0x24
        public static let wallClock: UInt32 = 0x30
        public static let oldStreamSync: UInt32 = 0x34
        public static let streamSync: UInt32 = 0x38
        public static let corbLow: UInt32 = 0x40
        public static let corbHigh: UInt32 = 0x44
        public static let corbWrite: UInt32 = 0x48
        public static let corbRead: UInt32 = 0x4A
        public static let corbControl: UInt32 = 0x4C
        public static let corbStatus: UInt32 = 0x4D
        public static let corbSize: UInt32 = 0x4E
        public static let rirbLow: UInt32 = 0x50
        public static let rirbHigh: UInt32 = 0x54
        public static let rirbWrite: UInt32 = 0x58
        public static let responseInterruptCount: UInt32 = 0x5A
        public static let rirbControl: UInt32 = 0x5C
        public static let rirbStatus: UInt32 = 0x5D
        public static let rirbSize: UInt32 = 0x5E
        public static let immediateCommand: UInt32 = 0x60
        public static let immediateResponse: UInt32 = 0x64
        public static let immediateStatus: UInt32 = 0x68
        public static let positionLow: UInt32 = 0x70
        public static let positionHigh: UInt32 = 0x74
        public static let streams: UInt32 = 0x80
        public static let streamStride: UInt32 = 0x20
        /// The LPIB aliases, one per stream from here.
        public static let positionAliases: UInt32 = 0x2080
    }

    /// GCAP: four output and four input streams, no bidirectional ones, one
    /// serial data out, 64-bit addressing.
    static let capabilitiesValue: UInt32 = 0x4401
    static let controllerReset: UInt32 = 0x1
    static let acceptUnsolicited: UInt32 = 0x100
    static let globalInterruptEnable: UInt32 = 0x8000_0000
    /// INTCTL's controller interrupt enable, and INTSTS's status bit in the same place.
    static let controllerInterruptEnable: UInt32 = 0x4000_0000
    static let corbReadReset: UInt16 = 0x8000
    static let rirbWriteReset: UInt16 = 0x8000
    static let corbRun: UInt8 = 0x02
    static let corbMemoryErrorEnable: UInt8 = 0x01
    static let rirbInterruptEnable: UInt8 = 0x01
    static let rirbDMAEnable: UInt8 = 0x02
    static let rirbOverrunInterruptEnable: UInt8 = 0x04
    static let rirbResponseInterrupt: UInt8 = 0x01
    static let rirbOverrun: UInt8 = 0x04
    /// Ring sizes supported (bit 6: 256 entries) and chosen (2: 256 entries).
    static let ringSizeValue: UInt8 = 0x42
    static let immediateBusy: UInt16 = 0x1
    static let immediateValid: UInt16 = 0x2
    static let positionEnable: UInt32 = 0x1
    static let wallClockHz: Int64 = 24_000_000

    public let codec: HDACodec
    public private(set) var streams: [HDAStream] = []
    /// The DAC's frames, played by the mixer.
    let fifo = ResamplingFIFO()
    public lazy var registerWindow = RegisterWindow(card: self)
    /// Called when a stream starts: the machine wakes its mixer.
    public var streamStarted: () -> Void = {}
    /// Where the line in records from (nil: silence).
    public var capture: AudioCapture? {
        didSet {
            for stream in streams where !stream.isOutput {
                stream.capture = capture
                stream.captureGains = { [unowned codec] in codec.inputGains }
            }
        }
    }
    var capturing = false
    /// Maps and unmaps the register window as the guest moves BAR 0.
    public var registersMoved: (_ old: UInt32?, _ new: UInt32?) -> Void = { _, _ in }

    let dma: GuestMemoryDMA
    let clock: VirtualClock
    var globalControl: UInt32 = 0
    var wakeEnable: UInt16 = 0
    var stateChange: UInt16 = 0
    var interruptControl: UInt32 = 0
    var streamSync: UInt32 = 0
    var wallClockOrigin: Int64 = 0
    var corbLow: UInt32 = 0, corbHigh: UInt32 = 0
    var corbWritePointer: UInt16 = 0
    var corbReadPointer: UInt16 = 0
    var corbResetting = false
    var corbControl: UInt8 = 0
    var corbStatus: UInt8 = 0
    var corbSize: UInt8 = IntelHDA.ringSizeValue
    var rirbLow: UInt32 = 0, rirbHigh: UInt32 = 0
    var rirbWritePointer: UInt16 = 0
    var responseInterruptCount: UInt16 = 0
    var rirbControl: UInt8 = 0
    var rirbStatus: UInt8 = 0
    var rirbSize: UInt8 = IntelHDA.ringSizeValue
    var immediateCommand: UInt32 = 0
    var immediateResponse: UInt32 = 0
    var immediateStatus: UInt16 = 0
    var positionLow: UInt32 = 0, positionHigh: UInt32 = 0

    public init(codec: HDACodec, memory: AddressSpace, memoryWritten: @escaping (PhysicalAddress, Int) -> Void,
                clock: VirtualClock, scheduler: EventScheduler) {
        self.codec = codec
        self.clock = clock
        dma = GuestMemoryDMA(memory: memory, memoryWritten: memoryWritten)
        super.init(name: "intel-hda", vendorID: IntelHDA.vendorID, deviceID: IntelHDA.deviceID, revision: IntelHDA.revision,
                   classCode: IntelHDA.audioClass, interruptPin: IntelHDA.interruptPinA)
        setConfig(PCIConfig.subsystemVendorID, word: 0x1AF4)
        setConfig(PCIConfig.subsystemID, word: 0x1100)
        defineBAR(0, size: IntelHDA.registerBytes, kind: .memory32(prefetchable: false))
        let total = IntelHDA.inputStreams + IntelHDA.outputStreams
        for index in 0..<total {
            let output = index >= IntelHDA.inputStreams
            streams.append(HDAStream(index: index, isOutput: output, dma: dma, clock: clock, scheduler: scheduler,
                                     fifo: output ? fifo : nil,
                                     codecStream: { [unowned codec] in output ? codec.outputStream : codec.inputStream },
                                     interruptChanged: { [unowned self] in self.updateInterrupt() },
                                     positionChanged: { [unowned self] in self.publishPosition($0) },
                                     started: { [unowned self] in self.started(index) },
                                     stopped: { [unowned self] in self.stopped(index) }))
        }
        barMoved = { [unowned self] _, _, _, old, new in self.registersMoved(old, new) }
        controllerReset()
    }

    /// The register window is an object of its own in the address space.
    public override var busParts: [AnyObject] { [self, registerWindow] }

    public override func reset() {
        globalControl = 0
        controllerReset()
        super.reset()
    }

    /// CRST low: the link and every register but GCTL back to their reset values.
    private func controllerReset() {
        for stream in streams { stream.resetRegisters(keepingResetBit: false) }
        wakeEnable = 0
        stateChange = 0
        interruptControl = 0
        streamSync = 0
        corbLow = 0; corbHigh = 0; corbWritePointer = 0; corbReadPointer = 0; corbResetting = false
        corbControl = 0; corbStatus = 0; corbSize = IntelHDA.ringSizeValue
        rirbLow = 0; rirbHigh = 0; rirbWritePointer = 0; responseInterruptCount = 0
        rirbControl = 0; rirbStatus = 0; rirbSize = IntelHDA.ringSizeValue
        immediateCommand = 0; immediateResponse = 0; immediateStatus = 0
        positionLow = 0; positionHigh = 0
        codec.reset()
        fifo.restart(rate: 48_000)
        updateInterrupt()
    }

    private var inReset: Bool { globalControl & IntelHDA.controllerReset == 0 }

    // MARK: Register access

    /// The start and width of the register holding `offset`.
    static func span(_ offset: UInt32) -> (start: UInt32, width: UInt32) {
        if offset >= Register.streams && offset < Register.streams + 8 * Register.streamStride {
            let base = offset - (offset - Register.streams) % Register.streamStride
            switch offset - base {
            case 0...2: return (base, 3)
            case 3: return (base + 3, 1)
            case 4...7: return (base + 4, 4)
            case 8...11: return (base + 8, 4)
            case 0xC...0xD: return (base + 0xC, 2)
            case 0xE...0xF: return (base + 0xE, 2)
            case 0x10...0x11: return (base + 0x10, 2)
            case 0x12...0x13: return (base + 0x12, 2)
            case 0x18...0x1B: return (base + 0x18, 4)
            case 0x1C...0x1F: return (base + 0x1C, 4)
            default: return (offset, 1)
            }
        }
        if offset >= Register.positionAliases && offset < Register.positionAliases + 8 * Register.streamStride {
            let base = offset - (offset - Register.positionAliases) % Register.streamStride
            if (base + 4..<base + 8).contains(offset) { return (base + 4, 4) }
            return (offset, 1)
        }
        switch offset {
        case 0x00...0x01, 0x04...0x05, 0x06...0x07, 0x0C...0x0D, 0x0E...0x0F, 0x10...0x11, 0x18...0x19, 0x1A...0x1B,
             0x48...0x49, 0x4A...0x4B, 0x58...0x59, 0x5A...0x5B, 0x68...0x69:
            return (offset & ~1, 2)
        case 0x08...0x0B, 0x20...0x27, 0x30...0x3B, 0x40...0x47, 0x50...0x57, 0x60...0x67, 0x70...0x77:
            return (offset & ~3, 4)
        default:
            return (offset, 1)
        }
    }

    func read(offset: UInt32, size: AccessSize) -> UInt32 {
        var value: UInt32 = 0
        var done: UInt32 = 0
        while done < UInt32(size.rawValue) {
            let at = offset + done
            let (start, width) = IntelHDA.span(at)
            let whole = readRegister(start)
            let end = min(start + width, offset + UInt32(size.rawValue))
            for byte in at..<end {
                value |= (whole >> (8 * (byte - start)) & 0xFF) << (8 * (byte - offset))
            }
            done = end - offset
        }
        return value
    }

    func write(offset: UInt32, value: UInt32, size: AccessSize) {
        var done: UInt32 = 0
        while done < UInt32(size.rawValue) {
            let at = offset + done
            let (start, width) = IntelHDA.span(at)
            let end = min(start + width, offset + UInt32(size.rawValue))
            var mask: UInt32 = 0
            var bytes: UInt32 = 0
            for byte in at..<end {
                mask |= 0xFF << (8 * (byte - start))
                bytes |= (value >> (8 * (byte - offset)) & 0xFF) << (8 * (byte - start))
            }
            let old = readRegister(start)
            writeRegister(start, old & ~mask | bytes, mask: mask)
            done = end - offset
        }
    }

    private func streamRegister(_ start: UInt32) -> (HDAStream, UInt32)? {
        guard start >= Register.streams, start < Register.streams + 8 * Register.streamStride else { return nil }
        let relative = start - Register.streams
        return (streams[Int(relative / Register.streamStride)], relative % Register.streamStride)
    }

    private func readRegister(_ start: UInt32) -> UInt32 {
        if let (stream, register) = streamRegister(start) { return stream.read(register) }
        if start >= Register.positionAliases, start < Register.positionAliases + 8 * Register.streamStride {
            let stream = streams[Int((start - Register.positionAliases) / Register.streamStride)]
            return stream.read(HDAStream.Offset.linkPosition)
        }
        switch start {
        case Register.capabilities: return IntelHDA.capabilitiesValue
        case Register.minorVersion: return 0
        case Register.majorVersion: return 1
        case Register.outputPayload: return 0x3C
        case Register.inputPayload: return 0x1D
        case Register.control: return globalControl
        case Register.wakeEnable: return UInt32(wakeEnable)
        case Register.stateChange: return UInt32(stateChange)
        case Register.outputStreamPayload: return 0x3C
        case Register.inputStreamPayload: return 0x1D
        case Register.interruptControl: return interruptControl
        case Register.interruptStatus: return interruptStatus
        case Register.wallClock:
            return UInt32(truncatingIfNeeded: TickConversion.ticks(inNanoseconds: clock.now - wallClockOrigin, hz: IntelHDA.wallClockHz))
        case Register.oldStreamSync, Register.streamSync: return streamSync
        case Register.corbLow: return corbLow
        case Register.corbHigh: return corbHigh
        case Register.corbWrite: return UInt32(corbWritePointer)
        case Register.corbRead: return UInt32(corbReadPointer | (corbResetting ? IntelHDA.corbReadReset : 0))
        case Register.corbControl: return UInt32(corbControl)
        case Register.corbStatus: return UInt32(corbStatus)
        case Register.corbSize: return UInt32(corbSize)
        case Register.rirbLow: return rirbLow
        case Register.rirbHigh: return rirbHigh
        case Register.rirbWrite: return UInt32(rirbWritePointer)
        case Register.responseInterruptCount: return UInt32(responseInterruptCount)
        case Register.rirbControl: return UInt32(rirbControl)
        case Register.rirbStatus: return UInt32(rirbStatus)
        case Register.rirbSize: return UInt32(rirbSize)
        case Register.immediateCommand: return immediateCommand
        case Register.immediateResponse: return immediateResponse
        case Register.immediateStatus: return UInt32(immediateStatus)
        case Register.positionLow: return positionLow
        case Register.positionHigh: return positionHigh
        default: return 0
        }
    }

    private func writeRegister(_ start: UInt32, _ value: UInt32, mask: UInt32) {
        if let (stream, register) = streamRegister(start) {
            if !inReset { stream.write(register, value, mask: mask) }
            return
        }
        if start == Register.control {
            writeGlobalControl(value)
            return
        }
        guard !inReset else { return }
        switch start {
        case Register.wakeEnable: wakeEnable = UInt16(truncatingIfNeeded: value) & 0x7FFF
        case Register.stateChange: stateChange &= ~UInt16(truncatingIfNeeded: value & mask)
        case Register.interruptControl: interruptControl = value
        case Register.oldStreamSync, Register.streamSync: streamSync = value & 0xFF
        case Register.corbLow: if corbControl & IntelHDA.corbRun == 0 { corbLow = value & ~0x7F }
        case Register.corbHigh: if corbControl & IntelHDA.corbRun == 0 { corbHigh = value }
        case Register.corbWrite:
            corbWritePointer = UInt16(truncatingIfNeeded: value) & 0xFF
            processCORB()
        case Register.corbRead:
            if UInt16(truncatingIfNeeded: value) & IntelHDA.corbReadReset != 0 {
                corbReadPointer = 0
                corbResetting = true
            } else {
                corbResetting = false
            }
        case Register.corbControl:
            corbControl = UInt8(truncatingIfNeeded: value) & (IntelHDA.corbRun | IntelHDA.corbMemoryErrorEnable)
            processCORB()
        case Register.corbStatus: corbStatus &= ~UInt8(truncatingIfNeeded: value & mask)
        case Register.corbSize: corbSize = IntelHDA.ringSizeValue & 0xF0 | UInt8(truncatingIfNeeded: value) & 0x3
        case Register.rirbLow: if rirbControl & IntelHDA.rirbDMAEnable == 0 { rirbLow = value & ~0x7F }
        case Register.rirbHigh: if rirbControl & IntelHDA.rirbDMAEnable == 0 { rirbHigh = value }
        case Register.rirbWrite:
            if UInt16(truncatingIfNeeded: value) & IntelHDA.rirbWriteReset != 0 { rirbWritePointer = 0 }
        case Register.responseInterruptCount: responseInterruptCount = UInt16(truncatingIfNeeded: value) & 0xFF
        case Register.rirbControl:
            rirbControl = UInt8(truncatingIfNeeded: value) & 0x7
            processCORB()
        case Register.rirbStatus: rirbStatus &= ~(UInt8(truncatingIfNeeded: value & mask) & 0x5)
        case Register.rirbSize: rirbSize = IntelHDA.ringSizeValue & 0xF0 | UInt8(truncatingIfNeeded: value) & 0x3
        case Register.immediateCommand: immediateCommand = value
        case Register.immediateStatus: writeImmediateStatus(UInt16(truncatingIfNeeded: value))
        case Register.positionLow:
            positionLow = value & ~0x7E
            for stream in streams where stream.isRunning { publishPosition(stream) }
        case Register.positionHigh: positionHigh = value
        default: break
        }
        updateInterrupt()
    }

    private func writeGlobalControl(_ value: UInt32) {
        let wasInReset = inReset
        globalControl = value & (IntelHDA.controllerReset | IntelHDA.acceptUnsolicited | 0x2)
        if !wasInReset && inReset {
            controllerReset()
            Log.write(.device, "intel-hda: controller reset")
        } else if wasInReset && !inReset {
            // Out of reset, the codec on SDIN 0 announces itself.
            wallClockOrigin = clock.now
            stateChange |= 0x1
            updateInterrupt()
        }
    }

    // MARK: Verbs

    static func entries(_ sizeRegister: UInt8) -> Int {
        switch sizeRegister & 0x3 {
        case 0: return 2
        case 1: return 16
        default: return 256
        }
    }

    /// Runs every verb between the read and write pointers, putting each
    /// response in the RIRB; at most one ring's worth per call.
    private func processCORB() {
        guard corbControl & IntelHDA.corbRun != 0, !corbResetting else { return }
        let corbEntries = IntelHDA.entries(corbSize)
        let rirbEntries = IntelHDA.entries(rirbSize)
        var responded = false
        var steps = 0
        while corbReadPointer != corbWritePointer % UInt16(corbEntries), steps < corbEntries {
            steps += 1
            corbReadPointer = (corbReadPointer + 1) % UInt16(corbEntries)
            guard let corb = IntelHDA.busAddress(high: corbHigh, low: corbLow, bytes: 4 * corbEntries) else {
                corbStatus |= 0x1  // memory error: a ring past the physical address space
                continue
            }
            let command = dma.readDword(corb &+ UInt64(corbReadPointer) * 4)
            guard let response = runVerb(command) else { continue }
            guard rirbControl & IntelHDA.rirbDMAEnable != 0,
                  let rirb = IntelHDA.busAddress(high: rirbHigh, low: rirbLow, bytes: 8 * rirbEntries) else { continue }
            rirbWritePointer = (rirbWritePointer + 1) % UInt16(rirbEntries)
            let slot = rirb &+ UInt64(rirbWritePointer) * 8
            dma.writeDword(slot, response)
            dma.writeDword(slot &+ 4, command >> 28)  // the codec's address; not unsolicited
            responded = true
        }
        if responded {
            // The interrupt comes after RINTCNT responses or when no verb is
            // left to run: here both are at the end of the batch.
            rirbStatus |= IntelHDA.rirbResponseInterrupt
        }
        updateInterrupt()
    }

    /// One verb to the link: the codec at address 0 answers, nothing else does.
    private func runVerb(_ command: UInt32) -> UInt32? {
        guard command >> 28 == 0 else { return nil }
        return codec.execute(command & 0x0FFF_FFFF)
    }

    private func writeImmediateStatus(_ value: UInt16) {
        if value & IntelHDA.immediateValid != 0 { immediateStatus &= ~IntelHDA.immediateValid }
        if value & IntelHDA.immediateBusy != 0 {
            if let response = runVerb(immediateCommand) {
                immediateResponse = response
                immediateStatus |= IntelHDA.immediateValid
            }
            immediateStatus &= ~IntelHDA.immediateBusy
        }
    }

    // MARK: Interrupts and positions

    var interruptStatus: UInt32 {
        var value: UInt32 = 0
        for stream in streams where stream.interruptPending { value |= 1 << UInt32(stream.index) }
        let controller = rirbStatus & IntelHDA.rirbResponseInterrupt != 0 && rirbControl & IntelHDA.rirbInterruptEnable != 0
            || rirbStatus & IntelHDA.rirbOverrun != 0 && rirbControl & IntelHDA.rirbOverrunInterruptEnable != 0
            || corbStatus & 0x1 != 0 && corbControl & IntelHDA.corbMemoryErrorEnable != 0
            || stateChange & wakeEnable != 0
        if controller { value |= IntelHDA.controllerInterruptEnable }
        let enabled = value & interruptControl & ~IntelHDA.globalInterruptEnable
        if enabled != 0 { value |= IntelHDA.globalInterruptEnable }
        return value
    }

    func updateInterrupt() {
        setINTx(interruptControl & IntelHDA.globalInterruptEnable != 0
                && interruptStatus & IntelHDA.globalInterruptEnable != 0)
    }

    private func started(_ index: Int) {
        if streams[index].isOutput {
            streamStarted()
        } else if !capturing, let capture {
            capturing = true
            capture.start()
        }
    }

    private func stopped(_ index: Int) {
        guard !streams[index].isOutput, capturing else { return }
        if !streams.contains(where: { !$0.isOutput && $0.isRunning }) {
            capturing = false
            capture?.stop()
        }
    }

    /// Writes a stream's LPIB into the DMA position buffer, when enabled.
    private func publishPosition(_ stream: HDAStream) {
        guard positionLow & IntelHDA.positionEnable != 0,
              let base = IntelHDA.busAddress(high: positionHigh, low: positionLow & ~0x7F, bytes: 8 * streams.count) else { return }
        dma.writeDword(base &+ UInt64(stream.index) * 8, stream.linkPosition)
    }

    /// A 64-bit address from its register halves, when `bytes` from it lie
    /// in the physical address space (RAM above 4 GiB included); nil past it.
    static func busAddress(high: UInt32, low: UInt32, bytes: Int) -> PhysicalAddress? {
        let address = PhysicalAddress(high) << 32 | PhysicalAddress(low)
        guard address < AddressSpace.physicalLimit, UInt64(bytes) <= AddressSpace.physicalLimit - address else { return nil }
        return address
    }

    // MARK: Sound

    public func render(into buffer: UnsafeMutablePointer<Float>, frames: Int, rate: Int) {
        let now = clock.now
        for stream in streams where stream.isRunning { stream.advance(to: now) }
        let gains = codec.outputGains
        let playing = streams.contains { $0.isOutput && $0.isRunning && $0.tag != 0 && $0.tag == codec.outputStream }
        fifo.render(into: buffer, frames: frames, hostRate: rate, now: now, left: gains.left, right: gains.right,
                    playing: playing)
    }

    public var isActive: Bool { fifo.count > 0 || streams.contains { $0.isRunning } }

    public var starvedRenders: Int { fifo.starvedRenders }

    public final class RegisterWindow: MMIOHandler {
        unowned let card: IntelHDA
        init(card: IntelHDA) { self.card = card }
        public override func read(offset: UInt32, size: AccessSize) -> UInt32 { card.read(offset: offset, size: size) }
        public override func write(offset: UInt32, value: UInt32, size: AccessSize) {
            card.write(offset: offset, value: value, size: size)
        }
    }
}

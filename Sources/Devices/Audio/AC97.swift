import Memory
import PCEmuSupport
import Timing

/// The Intel 82801AA (ICH) AC'97 audio controller, 8086:2415, as QEMU's
/// `-device AC97`: the codec's mixer registers behind I/O BAR 0 (NAM, 256
/// bytes, the primary codec in the first 128), the bus masters behind I/O
/// BAR 1 (NABM, 64 bytes: PCM in at 0x00, PCM out at 0x10, mic in at 0x20,
/// then the global control, global status and codec access semaphore), and
/// INTA#. PCM out plays through the machine's mixer at the codec's DAC rate,
/// scaled by its master and PCM volumes; the inputs record silence.
public final class AC97: PCIDevice, AudioSource {
    public static let vendorID: UInt16 = 0x8086
    public static let deviceID: UInt16 = 0x2415
    static let audioClass: UInt32 = 0x04_01_00
    static let revision: UInt8 = 0x01
    static let interruptPinA: UInt8 = 1
    public static let mixerBytes: UInt32 = 256
    public static let busMasterBytes: UInt32 = 64

    public enum BusMasterRegister {
        public static let pcmIn: UInt16 = 0x00
        public static let pcmOut: UInt16 = 0x10
        public static let micIn: UInt16 = 0x20
        public static let globalControl: UInt16 = 0x2C
        public static let globalStatus: UInt16 = 0x30
        public static let codecAccessSemaphore: UInt16 = 0x34
    }

    public enum GlobalControl {
        public static let gpiInterruptEnable: UInt32 = 0x01
        /// Zero holds the AC-link in cold reset.
        public static let coldResetOff: UInt32 = 0x02
        public static let warmReset: UInt32 = 0x04
        public static let linkShutOff: UInt32 = 0x08
        static let writable: UInt32 = 0x003F_003F
    }

    public enum GlobalStatus {
        public static let pcmInInterrupt: UInt32 = 0x20
        public static let pcmOutInterrupt: UInt32 = 0x40
        public static let micInInterrupt: UInt32 = 0x80
        public static let primaryCodecReady: UInt32 = 0x100
        public static let primaryResumeInterrupt: UInt32 = 0x400
        public static let readCompletionStatus: UInt32 = 0x8000
        static let writeOneToClear: UInt32 = 0x8C01
    }

    public let codec = AC97Codec()
    public let pcmIn: AC97Channel
    public let pcmOut: AC97Channel
    public let micIn: AC97Channel
    public lazy var mixerPorts = MixerPorts(card: self)
    public lazy var busMasterPorts = BusMasterPorts(card: self)
    /// Called when a bus master starts: the machine wakes its mixer.
    public var streamStarted: () -> Void = {}
    /// Attaches and detaches the port ranges as the guest moves BARs 0 and 1.
    public var portsMoved: (_ bar: Int, _ old: UInt16?, _ new: UInt16?) -> Void = { _, _, _ in }

    let clock: VirtualClock
    var globalControl: UInt32 = 0
    var globalStatusLatched: UInt32 = 0
    var semaphoreTaken = false

    public init(memory: AddressSpace, memoryWritten: @escaping (PhysicalAddress, Int) -> Void, clock: VirtualClock,
                scheduler: EventScheduler) {
        self.clock = clock
        let dma = GuestMemoryDMA(memory: memory, memoryWritten: memoryWritten)
        var changed: () -> Void = {}
        var started: () -> Void = {}
        var codecRef: AC97Codec?
        func channel(_ kind: AC97Channel.Kind, _ name: String) -> AC97Channel {
            AC97Channel(kind: kind, name: name, dma: dma, clock: clock, scheduler: scheduler,
                        rate: { kind == .pcmOut ? codecRef?.dacRate ?? 48_000 : codecRef?.adcRate ?? 48_000 },
                        interruptChanged: { changed() }, started: { started() })
        }
        pcmIn = channel(.pcmIn, "ac97-pcm-in")
        pcmOut = channel(.pcmOut, "ac97-pcm-out")
        micIn = channel(.micIn, "ac97-mic-in")
        super.init(name: "AC97", vendorID: AC97.vendorID, deviceID: AC97.deviceID, revision: AC97.revision,
                   classCode: AC97.audioClass, interruptPin: AC97.interruptPinA)
        codecRef = codec
        setConfig(PCIConfig.subsystemVendorID, word: AC97.vendorID)
        setConfig(PCIConfig.subsystemID, word: 0)
        defineBAR(0, size: AC97.mixerBytes, kind: .io)
        defineBAR(1, size: AC97.busMasterBytes, kind: .io)
        changed = { [unowned self] in self.updateInterrupt() }
        started = { [unowned self] in self.streamStarted() }
        codec.ratesChanged = { [unowned self] in
            self.pcmOut.rateChanged()
            self.pcmIn.rateChanged()
        }
        barMoved = { [unowned self] _, bar, _, old, new in
            self.portsMoved(bar, old.map { UInt16(truncatingIfNeeded: $0) }, new.map { UInt16(truncatingIfNeeded: $0) })
        }
        powerOn()
    }

    private func powerOn() {
        globalControl = 0
        globalStatusLatched = 0
        semaphoreTaken = false
        for channel in [pcmIn, pcmOut, micIn] { channel.powerOn() }
        codec.reset()
    }

    /// The two I/O windows are objects of their own on the port bus.
    public override var busParts: [AnyObject] { [self, mixerPorts, busMasterPorts] }

    public override func reset() {
        powerOn()
        super.reset()
    }

    // MARK: Global registers

    /// GLOB_STA: the codec is ready once the link is out of cold reset; each
    /// box's interrupt shows in its bit.
    var globalStatus: UInt32 {
        var value = globalStatusLatched
        if globalControl & GlobalControl.coldResetOff != 0 { value |= GlobalStatus.primaryCodecReady }
        if pcmIn.interruptPending { value |= GlobalStatus.pcmInInterrupt }
        if pcmOut.interruptPending { value |= GlobalStatus.pcmOutInterrupt }
        if micIn.interruptPending { value |= GlobalStatus.micInInterrupt }
        return value
    }

    func writeGlobalControl(_ value: UInt32) {
        let wasOn = globalControl & GlobalControl.coldResetOff != 0
        // Warm reset completes at once, so it always reads back clear.
        globalControl = value & GlobalControl.writable & ~GlobalControl.warmReset
        let on = globalControl & GlobalControl.coldResetOff != 0
        if wasOn != on {
            Log.write(.device, "AC97: AC-link \(on ? "out of" : "into") cold reset")
            if !on {
                for channel in [pcmIn, pcmOut, micIn] { channel.powerOn() }
                codec.reset()
            } else {
                globalStatusLatched |= GlobalStatus.primaryResumeInterrupt
            }
        }
    }

    func updateInterrupt() {
        setINTx(pcmIn.interruptPending || pcmOut.interruptPending || micIn.interruptPending)
    }

    // MARK: Mixer (NAM)

    func mixerRead(_ offset: UInt16, size: AccessSize) -> UInt32 {
        semaphoreTaken = false
        guard offset < 0x80 else {
            // No secondary codec: the read times out.
            globalStatusLatched |= GlobalStatus.readCompletionStatus
            return size.mask
        }
        let word = UInt32(codec.read(Int(offset & ~1)))
        switch size {
        case .byte: return offset & 1 == 0 ? word & 0xFF : word >> 8
        case .word: return word
        default: return word | UInt32(codec.read(Int(offset & ~1) + 2)) << 16
        }
    }

    func mixerWrite(_ offset: UInt16, value: UInt32, size: AccessSize) {
        semaphoreTaken = false
        guard offset < 0x80 else { return }
        let register = Int(offset & ~1)
        switch size {
        case .byte:
            let old = codec.read(register)
            let byte = UInt16(value & 0xFF)
            codec.write(register, offset & 1 == 0 ? old & 0xFF00 | byte : old & 0x00FF | byte << 8)
        case .word:
            codec.write(register, UInt16(truncatingIfNeeded: value))
        default:
            codec.write(register, UInt16(truncatingIfNeeded: value))
            codec.write(register + 2, UInt16(truncatingIfNeeded: value >> 16))
        }
    }

    // MARK: Bus masters (NABM)

    func busMasterRead(_ offset: UInt16, size: AccessSize) -> UInt32 {
        switch offset {
        case BusMasterRegister.globalControl..<BusMasterRegister.globalStatus:
            return globalControl >> (8 * UInt32(offset - BusMasterRegister.globalControl)) & size.mask
        case BusMasterRegister.globalStatus..<BusMasterRegister.codecAccessSemaphore:
            return globalStatus >> (8 * UInt32(offset - BusMasterRegister.globalStatus)) & size.mask
        case BusMasterRegister.codecAccessSemaphore:
            // Reading takes the semaphore; the next codec access frees it.
            let taken = semaphoreTaken
            semaphoreTaken = true
            return taken ? 1 : 0
        default:
            var value: UInt32 = 0
            for index in 0..<UInt16(size.rawValue) {
                value |= UInt32(busMasterByte(offset &+ index)) << (8 * UInt32(index))
            }
            return value
        }
    }

    private func busMasterByte(_ offset: UInt16) -> UInt8 {
        guard let channel = channel(at: offset) else { return 0 }
        return channel.readByte(offset & 0xF)
    }

    private func channel(at offset: UInt16) -> AC97Channel? {
        switch offset {
        case BusMasterRegister.pcmIn..<BusMasterRegister.pcmOut: return pcmIn
        case BusMasterRegister.pcmOut..<BusMasterRegister.micIn: return pcmOut
        case BusMasterRegister.micIn..<BusMasterRegister.micIn + 0x10: return micIn
        default: return nil
        }
    }

    func busMasterWrite(_ offset: UInt16, value: UInt32, size: AccessSize) {
        switch offset {
        case BusMasterRegister.globalControl..<BusMasterRegister.globalStatus:
            let shift = 8 * UInt32(offset - BusMasterRegister.globalControl)
            let mask = size.mask << shift
            writeGlobalControl(globalControl & ~mask | (value << shift) & mask)
        case BusMasterRegister.globalStatus..<BusMasterRegister.codecAccessSemaphore:
            let shift = 8 * UInt32(offset - BusMasterRegister.globalStatus)
            globalStatusLatched &= ~((value << shift) & GlobalStatus.writeOneToClear)
        case BusMasterRegister.codecAccessSemaphore:
            break
        default:
            for index in 0..<UInt16(size.rawValue) {
                guard let channel = channel(at: offset &+ index) else { continue }
                channel.writeByte((offset &+ index) & 0xF, UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))))
            }
        }
    }

    // MARK: Sound

    public func render(into buffer: UnsafeMutablePointer<Float>, frames: Int, rate: Int) {
        let now = clock.now
        pcmOut.advance(to: now)
        pcmIn.advance(to: now)
        micIn.advance(to: now)
        guard let fifo = pcmOut.fifo else { return }
        let gains = codec.outputGains
        fifo.render(into: buffer, frames: frames, hostRate: rate, now: now, left: gains.left, right: gains.right,
                    playing: pcmOut.isRunning)
    }

    public var isActive: Bool {
        pcmOut.isRunning || pcmIn.isRunning || micIn.isRunning || (pcmOut.fifo?.count ?? 0) > 0
    }

    /// Mixer periods that ran out of samples while PCM out played.
    public var starvedRenders: Int { pcmOut.fifo?.starvedRenders ?? 0 }

    // MARK: Port windows

    public final class MixerPorts: PortHandler {
        unowned let card: AC97
        init(card: AC97) { self.card = card }
        public override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }
        public override func read(offset: UInt16, size: AccessSize) -> UInt32 { card.mixerRead(offset, size: size) }
        public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
            card.mixerWrite(offset, value: value, size: size)
        }
    }

    public final class BusMasterPorts: PortHandler {
        unowned let card: AC97
        init(card: AC97) { self.card = card }
        public override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }
        public override func read(offset: UInt16, size: AccessSize) -> UInt32 { card.busMasterRead(offset, size: size) }
        public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
            card.busMasterWrite(offset, value: value, size: size)
        }
    }
}

import Configuration
import Devices
import Foundation
import Host
import Memory
import PCEmuSupport
import Timing

/// The machine's sound: the Sound Blaster 16 (`-device sb16`) with its OPL3,
/// or an OPL3 alone (`-device adlib`), the PC speaker
/// (`-machine pcspk-audiodev=ID`), one `AudioMixer` and the back end they play
/// through (`-audiodev pa|wav|none`). Without `-audiodev` a sound device plays
/// through PulseAudio when a server answers, and through nothing otherwise.
final class SoundDevices {
    /// PulseAudio's rate; WAV files are written at CD rate, as QEMU writes them.
    static let pulseAudioRate = 48_000
    static let wavRate = 44_100
    /// The server's buffer and the most the ring may hold: together under 60 ms.
    static let pulseAudioBufferMilliseconds = 30
    static let pulseAudioQueueMilliseconds = 25
    /// The most recorded sound waits for the guest: more than a period, which the guest takes at once.
    static let captureQueueMilliseconds = 200

    enum Backend {
        case none
        case pulseAudio(PulseAudioOutput)
        case wav(WAVFileOutput)
    }

    private(set) var soundBlaster: SoundBlaster16?
    private(set) var opl: OPL3?
    private(set) var speaker: PCSpeaker?
    private(set) var mixer: AudioMixer?
    private(set) var ac97: AC97?
    private(set) var intelHDA: IntelHDA?
    /// PulseAudio's default source, for hda-duplex's line in.
    private(set) var capture: PulseAudioInput?
    /// Where the HDA controller's registers are mapped.
    private var hdaRegion: Int?
    /// The PCI cards' port ranges, as their BARs place them.
    private var pciPorts: [String: (base: UInt16, count: Int)] = [:]
    private(set) var backend = Backend.none

    /// PCI slots of the sound cards: beyond the network cards' (from 3 up).
    static let ac97Slot = 0x1E
    static let intelHDASlot = 0x1B


    init(configuration: MachineConfiguration, chipset: Chipset, ports: IOPortBus, addressSpace: AddressSpace,
         memoryWritten: @escaping (PhysicalAddress, Int) -> Void,
         clock: VirtualClock, scheduler: EventScheduler) throws {
        let soundBlasters = configuration.devices.filter { $0.kind == "sb16" }
        let adlibs = configuration.devices.filter { $0.kind == "adlib" }
        guard soundBlasters.count + adlibs.count <= 1 else {
            throw EmulatorError.badOption("-device", "one sound card only (the sb16 has the OPL3 of an adlib)")
        }
        let ac97Cards = configuration.devices.filter { $0.kind == "AC97" }
        guard ac97Cards.count <= 1 else { throw EmulatorError.badOption("-device", "one AC97 only") }
        let card = soundBlasters.first ?? adlibs.first
        let speakerAudiodev = configuration.pcSpeakerAudiodev
        let hdaControllers = configuration.devices.filter { $0.kind == "intel-hda" }
        let hdaCodecs = configuration.devices.filter { $0.kind == "hda-duplex" || $0.kind == "hda-output" }
        guard hdaControllers.count <= 1, hdaCodecs.count <= 1 else {
            throw EmulatorError.badOption("-device", "one intel-hda with one codec (hda-duplex or hda-output) only")
        }
        guard hdaControllers.count == hdaCodecs.count else {
            throw EmulatorError.badOption(hdaControllers.first?.option ?? hdaCodecs[0].option,
                                          hdaControllers.isEmpty ? "\(hdaCodecs[0].kind) needs -device intel-hda"
                                                                 : "intel-hda needs a codec: -device hda-duplex or hda-output")
        }
        let pciCards = ac97Cards + hdaCodecs
        guard card != nil || speakerAudiodev != nil || !pciCards.isEmpty else { return }

        let audiodev = try SoundDevices.audiodev(for: [card].compactMap { $0 } + pciCards, speaker: speakerAudiodev,
                                                 in: configuration)
        backend = try SoundDevices.makeBackend(audiodev)
        let pulseServer = audiodev?.value("server")

        let opl = OPL3(clock: clock)
        if let card {
            if card.kind == "sb16" {
                let settings = try SoundDevices.soundBlasterSettings(card)
                let irqs = chipset.irqs
                let soundBlaster = SoundBlaster16(clock: clock, scheduler: scheduler, dma: chipset.dma, opl: opl,
                                                  irq: settings.irq, dma8: settings.dma8, dma16: settings.dma16,
                                                  irqLine: { irqs.line($0) })
                try ports.attach(soundBlaster, name: "sb16", base: settings.base, count: SoundBlaster16.portCount)
                let mixerChip = soundBlaster.mixer
                opl.gain = { [unowned mixerChip] in
                    mixerChip.gains(left: CT1745Mixer.Register.midiLeft, right: CT1745Mixer.Register.midiRight)
                }
                self.soundBlaster = soundBlaster
            } else {
                try SoundDevices.allowOnly(["audiodev", "iobase"], in: card)
                if let base = card.value("iobase"), SoundDevices.number(base) != Int(OPL3.adlibBase) {
                    throw EmulatorError.badOption(card.option, "the adlib sits at iobase=0x388")
                }
            }
            try ports.attach(opl, name: "opl3", base: OPL3.adlibBase, count: OPL3.portCount)
            self.opl = opl
        }
        if let ac97Card = ac97Cards.first {
            try SoundDevices.allowOnly(["audiodev", "id"], in: ac97Card)
            let ac97 = AC97(memory: addressSpace, memoryWritten: memoryWritten, clock: clock, scheduler: scheduler)
            let windows: [PortHandler] = [ac97.mixerPorts, ac97.busMasterPorts]
            let sizes = [Int(AC97.mixerBytes), Int(AC97.busMasterBytes)]
            ac97.portsMoved = { [unowned ports] bar, old, new in
                if let old { ports.detach(base: old, count: sizes[bar]) }
                if let new {
                    do { try ports.attach(windows[bar], name: bar == 0 ? "ac97-nam" : "ac97-nabm", base: new, count: sizes[bar]) } catch {
                        Log.write(.guestErrors, "AC97: BAR\(bar) at 0x\(String(new, radix: 16)) collides: \(error)")
                    }
                }
            }
            try chipset.pciBus.plug(ac97, slot: SoundDevices.ac97Slot)
            self.ac97 = ac97
        }
        if let controller = hdaControllers.first, let codecOption = hdaCodecs.first {
            try SoundDevices.allowOnly(["id"], in: controller)
            try SoundDevices.allowOnly(["audiodev", "bus"], in: codecOption)
            let codec = HDACodec(duplex: codecOption.kind == "hda-duplex")
            let hda = IntelHDA(codec: codec, memory: addressSpace, memoryWritten: memoryWritten, clock: clock, scheduler: scheduler)
            hda.registersMoved = { [unowned self, unowned hda, unowned addressSpace] _, new in
                if let old = self.hdaRegion { addressSpace.unmap(old) }
                self.hdaRegion = nil
                if let new {
                    do {
                        self.hdaRegion = try addressSpace.map("intel-hda", at: UInt64(new), size: UInt64(IntelHDA.registerBytes),
                                                              kind: .mmio(hda.registerWindow))
                    } catch {
                        Log.write(.guestErrors, "intel-hda: BAR0 at 0x\(String(new, radix: 16)) not mapped: \(error)")
                    }
                }
            }
            try chipset.pciBus.plug(hda, slot: SoundDevices.intelHDASlot)
            intelHDA = hda
        }

        let output: ((UnsafeBufferPointer<Int16>) -> Void)?
        let rate: Int
        switch backend {
        case .none: output = nil; rate = 0
        case let .pulseAudio(stream): output = { stream.enqueue($0) }; rate = stream.sampleRate
        case let .wav(file): output = { file.write($0) }; rate = file.sampleRate
        }
        guard let output else { return }
        let mixer = AudioMixer(sampleRate: rate, clock: clock, scheduler: scheduler, output: output)
        if let soundBlaster {
            soundBlaster.isAudible = true
            mixer.add(soundBlaster)
            soundBlaster.streamStarted = { [unowned mixer] in mixer.wake() }
        }
        if card != nil {
            mixer.add(opl)
            opl.keyedOn = { [unowned mixer] in mixer.wake() }
        }
        if let ac97 {
            mixer.add(ac97)
            ac97.streamStarted = { [unowned mixer] in mixer.wake() }
        }
        if let intelHDA {
            mixer.add(intelHDA)
            intelHDA.streamStarted = { [unowned mixer] in mixer.wake() }
        }
        if case .pulseAudio = backend, let intelHDA, intelHDA.codec.duplex {
            let input = PulseAudioInput(name: "pcemu", server: pulseServer, sampleRate: SoundDevices.pulseAudioRate, channels: 2,
                                        maximumQueuedMilliseconds: SoundDevices.captureQueueMilliseconds)
            intelHDA.capture = input
            capture = input
        }
        if case let .pulseAudio(stream) = backend {
            // With nothing playing the mixer and the feeding thread rest.
            mixer.mayIdle = true
            mixer.idleChanged = { [unowned stream] idle in stream.setIdle(idle) }
        }
        if speakerAudiodev != nil {
            let speaker = PCSpeaker(pit: chipset.pit, portB: chipset.portB)
            mixer.add(speaker)
            chipset.portB.speakerChanged = { [unowned mixer] on in if on { mixer.wake() } }
            self.speaker = speaker
        }
        mixer.start()
        self.mixer = mixer
    }

    /// Plays out what is queued and reports the back end's figures under `-d device`.
    func close() {
        mixer?.stop()
        capture?.close()
        if let soundBlaster, soundBlaster.isAudible {
            Log.write(.device, "sb16: \(soundBlaster.starvedRenders) mixer periods ran out of samples while playing")
        }
        if let ac97, mixer != nil {
            Log.write(.device, "AC97: \(ac97.starvedRenders) mixer periods ran out of samples while playing")
        }
        if let intelHDA, mixer != nil {
            Log.write(.device, "intel-hda: \(intelHDA.starvedRenders) mixer periods ran out of samples while playing")
        }
        if case let .pulseAudio(stream) = backend {
            stream.close()
            let latency = stream.latencyMilliseconds
            Log.write(.device, String(format: "audio: PulseAudio latency mean %.1f ms, max %.1f ms over %d writes; %d underruns; %.1f s played",
                                      latency.mean, latency.maximum, stream.latencyCount, stream.underruns,
                                      Double(stream.framesPlayed) / Double(stream.sampleRate)))
        }
        if case let .wav(file) = backend {
            Log.write(.device, String(format: "audio: %.1f s written to %@", Double(file.framesWritten) / Double(file.sampleRate), file.path))
        }
    }

    // MARK: Options

    /// The -audiodev a sound device plays through: the one it names, or the
    /// only one given; nil for the default.
    static func audiodev(for cards: [MachineConfiguration.Component], speaker: String?,
                         in configuration: MachineConfiguration) throws -> MachineConfiguration.Component? {
        let card = cards.first
        let wanted = (cards.map { $0.value("audiodev") } + [speaker]).compactMap { $0 }
        for id in wanted where !configuration.audiodevs.contains(where: { $0.value("id") == id }) {
            throw EmulatorError.badOption(card?.option ?? "-machine", "no -audiodev with id=\(id)")
        }
        if Set(wanted).count > 1 {
            throw EmulatorError.badOption(card?.option ?? "-machine", "all sound devices must use one -audiodev")
        }
        if let id = wanted.first { return configuration.audiodevs.last { $0.value("id") == id } }
        if configuration.audiodevs.count > 1 {
            throw EmulatorError.badOption(card?.option ?? "-machine", "several -audiodev given: choose one with audiodev=ID")
        }
        return configuration.audiodevs.first
    }

    static func makeBackend(_ audiodev: MachineConfiguration.Component?) throws -> Backend {
        guard let audiodev else {
            // The default: PulseAudio if a server is there to answer (never spawn one).
            guard pulseAudioServerExists(), let stream = try? openPulseAudio() else {
                Log.write(.device, "audio: no PulseAudio server; sound goes nowhere")
                return .none
            }
            return .pulseAudio(stream)
        }
        switch audiodev.kind {
        case "pa":
            try allowOnly(["id", "server"], in: audiodev)
            do { return .pulseAudio(try openPulseAudio(server: audiodev.value("server"))) } catch let error as EmulatorError {
                throw EmulatorError.badOption(audiodev.option, "\(error.description)")
            }
        case "wav":
            try allowOnly(["id", "path"], in: audiodev)
            return .wav(try WAVFileOutput(path: audiodev.value("path") ?? "", sampleRate: wavRate))
        default:
            try allowOnly(["id"], in: audiodev)
            return .none
        }
    }

    static func openPulseAudio(server: String? = nil) throws -> PulseAudioOutput {
        try PulseAudioOutput(name: "pcemu", server: server, sampleRate: pulseAudioRate, channels: 2,
                             latencyMilliseconds: pulseAudioBufferMilliseconds,
                             maximumQueuedMilliseconds: pulseAudioQueueMilliseconds)
    }

    /// PULSE_SERVER, or the per-user or system socket where a server listens.
    static func pulseAudioServerExists() -> Bool {
        let environment = ProcessInfo.processInfo.environment
        if environment["PULSE_SERVER"] != nil { return true }
        var sockets = ["/run/user/\(getuid())/pulse/native", "/var/run/pulse/native"]
        if let runtime = environment["XDG_RUNTIME_DIR"] { sockets.insert("\(runtime)/pulse/native", at: 0) }
        return sockets.contains { FileManager.default.fileExists(atPath: $0) }
    }

    struct SoundBlasterSettings {
        var base: UInt16 = SoundBlaster16.base
        var irq = SoundBlaster16.defaultIRQ
        var dma8 = SoundBlaster16.defaultDMA8
        var dma16 = SoundBlaster16.defaultDMA16
    }

    /// QEMU's sb16 properties: iobase, irq, dma, dma16, audiodev.
    static func soundBlasterSettings(_ card: MachineConfiguration.Component) throws -> SoundBlasterSettings {
        try allowOnly(["audiodev", "iobase", "irq", "dma", "dma16"], in: card)
        var settings = SoundBlasterSettings()
        func value(_ key: String, among allowed: [Int]) throws -> Int? {
            guard let text = card.value(key) else { return nil }
            guard let number = number(text), allowed.contains(number) else {
                throw EmulatorError.badOption(card.option, "\(key)=\(text) is not one of \(allowed.map { key == "iobase" ? "0x" + String($0, radix: 16) : String($0) }.joined(separator: ", "))")
            }
            return number
        }
        if let base = try value("iobase", among: [0x220, 0x240, 0x260, 0x280]) { settings.base = UInt16(base) }
        if let irq = try value("irq", among: SoundBlaster16.selectableIRQs) { settings.irq = irq }
        if let dma = try value("dma", among: CT1745Mixer.dma8Bits.map(\.channel)) { settings.dma8 = dma }
        if let dma16 = try value("dma16", among: CT1745Mixer.dma16Bits.map(\.channel)) { settings.dma16 = dma16 }
        return settings
    }

    static func allowOnly(_ keys: Set<String>, in component: MachineConfiguration.Component) throws {
        if let unknown = component.properties.first(where: { !keys.contains($0.key) }) {
            throw EmulatorError.badOption(component.option, "\(component.kind) has no property '\(unknown.key)'")
        }
    }

    /// Decimal or 0x-prefixed hexadecimal.
    static func number(_ text: String) -> Int? {
        text.lowercased().hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
    }
}

/// PulseAudio's default source is what hda-duplex's line in records.
extension PulseAudioInput: AudioCapture {}

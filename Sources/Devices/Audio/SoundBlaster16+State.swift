import Lifecycle

/// The DSP (a command and its arguments half written, unread replies, rates,
/// the speaker, the ASP registers), both DMA engines (format, block size and
/// position, the guest time their byte count runs from), the block-end and
/// silence timers, and the CT1745 mixer. The OPL3 is its own device. The
/// FIFO of decoded samples is host-side (what the host has not played yet):
/// a load empties it and the stream starts again from the DMA position.
extension SoundBlaster16: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "sb16"
    /// More unread reply bytes than any guest leaves (the copyright string is 45).
    static let maximumSavedOutput = 1 << 16
    static let maximumArguments = 3
    static let engineFlags: [(name: String, path: WritableKeyPath<Engine, Bool>)] = [
        ("active", \.active), ("paused", \.paused), ("autoInit", \.autoInit), ("exitAutoInit", \.exitAutoInit),
        ("input", \.input), ("sixteenBit", \.sixteenBit), ("stereo", \.stereo), ("signed", \.signed),
    ]

    public func save(into record: inout StateRecord) {
        record.put("resetting", state.resetting)
        record.put("hasCommand", state.command != nil)
        record.put("command", state.command ?? 0)
        record.put("arguments", state.arguments)
        record.put("output", state.output)
        record.put("lastRead", state.lastRead)
        record.put("sampleRate", state.sampleRate)
        record.put("legacyBlockBytes", state.legacyBlockBytes)
        record.put("speakerOn", state.speakerOn)
        record.put("testRegister", state.testRegister)
        record.put("aspRegisters", state.aspRegisters)
        record.put("engines", state.engines.map { engine in
            var saved = StateRecord(name: "sb16-engine", version: 1)
            for flag in SoundBlaster16.engineFlags { saved.put(flag.name, engine[keyPath: flag.path]) }
            saved.put("channel", engine.channel)
            saved.put("bytesPerSecond", engine.bytesPerSecond)
            saved.put("blockBytes", engine.blockBytes)
            saved.put("bytesLeftInBlock", engine.bytesLeftInBlock)
            saved.put("origin", engine.origin)
            saved.put("bytesSinceOrigin", engine.bytesSinceOrigin)
            return saved
        })
        for timer in blockTimers + [silenceTimer!] { record.putTimer(timer, clock: clock) }
        record.put("mixer", mixer.savedState)
    }

    public func load(from record: StateRecord) throws {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: SoundBlaster16.stateName, field: field) }
        var loaded = State()
        loaded.resetting = try record.bool("resetting")
        let command: UInt8 = try record.unsigned("command")
        loaded.command = try record.bool("hasCommand") ? command : nil
        loaded.arguments = try record.bytes("arguments")
        // A command waiting for arguments has fewer than it takes; the last one run keeps all of its own.
        if let command = loaded.command {
            guard loaded.arguments.count < SoundBlaster16.argumentCount(command) else { throw refuse("command") }
        } else if loaded.arguments.count > SoundBlaster16.maximumArguments {
            throw refuse("arguments")
        }
        loaded.output = try record.bytes("output")
        guard loaded.output.count <= SoundBlaster16.maximumSavedOutput else { throw refuse("output") }
        loaded.lastRead = try record.unsigned("lastRead")
        loaded.sampleRate = try record.int("sampleRate", in: 1...1_000_000)
        loaded.legacyBlockBytes = try record.int("legacyBlockBytes", in: 1...0x10000)
        loaded.speakerOn = try record.bool("speakerOn")
        loaded.testRegister = try record.unsigned("testRegister")
        loaded.aspRegisters = try record.bytes("aspRegisters", count: 256)
        loaded.engines = try record.records("engines", count: 2).map { saved in
            try saved.expect("sb16-engine", version: 1)
            var engine = Engine()
            for flag in SoundBlaster16.engineFlags { engine[keyPath: flag.path] = try saved.bool(flag.name) }
            engine.channel = try saved.int("channel", in: 0...(DMA8237.channelCount - 1))
            engine.bytesPerSecond = Int64(try saved.int("bytesPerSecond", in: 1...8_000_000))
            engine.blockBytes = try saved.int("blockBytes", in: 0...0x20000)
            engine.bytesLeftInBlock = try saved.int("bytesLeftInBlock", in: 0...engine.blockBytes)
            engine.origin = try saved.signed("origin")
            engine.bytesSinceOrigin = Int64(try saved.int("bytesSinceOrigin", in: 0...Int.max))
            guard engine.origin <= clock.now else { throw StateRecordError.outOfRange(record: "sb16-engine", field: "origin") }
            return engine
        }
        let timers = try (blockTimers + [silenceTimer!]).map { ($0, try record.savedTimer($0)) }
        let loadMixer = try mixer.prepareLoad(try record.record("mixer"))

        state = loaded
        loadMixer()
        for (timer, remaining) in timers { StateRecord.arm(timer, remaining: remaining, clock: clock, scheduler: scheduler) }
        // The decoder follows the playing engine's format; the samples start again from here.
        if let playing = loaded.engines.first(where: { $0.active && !$0.input }) {
            decoder = Decoder(sixteenBit: playing.sixteenBit, stereo: playing.stereo, signed: playing.signed)
            fifoRate = max(Int(playing.bytesPerSecond) / (playing.stereo ? 2 : 1) / (playing.sixteenBit ? 2 : 1), 1)
        }
        fifo.removeAll(keepingCapacity: true)
        fifoPosition = 0
        fifoStarved = true
        updateInterruptLine()
    }
}

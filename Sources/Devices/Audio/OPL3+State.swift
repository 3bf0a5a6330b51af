import Lifecycle

/// The selected register, both banks of registers, the two timers (their
/// start on the virtual clock and overflows seen), and each operator's
/// place in its note (envelope stage and level, phase, last outputs) and the
/// LFO's, so a held note sounds on after a load. The operators' and
/// channels' settings are decoded again from the loaded registers.
extension OPL3: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "opl3"
    static let registerCount = 0x200
    static let operatorFloats: [(name: String, path: WritableKeyPath<Operator, Float>)] = [
        ("envelope", \.envelope), ("attackLevel", \.attackLevel), ("output", \.output), ("previousOutput", \.previousOutput),
    ]

    public func save(into record: inout StateRecord) {
        record.put("address", state.address)
        record.put("registers", state.registers)
        record.put("timers", state.timers.map { timer in
            var saved = StateRecord(name: "opl3-timer", version: 1)
            saved.put("value", timer.value)
            saved.put("running", timer.running)
            saved.put("masked", timer.masked)
            saved.put("start", timer.start)
            saved.put("overflows", timer.overflows)
            saved.put("flag", timer.flag)
            return saved
        })
        record.put("stages", state.operators.map(\.stage.rawValue))
        record.put("phases", words: state.operators.map(\.phase.bitPattern))
        for field in OPL3.operatorFloats {
            record.put(field.name, words: state.operators.map { $0[keyPath: field.path].bitPattern })
        }
        record.put("lfoTime", state.lfoTime.bitPattern)
    }

    public func load(from record: StateRecord) throws {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: OPL3.stateName, field: field) }
        let registers = try record.bytes("registers", count: OPL3.registerCount)
        // Settings as the registers make them, decoded by writing them into a scratch chip.
        let scratch = OPL3(clock: clock)
        for bank in [0, 0x100] {
            for register in 0x20...0xFF { scratch.writeRegister(bank | register, registers[bank | register]) }
        }
        var loaded = scratch.state
        loaded.registers = registers
        loaded.address = try record.int("address", in: 0...(OPL3.registerCount - 1))
        loaded.timers = try record.records("timers", count: 2).map { saved in
            try saved.expect("opl3-timer", version: 1)
            var timer = Timer()
            timer.value = try saved.unsigned("value")
            timer.running = try saved.bool("running")
            timer.masked = try saved.bool("masked")
            timer.start = try saved.signed("start")
            timer.overflows = Int64(try saved.int("overflows", in: 0...Int.max))
            timer.flag = try saved.bool("flag")
            guard timer.start <= clock.now else { throw StateRecordError.outOfRange(record: "opl3-timer", field: "start") }
            return timer
        }
        let count = loaded.operators.count
        let stages = try record.bytes("stages", count: count).map { Stage(rawValue: $0) }
        let phases = try record.words("phases", count: count, as: UInt64.self).map(Double.init(bitPattern:))
        guard stages.allSatisfy({ $0 != nil }) else { throw refuse("stages") }
        guard phases.allSatisfy({ $0.isFinite }) else { throw refuse("phases") }
        for (index, stage) in stages.enumerated() {
            loaded.operators[index].stage = stage!
            loaded.operators[index].phase = phases[index]
        }
        for field in OPL3.operatorFloats {
            let values = try record.words(field.name, count: count, as: UInt32.self).map(Float.init(bitPattern:))
            guard values.allSatisfy({ $0.isFinite }) else { throw refuse(field.name) }
            for (index, value) in values.enumerated() { loaded.operators[index][keyPath: field.path] = value }
        }
        loaded.lfoTime = Double(bitPattern: try record.unsigned("lfoTime"))
        guard loaded.lfoTime.isFinite else { throw refuse("lfoTime") }
        state = loaded
    }
}

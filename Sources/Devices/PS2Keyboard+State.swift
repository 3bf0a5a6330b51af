import Lifecycle

/// The keyboard's settings (scanning, scancode set, LEDs, typematic, a command
/// waiting for its argument) and queues. The host's held modifier keys are
/// the host's, not saved.
extension PS2Keyboard {
    func save() -> StateRecord {
        var record = StateRecord(name: "ps2-keyboard", version: 1)
        record.put("scanning", state.scanning)
        record.put("scancodeSet", UInt8(state.scancodeSet))
        record.put("leds", state.leds.rawValue)
        record.put("typematic", state.typematic)
        record.put("pendingCommand", optional: state.pendingCommand)
        record.put("overrunQueued", state.overrunQueued)
        saveQueues(into: &record)
        return record
    }

    /// Checks `record` whole and returns what applies it.
    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect("ps2-keyboard", version: 1)
        var loaded = State()
        loaded.scanning = try record.bool("scanning")
        loaded.scancodeSet = Int(try record.unsigned("scancodeSet", as: UInt8.self))
        guard (1...3).contains(loaded.scancodeSet) else { throw StateRecordError.outOfRange(record: record.name, field: "scancodeSet") }
        loaded.leds = LEDs(rawValue: try record.unsigned("leds"))
        guard LEDs.all.isSuperset(of: loaded.leds) else { throw StateRecordError.outOfRange(record: record.name, field: "leds") }
        loaded.typematic = try record.unsigned("typematic")
        loaded.pendingCommand = try record.optionalByte("pendingCommand")
        loaded.overrunQueued = try record.bool("overrunQueued")
        let queues = try savedQueues(record)
        return { [unowned self] in
            let ledsBefore = state.leds
            state = loaded
            restore(queues)
            if loaded.leds != ledsBefore { ledsChanged(loaded.leds) }
        }
    }
}

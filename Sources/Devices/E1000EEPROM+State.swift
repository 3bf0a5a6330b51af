import Lifecycle

/// The EEPROM's image and a Microwire transfer under way (the pins software
/// drives, the command bits clocked in, a word shifting out). The image is
/// made from the configured MAC address and the guest cannot write it: a
/// record with another image is from another configuration.
extension E1000EEPROM {
    static let stateName = "e1000-eeprom"
    static let stateVersion: UInt32 = 1
    static let commandLength = 3 + addressBits

    var savedState: StateRecord {
        var record = StateRecord(name: E1000EEPROM.stateName, version: E1000EEPROM.stateVersion)
        record.put("words", words: words)
        record.put("pins", pins)
        record.put("dataOut", dataOut)
        record.put("command", command)
        record.put("commandBits", commandBits)
        record.put("reading", reading != nil)
        record.put("readingWord", reading ?? 0)
        record.put("bitsOut", bitsOut)
        return record
    }

    /// This EEPROM as `record` says, or an error; `self` is not changed.
    func loaded(from record: StateRecord) throws -> E1000EEPROM {
        try record.expect(E1000EEPROM.stateName, version: E1000EEPROM.stateVersion)
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: E1000EEPROM.stateName, field: field) }
        var loaded = self
        guard try record.words("words", count: E1000EEPROM.wordCount, as: UInt16.self) == words else {
            throw StateRecordError.configurationMismatch(record: E1000EEPROM.stateName, reason: "the EEPROM holds another MAC address")
        }
        loaded.pins = try record.unsigned("pins")
        guard loaded.pins & ~EECD.writable == 0 else { throw refuse("pins") }
        loaded.dataOut = try record.bool("dataOut")
        loaded.commandBits = try record.int("commandBits", in: 0...E1000EEPROM.commandLength)
        loaded.command = try record.unsigned("command")
        guard loaded.command >> loaded.commandBits == 0 else { throw refuse("command") }
        let word: UInt16 = try record.unsigned("readingWord")
        loaded.reading = try record.bool("reading") ? word : nil
        loaded.bitsOut = try record.int("bitsOut", in: 0...Int(Int32.max))
        return loaded
    }
}

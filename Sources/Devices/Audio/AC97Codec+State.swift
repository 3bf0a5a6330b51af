import Lifecycle

/// The codec's 64 registers. Bits the guest cannot write must hold their
/// power-on values, registers the codec does not have stay 0, and the
/// converter rates lie in the 8-48 kHz the codec allows.
extension AC97Codec {
    static let stateName = "ac97-codec"
    static let stateVersion: UInt32 = 1

    var savedState: StateRecord {
        var record = StateRecord(name: AC97Codec.stateName, version: AC97Codec.stateVersion)
        record.put("registers", words: registers)
        return record
    }

    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect(AC97Codec.stateName, version: AC97Codec.stateVersion)
        let loaded = try record.words("registers", count: registers.count, as: UInt16.self)
        let fits = loaded.indices.allSatisfy { index in
            guard let entry = AC97Codec.layout[index << 1] else { return loaded[index] == 0 }
            return loaded[index] & ~entry.writable == entry.reset & ~entry.writable
        } && [Register.frontDACRate, Register.adcRate].allSatisfy { (8_000...Int(AC97Codec.fixedRate)).contains(Int(loaded[$0 >> 1])) }
        guard fits else { throw StateRecordError.outOfRange(record: AC97Codec.stateName, field: "registers") }
        return { [unowned self] in registers = loaded }
    }
}

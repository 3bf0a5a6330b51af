import Lifecycle

/// The mixer's index, its 256 registers (volumes and the IRQ/DMA selection)
/// and the interrupt status the DSP keeps in it.
extension CT1745Mixer {
    static let stateName = "ct1745"
    static let stateVersion: UInt32 = 1

    var savedState: StateRecord {
        var record = StateRecord(name: CT1745Mixer.stateName, version: CT1745Mixer.stateVersion)
        record.put("index", index)
        record.put("registers", registers)
        record.put("interruptStatus", interruptStatus)
        return record
    }

    /// Checks `record`, changing nothing; the closure returned takes it.
    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect(CT1745Mixer.stateName, version: CT1745Mixer.stateVersion)
        let loadedIndex: UInt8 = try record.unsigned("index")
        let loadedRegisters = try record.bytes("registers", count: registers.count)
        // The IRQ select register keeps its low four bits only.
        guard loadedRegisters[Int(Register.irqSelect)] & ~0x0F == 0 else {
            throw StateRecordError.outOfRange(record: CT1745Mixer.stateName, field: "registers")
        }
        let loadedStatus: UInt8 = try record.unsigned("interruptStatus")
        return { [unowned self] in
            index = loadedIndex
            registers = loadedRegisters
            interruptStatus = loadedStatus
        }
    }
}

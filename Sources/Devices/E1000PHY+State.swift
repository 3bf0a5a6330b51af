import Lifecycle

/// The PHY's 32 registers. Those the guest cannot write (identity, status,
/// the partner's abilities) must hold their power-on values.
extension E1000PHY {
    static let stateName = "e1000-phy"
    static let stateVersion: UInt32 = 1
    static let readOnly = [Register.status, Register.identifier1, Register.identifier2, Register.partnerAbility,
                           Register.gigabitStatus, Register.specificStatus]

    var savedState: StateRecord {
        var record = StateRecord(name: E1000PHY.stateName, version: E1000PHY.stateVersion)
        record.put("registers", words: registers)
        return record
    }

    static func loaded(from record: StateRecord) throws -> E1000PHY {
        try record.expect(stateName, version: stateVersion)
        var loaded = E1000PHY()
        let saved = try record.words("registers", count: loaded.registers.count, as: UInt16.self)
        guard readOnly.allSatisfy({ saved[$0] == loaded.registers[$0] }),
              saved[Register.control] & (Control.reset | Control.restartAutoNegotiation) == 0 else {
            throw StateRecordError.outOfRange(record: stateName, field: "registers")
        }
        loaded.registers = saved
        return loaded
    }
}

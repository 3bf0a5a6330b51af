import Lifecycle

/// The configuration space (PMBASE, its enable), the PM1 and GPE registers,
/// APM's two ports, and the PM timer's origin on the virtual clock. Loading
/// moves the PM block to the saved PMBASE and recomputes the SCI and the
/// timer-status event from the loaded registers.
extension PIIX4PM: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1

    public func saveFunction(into record: inout StateRecord) {
        saveConfigSpace(into: &record)
        record.put("status", state.status)
        record.put("enable", state.enable)
        record.put("control", state.control)
        record.put("timerChangesSeen", state.timerChangesSeen)
        record.put("generalPurposeStatus", state.generalPurposeStatus)
        record.put("generalPurposeEnable", state.generalPurposeEnable)
        record.put("otherRegisters", state.otherRegisters)
        record.put("apmControl", state.apmControl)
        record.put("apmStatus", state.apmStatus)
        record.put("timerOrigin", timerOrigin)
    }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: record.name, field: field) }
        let saved = try checkedConfigSpace(record)
        var loaded = State()
        loaded.status = try record.unsigned("status")
        loaded.enable = try record.unsigned("enable")
        guard loaded.enable & ~PM1Status.sciEvents == 0 else { throw refuse("enable") }
        loaded.control = try record.unsigned("control")
        guard loaded.control & ~PM1Control.writable == 0 else { throw refuse("control") }
        loaded.generalPurposeStatus = try record.unsigned("generalPurposeStatus")
        loaded.generalPurposeEnable = try record.unsigned("generalPurposeEnable")
        loaded.otherRegisters = try record.bytes("otherRegisters", count: PIIX4PM.pmIOSize)
        loaded.apmControl = try record.unsigned("apmControl")
        loaded.apmStatus = try record.unsigned("apmStatus")
        let origin = try record.signed("timerOrigin")
        guard origin <= clock.now else { throw refuse("timerOrigin") }
        loaded.timerChangesSeen = try record.signed("timerChangesSeen")
        return { [unowned self] in
            apply(saved)
            state = loaded
            timerOrigin = origin
            updatePMBase()
            update()
        }
    }
}

import Lifecycle

/// The mouse's modes and settings, the wheel unlock sequence, motion and
/// buttons not yet reported, and its queues.
extension PS2Mouse {
    func save() -> StateRecord {
        var record = StateRecord(name: "ps2-mouse", version: 1)
        record.put("reporting", state.reporting)
        record.put("remoteMode", state.remoteMode)
        record.put("wrapMode", state.wrapMode)
        record.put("scaling2to1", state.scaling2to1)
        record.put("sampleRate", state.sampleRate)
        record.put("resolution", state.resolution)
        record.put("deviceID", state.deviceID)
        record.put("recentRates", [state.recentRates.0, state.recentRates.1, state.recentRates.2])
        record.put("pendingCommand", optional: state.pendingCommand)
        record.put("dx", state.dx)
        record.put("dy", state.dy)
        record.put("dz", state.dz)
        record.put("buttons", state.buttons.rawValue)
        record.put("reportedButtons", state.reportedButtons.rawValue)
        saveQueues(into: &record)
        return record
    }

    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect("ps2-mouse", version: 1)
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: record.name, field: field) }
        var loaded = State()
        loaded.reporting = try record.bool("reporting")
        loaded.remoteMode = try record.bool("remoteMode")
        loaded.wrapMode = try record.bool("wrapMode")
        loaded.scaling2to1 = try record.bool("scaling2to1")
        loaded.sampleRate = try record.unsigned("sampleRate")
        loaded.resolution = try record.unsigned("resolution")
        guard loaded.resolution <= PS2Mouse.maximumResolution else { throw refuse("resolution") }
        loaded.deviceID = try record.unsigned("deviceID")
        guard loaded.deviceID == DeviceID.standard || loaded.deviceID == DeviceID.wheel else { throw refuse("deviceID") }
        let rates = try record.bytes("recentRates", count: 3)
        loaded.recentRates = (rates[0], rates[1], rates[2])
        loaded.pendingCommand = try record.optionalByte("pendingCommand")
        // The accumulators never leave ±2^20 (see `move`).
        let limit = 1 << 20
        loaded.dx = try record.int("dx", in: -limit...limit)
        loaded.dy = try record.int("dy", in: -limit...limit)
        loaded.dz = try record.int("dz", in: -limit...limit)
        let allButtons: Buttons = [.left, .right, .middle]
        loaded.buttons = Buttons(rawValue: try record.unsigned("buttons"))
        loaded.reportedButtons = Buttons(rawValue: try record.unsigned("reportedButtons"))
        guard allButtons.isSuperset(of: loaded.buttons) else { throw refuse("buttons") }
        guard allButtons.isSuperset(of: loaded.reportedButtons) else { throw refuse("reportedButtons") }
        let queues = try savedQueues(record)
        return { [unowned self] in
            state = loaded
            restore(queues)
        }
    }
}

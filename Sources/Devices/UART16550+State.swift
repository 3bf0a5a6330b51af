import Lifecycle

/// The registers, the unread bytes of the receive FIFO, the pending
/// interrupt causes and the character-timeout timer. The back end (where the
/// port's bytes go on the host) is the machine's configuration, not state.
extension UART16550: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "ns16550a"
    static let triggerLevels: Set<Int> = [1, 4, 8, 14]

    public func save(into record: inout StateRecord) {
        record.put("interruptEnable", state.interruptEnable)
        record.put("lineControl", state.lineControl)
        record.put("modemControl", state.modemControl)
        record.put("lineStatus", state.lineStatus)
        record.put("modemStatusDeltas", state.modemStatusDeltas)
        record.put("scratch", state.scratch)
        record.put("divisor", state.divisor)
        record.put("fifoEnabled", state.fifoEnabled)
        record.put("triggerLevel", state.triggerLevel)
        record.put("receive", state.receive.contents)
        record.put("transmitterEmptyPending", state.transmitterEmptyPending)
        record.put("timeoutPending", state.timeoutPending)
        record.putTimer(timeoutTimer, clock: clock)
    }

    public func load(from record: StateRecord) throws {
        var loaded = State()
        loaded.interruptEnable = try record.unsigned("interruptEnable")
        loaded.lineControl = try record.unsigned("lineControl")
        loaded.modemControl = try record.unsigned("modemControl")
        loaded.lineStatus = try record.unsigned("lineStatus")
        loaded.modemStatusDeltas = try record.unsigned("modemStatusDeltas")
        loaded.scratch = try record.unsigned("scratch")
        loaded.divisor = try record.unsigned("divisor")
        loaded.fifoEnabled = try record.bool("fifoEnabled")
        loaded.triggerLevel = try record.int("triggerLevel", in: 1...14)
        guard UART16550.triggerLevels.contains(loaded.triggerLevel) else {
            throw StateRecordError.outOfRange(record: UART16550.stateName, field: "triggerLevel")
        }
        let received = try record.bytes("receive")
        guard received.count <= (loaded.fifoEnabled ? ReceiveFIFO.capacity : 1) else {
            throw StateRecordError.outOfRange(record: UART16550.stateName, field: "receive")
        }
        for byte in received { loaded.receive.push(byte) }
        loaded.transmitterEmptyPending = try record.bool("transmitterEmptyPending")
        loaded.timeoutPending = try record.bool("timeoutPending")
        try record.loadTimer(timeoutTimer, clock: clock, scheduler: scheduler)
        state = loaded
        updateInterrupt()
    }
}

import Lifecycle

/// The CMOS RAM with the clock's registers, the calendar's time base on the
/// virtual clock, the selected index and NMI mask, IRQ 8, and the periodic
/// and update-cycle timers as armed.
extension MC146818: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "mc146818"

    public func save(into record: inout StateRecord) {
        record.put("ram", ram)
        record.put("index", state.index)
        record.put("nmiDisabled", state.nmiDisabled)
        record.put("flagsCheckedAt", state.flagsCheckedAt)
        record.put("timeBaseSeconds", timeBaseSeconds)
        record.put("timeBaseNanoseconds", timeBaseNanoseconds)
        record.put("irq", irq.level)
        record.putTimer(periodicTimer, clock: clock)
        record.putTimer(updateTimer, clock: clock)
    }

    public func load(from record: StateRecord) throws {
        let loadedRAM = try record.bytes("ram", count: MC146818.ramSize)
        var loaded = State()
        loaded.index = try record.int("index", in: 0...(MC146818.ramSize - 1))
        loaded.nmiDisabled = try record.bool("nmiDisabled")
        loaded.flagsCheckedAt = try record.signed("flagsCheckedAt")
        guard loaded.flagsCheckedAt <= clock.now else {
            throw StateRecordError.outOfRange(record: MC146818.stateName, field: "flagsCheckedAt")
        }
        let seconds = try record.signed("timeBaseSeconds"), nanoseconds = try record.signed("timeBaseNanoseconds")
        let level = try record.bool("irq")
        try record.loadTimer(periodicTimer, clock: clock, scheduler: scheduler)
        try record.loadTimer(updateTimer, clock: clock, scheduler: scheduler)
        ram = loadedRAM
        state = loaded
        timeBaseSeconds = seconds
        timeBaseNanoseconds = nanoseconds
        irq.set(level)
    }
}

import Lifecycle

/// IA32_APIC_BASE, every register (IRR, ISR and TMR as 8 words each, the
/// LVT, the ICR, the error state), the timer's count and start on the saved
/// virtual clock, the TSC deadline, LINT0/LINT1's levels and the armed timer
/// event. Loading moves the register page if the base differs, and drives
/// the CPU's INTR to what the loaded registers say.
extension LocalAPIC: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "local-apic"

    public func save(into record: inout StateRecord) {
        record.put("apicID", apicID)
        record.put("base", state.base)
        record.put("taskPriority", state.taskPriority)
        record.put("logicalDestination", state.logicalDestination)
        record.put("destinationFormat", state.destinationFormat)
        record.put("spurious", state.spurious)
        record.put("inService", words: state.inService)
        record.put("triggerMode", words: state.triggerMode)
        record.put("request", words: state.request)
        record.put("pendingErrors", state.pendingErrors)
        record.put("errorStatus", state.errorStatus)
        record.put("commandLow", state.commandLow)
        record.put("commandHigh", state.commandHigh)
        record.put("lvt", words: state.lvt)
        record.put("divideConfiguration", state.divideConfiguration)
        record.put("initialCount", state.initialCount)
        record.put("countStart", state.countStart)
        record.put("oneShotPending", state.oneShotPending)
        record.put("tscDeadline", state.tscDeadline)
        record.put("tscDeadlineTime", state.tscDeadlineTime)
        record.put("lint", flags: state.lint)
        record.putTimer(timerEvent, clock: clock)
    }

    public func load(from record: StateRecord) throws {
        func check(_ ok: Bool, _ field: String) throws {
            if !ok { throw StateRecordError.outOfRange(record: LocalAPIC.stateName, field: field) }
        }
        let savedID: UInt8 = try record.unsigned("apicID")
        guard savedID == apicID else {
            throw StateRecordError.configurationMismatch(record: LocalAPIC.stateName, reason: "APIC ID \(savedID), this CPU's is \(apicID)")
        }
        var loaded = State()
        loaded.base = try record.unsigned("base")
        try check(loaded.base & ~(BaseMSR.writable | BaseMSR.bootstrapProcessor) == 0
                  && (loaded.base & BaseMSR.bootstrapProcessor != 0) == isBootstrapProcessor, "base")
        loaded.taskPriority = try record.unsigned("taskPriority")
        try check(loaded.taskPriority <= 0xFF, "taskPriority")
        loaded.logicalDestination = try record.unsigned("logicalDestination")
        try check(loaded.logicalDestination & 0x00FF_FFFF == 0, "logicalDestination")
        loaded.destinationFormat = try record.unsigned("destinationFormat")
        try check(loaded.destinationFormat & 0x0FFF_FFFF == 0x0FFF_FFFF, "destinationFormat")
        loaded.spurious = try record.unsigned("spurious")
        try check(loaded.spurious & ~(SpuriousBit.vector | SpuriousBit.softwareEnable | SpuriousBit.focusCheckDisabled) == 0, "spurious")
        loaded.inService = try record.words("inService", count: 8)
        loaded.triggerMode = try record.words("triggerMode", count: 8)
        loaded.request = try record.words("request", count: 8)
        loaded.pendingErrors = try record.unsigned("pendingErrors")
        loaded.errorStatus = try record.unsigned("errorStatus")
        try check(loaded.pendingErrors <= 0xFF, "pendingErrors")
        try check(loaded.errorStatus <= 0xFF, "errorStatus")
        loaded.commandLow = try record.unsigned("commandLow")
        try check(loaded.commandLow & ~Command.writableLow == 0, "commandLow")
        loaded.commandHigh = try record.unsigned("commandHigh")
        try check(loaded.commandHigh & 0x00FF_FFFF == 0, "commandHigh")
        loaded.lvt = try record.words("lvt", count: LVT.allCases.count)
        try check(zip(loaded.lvt, LocalAPIC.lvtWritable).allSatisfy { $0 & ~($1 | LVTBit.remoteIRR) == 0 }
                  && loaded.lvt[LVT.timer.rawValue] & LVTBit.timerMode != LVTBit.timerMode, "lvt")
        loaded.divideConfiguration = try record.unsigned("divideConfiguration")
        try check(loaded.divideConfiguration & ~0xB == 0, "divideConfiguration")
        loaded.initialCount = try record.unsigned("initialCount")
        loaded.countStart = try record.signed("countStart")
        try check(loaded.countStart <= clock.now, "countStart")
        loaded.oneShotPending = try record.bool("oneShotPending")
        loaded.tscDeadline = try record.unsigned("tscDeadline")
        loaded.tscDeadlineTime = try record.signed("tscDeadlineTime")
        loaded.lint = try record.flags("lint", count: 2)
        let remaining = try record.savedTimer(timerEvent)

        let oldPage = hardwareEnabled ? pageBase : nil
        loaded.output = state.output
        state = loaded
        StateRecord.arm(timerEvent, remaining: remaining, clock: clock, scheduler: scheduler)
        let newPage = hardwareEnabled ? pageBase : nil
        if oldPage != newPage { baseChanged(oldPage, newPage) }
        updateOutput()
    }
}

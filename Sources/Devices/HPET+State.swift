import Lifecycle

/// The general registers, the counter's base and start time (on the saved
/// virtual clock), each comparator with its period, its armed match and the
/// GSI it holds high.
extension HPET: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "hpet"

    public func save(into record: inout StateRecord) {
        // Idle periodic comparators are saved as they stand now.
        for index in 0..<HPET.timerCount { catchUp(index) }
        record.put("configuration", configuration)
        record.put("interruptStatus", interruptStatus)
        record.put("counterBase", counterBase)
        record.put("startTime", startTime)
        record.put("timers", timers.indices.map { index in
            var saved = StateRecord(name: "hpet-timer", version: 1)
            saved.put("configuration", timers[index].configuration)
            saved.put("comparator", timers[index].comparator)
            saved.put("period", timers[index].period)
            saved.put("wrapPending", timers[index].wrapPending)
            saved.put("assertedGSI", assertedGSI[index] ?? -1)
            saved.putTimer(matchEvents[index], clock: clock)
            return saved
        })
    }

    public func load(from record: StateRecord) throws {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: HPET.stateName, field: field) }
        let newConfiguration: UInt64 = try record.unsigned("configuration")
        guard newConfiguration & ~(Configuration.enable | Configuration.legacyReplacement) == 0 else { throw refuse("configuration") }
        let newStatus: UInt64 = try record.unsigned("interruptStatus")
        guard newStatus >> UInt64(HPET.timerCount) == 0 else { throw refuse("interruptStatus") }
        let newBase: UInt64 = try record.unsigned("counterBase")
        let newStart = try record.signed("startTime")
        guard newStart <= clock.now else { throw refuse("startTime") }
        let savedTimers = try record.records("timers", count: HPET.timerCount)
        var newTimers: [Timer] = [], newAsserted: [Int?] = [], remaining: [Int64?] = []
        for (index, saved) in savedTimers.enumerated() {
            try saved.expect("hpet-timer", version: 1)
            var timer = HPET.initialTimer(index)
            let capabilities = timer.configuration & ~TimerConfiguration.writable
            let configuration: UInt64 = try saved.unsigned("configuration")
            // Capabilities are the chip's, and a route must be one it can take
            // (or route 0, the power-on value).
            let route = (configuration & TimerConfiguration.routeMask) >> TimerConfiguration.routeShift
            guard configuration & ~TimerConfiguration.writable == capabilities,
                  route == 0 || HPET.routeCapability & (1 << route) != 0
            else { throw StateRecordError.outOfRange(record: "hpet-timer", field: "configuration") }
            timer.configuration = configuration
            timer.comparator = try saved.unsigned("comparator")
            timer.period = try saved.unsigned("period")
            timer.wrapPending = try saved.bool("wrapPending")
            let gsi = try saved.int("assertedGSI", in: -1...(IOAPIC.pinCount - 1))
            newTimers.append(timer)
            newAsserted.append(gsi < 0 ? nil : gsi)
            remaining.append(try saved.savedTimer(matchEvents[index]))
        }
        let wasLegacy = legacyReplacement
        for index in 0..<HPET.timerCount { StateRecord.arm(matchEvents[index], remaining: remaining[index], clock: clock, scheduler: scheduler) }
        configuration = newConfiguration
        interruptStatus = newStatus
        counterBase = newBase
        startTime = newStart
        timers = newTimers
        // An idle periodic timer (interrupt off, no match armed) goes on from here.
        for index in 0..<HPET.timerCount where isEnabled && timers[index].isPeriodic && !timers[index].interruptsEnabled {
            timers[index].idleSince = counter
        }
        if wasLegacy != legacyReplacement { legacyReplacementChanged(legacyReplacement) }
        // The lines go to the saved levels.
        for index in 0..<HPET.timerCount where assertedGSI[index] != newAsserted[index] {
            if let old = assertedGSI[index] { interrupt(old, false) }
            if let new = newAsserted[index] { interrupt(new, true) }
            assertedGSI[index] = newAsserted[index]
        }
    }
}

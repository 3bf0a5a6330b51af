import Timing

/// Armed timers in saved state: a timer is saved as whether it is armed and
/// how long it had left on the virtual clock, and loading arms it again that
/// far from the loaded clock's now, so it fires at the same guest time.
extension StateRecord {
    public mutating func putTimer(_ timer: TimerEvent, clock: VirtualClock) {
        var saved = StateRecord(name: "timer", version: 1)
        saved.put("name", timer.name)
        saved.put("armed", timer.isPending)
        saved.put("remaining", timer.isPending ? timer.deadline &- clock.now : 0)
        put("timer." + timer.name, saved)
    }

    /// Arms `timer` as saved (or cancels it when it was not armed).
    public func loadTimer(_ timer: TimerEvent, clock: VirtualClock, scheduler: EventScheduler) throws {
        let saved = try record("timer." + timer.name)
        try saved.expect("timer", version: 1)
        guard try saved.string("name") == timer.name else {
            throw StateRecordError.outOfRange(record: name, field: "timer." + timer.name)
        }
        if try saved.bool("armed") {
            scheduler.schedule(timer, at: clock.now &+ (try saved.signed("remaining")))
        } else {
            scheduler.cancel(timer)
        }
    }
}

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
        StateRecord.arm(timer, remaining: try savedTimer(timer), clock: clock, scheduler: scheduler)
    }

    /// The time `timer` had left when saved, nil when it was not armed; for a
    /// device that checks all its fields before it changes anything.
    public func savedTimer(_ timer: TimerEvent) throws -> Int64? {
        let saved = try record("timer." + timer.name)
        try saved.expect("timer", version: 1)
        guard try saved.string("name") == timer.name else {
            throw StateRecordError.outOfRange(record: name, field: "timer." + timer.name)
        }
        let remaining = try saved.signed("remaining")
        return try saved.bool("armed") ? remaining : nil
    }

    /// Arms `timer` `remaining` from the clock's now, or cancels it for nil.
    public static func arm(_ timer: TimerEvent, remaining: Int64?, clock: VirtualClock, scheduler: EventScheduler) {
        if let remaining {
            scheduler.schedule(timer, at: clock.now &+ remaining)
        } else {
            scheduler.cancel(timer)
        }
    }
}

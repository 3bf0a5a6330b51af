/// Conversions between guest nanoseconds and the ticks of a device's crystal,
/// exact for any run length (a plain `ns * hz` would overflow after hours).
enum TickConversion {
    static let nanosecondsPerSecond: Int64 = 1_000_000_000

    /// Whole ticks of a `hz` clock completed in `nanoseconds` (rounded down).
    @inline(__always)
    static func ticks(inNanoseconds nanoseconds: Int64, hz: Int64) -> Int64 {
        guard nanoseconds > 0 else { return 0 }
        let seconds = nanoseconds / nanosecondsPerSecond
        let rest = nanoseconds % nanosecondsPerSecond
        return seconds &* hz &+ rest &* hz / nanosecondsPerSecond
    }

    /// The first nanosecond at which `ticks` whole ticks have elapsed (rounded
    /// up), so that `ticks(inNanoseconds: nanoseconds(forTicks: t))` is `t`.
    @inline(__always)
    static func nanoseconds(forTicks ticks: Int64, hz: Int64) -> Int64 {
        guard ticks > 0 else { return 0 }
        let seconds = ticks / hz
        let rest = ticks % hz
        return seconds &* nanosecondsPerSecond &+ (rest &* nanosecondsPerSecond &+ hz &- 1) / hz
    }
}

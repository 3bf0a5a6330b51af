import Foundation

/// Guest time in nanoseconds. It follows the host's monotonic clock (minus the
/// time spent paused), or, in deterministic mode, advances only by executed
/// guest instructions so that a run can be repeated exactly.
public final class VirtualClock {
    public enum Mode: Equatable {
        case host
        /// Each executed instruction advances the clock this many nanoseconds.
        case deterministic(nanosecondsPerInstruction: Int64)
    }

    public let mode: Mode
    private var hostOrigin: Int64
    private var pausedAt: Int64?
    private var instructionTime: Int64 = 0

    public init(mode: Mode = .host) {
        self.mode = mode
        hostOrigin = VirtualClock.hostMonotonicNanoseconds()
    }

    /// The current guest time.
    public var now: Int64 {
        switch mode {
        case .host: return (pausedAt ?? VirtualClock.hostMonotonicNanoseconds()) - hostOrigin
        case .deterministic: return instructionTime
        }
    }

    /// Called by the CPU after a run of instructions; moves deterministic time.
    @inline(__always)
    public func advance(instructions: Int64) {
        if case let .deterministic(step) = mode { instructionTime &+= instructions &* step }
    }

    /// Moves deterministic time straight to `deadline` (an idle guest skips ahead).
    public func skip(to deadline: Int64) {
        if case .deterministic = mode, deadline > instructionTime { instructionTime = deadline }
    }

    /// Sets the guest time to `time` (loading saved state); in host mode the
    /// clock runs on from there, paused or not as it was.
    public func set(now time: Int64) {
        switch mode {
        case .host: hostOrigin = (pausedAt ?? VirtualClock.hostMonotonicNanoseconds()) - time
        case .deterministic: instructionTime = time
        }
    }

    public var isPaused: Bool { pausedAt != nil }

    public func pause() {
        if pausedAt == nil { pausedAt = VirtualClock.hostMonotonicNanoseconds() }
    }

    public func resume() {
        if let pausedAt {
            hostOrigin += VirtualClock.hostMonotonicNanoseconds() - pausedAt
            self.pausedAt = nil
        }
    }

    public static func hostMonotonicNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

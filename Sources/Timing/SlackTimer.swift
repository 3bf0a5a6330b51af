/// Work due at a time it may miss by a little: the CPU thread's loop runs it
/// on the first pass it makes after `deadline` (a guest's timer interrupts
/// wake the loop anyway), and wakes for it alone only once it is `slack`
/// overdue. So periodic host-side work, such as the screen's refresh, adds
/// no wake-ups of its own while the guest's clock ticks. Used only on the
/// CPU thread.
public final class SlackTimer {
    public let name: String
    /// How late the work may run (ns).
    public let slack: Int64
    let action: (_ now: Int64) -> Void
    /// `Int64.max` when not armed.
    public private(set) var deadline: Int64 = .max

    public init(name: String, slack: Int64, action: @escaping (_ now: Int64) -> Void) {
        self.name = name
        self.slack = slack
        self.action = action
    }

    public var isPending: Bool { deadline != .max }

    /// The latest time the loop must be awake to run it.
    public var latest: Int64 { isPending ? deadline &+ slack : .max }

    /// Arms it for `deadline` (guest ns); it fires once.
    public func schedule(at deadline: Int64) { self.deadline = min(deadline, Int64.max - slack - 1) }

    public func cancel() { deadline = .max }

    /// Runs the work if it is due at `now`.
    @inline(__always)
    public func runIfDue(now: Int64) {
        guard now >= deadline else { return }
        deadline = .max
        action(now)
    }
}

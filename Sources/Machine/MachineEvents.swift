import Foundation

/// Why a machine reset or ended, in QEMU's words (its ShutdownCause names),
/// which QMP's RESET and SHUTDOWN events carry.
public enum ShutdownCause: String, Sendable {
    case hostError = "host-error"
    case hostQMPQuit = "host-qmp-quit"
    case hostQMPSystemReset = "host-qmp-system-reset"
    case hostSignal = "host-signal"
    case hostUI = "host-ui"
    case guestShutdown = "guest-shutdown"
    case guestReset = "guest-reset"

    /// The guest asked for it (QMP's `guest` member).
    public var byGuest: Bool { self == .guestShutdown || self == .guestReset }
}

/// What the machine tells the programs that control it (QMP's events).
public enum MachineEvent: Equatable, Sendable {
    /// The guest stopped running (the monitor's `stop`).
    case stop
    /// A stopped guest runs again (`cont`, also after `-S`).
    case resume
    case reset(ShutdownCause)
    /// The run ended; the process exits next.
    case shutdown(ShutdownCause)
    /// The ACPI power button was pressed for the guest.
    case powerdown
    /// A QMP job (a snapshot job) reached a new status, by QEMU's names.
    case jobStatusChange(id: String, status: String)
}

/// The machine's events to whoever listens: the CPU thread's loop fires
/// them, a listener (one QMP client each) is called on the firing thread at
/// once, with the host's time of day the event happened at, so an event
/// is on the socket before the process can end.
public final class MachineEventHub: @unchecked Sendable {
    public typealias Listener = (MachineEvent, timeval) -> Void
    private let lock = NSLock()
    private var listeners: [Int: Listener] = [:]
    private var nextToken = 0

    public init() {}

    /// Thread-safe: `listener` hears every event from now until `unsubscribe(token)`.
    public func subscribe(_ listener: @escaping Listener) -> Int {
        lock.lock()
        defer { lock.unlock() }
        nextToken += 1
        listeners[nextToken] = listener
        return nextToken
    }

    public func unsubscribe(_ token: Int) {
        lock.lock()
        listeners[token] = nil
        lock.unlock()
    }

    /// Thread-safe. Listeners are called outside the lock, so one may unsubscribe.
    public func fire(_ event: MachineEvent) {
        var now = timeval()
        gettimeofday(&now, nil)
        lock.lock()
        let current = listeners.sorted { $0.key < $1.key }.map(\.value)
        lock.unlock()
        for listener in current { listener(event, now) }
    }
}

/// The machine's run state by QEMU's names (query-status).
public enum RunState: String, Sendable {
    case running, paused, prelaunch
}

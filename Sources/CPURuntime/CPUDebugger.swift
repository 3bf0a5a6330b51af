/// What a debugger (the gdb stub) has asked the CPU to watch for: breakpoints
/// on linear code addresses and watchpoints on linear data ranges. Touched
/// only on the CPU thread. While it holds nothing, the CPU runs exactly as
/// without a debugger: `active` is the one flag the run loop reads, once per
/// slice.
public final class CPUDebugger {
    /// A watchpoint's kind, numbered as gdb's Z2, Z3 and Z4 packets number them.
    public enum WatchKind: Int, Sendable {
        case write = 2, read = 3, access = 4
    }

    public struct Watchpoint: Equatable, Sendable {
        public let address: UInt32
        public let length: UInt32
        public let kind: WatchKind

        public init(address: UInt32, length: UInt32, kind: WatchKind) {
            self.address = address
            self.length = length
            self.kind = kind
        }

        /// Whether an access of `bytes` at `linear` touches the range with the right direction.
        func matches(_ linear: UInt32, bytes: Int, write: Bool) -> Bool {
            switch kind {
            case .write: if !write { return false }
            case .read: if write { return false }
            case .access: break
            }
            // Offsets from the watched start, so ranges wrapping at 4 GiB work.
            let offset = linear &- address
            return offset < length || (address &- linear) < UInt32(bytes)
        }
    }

    /// Why the CPU stopped for the debugger.
    public enum Stop: Equatable, Sendable {
        /// About to execute the instruction at a breakpoint (not executed yet).
        case breakpoint
        /// One instruction stepped.
        case step
        /// An instruction accessed a watched range; it has completed.
        case watchpoint(Watchpoint)
    }

    /// Most breakpoints and watchpoints one client may set: a bound on what
    /// every translation and every slow-path access look through.
    public static let maximumPoints = 64

    public private(set) var breakpoints: Set<UInt32> = []
    public private(set) var watchpoints: [Watchpoint] = []
    /// Any breakpoint or watchpoint: the run loop takes its debugging path.
    public private(set) var active = false
    /// Any watchpoint: the MMU's slow path looks at accesses.
    public private(set) var watching = false
    /// Resuming from a breakpoint: the first block, at this address, runs
    /// instead of stopping again.
    var skipBreakpointAt: UInt32?
    /// A watchpoint hit outside a block (an interrupt's pushes), or while
    /// re-running the accessing instruction alone: the first one counts.
    var watchHit: Watchpoint?
    /// Called on the CPU thread when the guest stops for the debugger.
    public var onStop: ((Stop) -> Void)?

    public init() {}

    func insert(breakpoint linear: UInt32) -> Bool {
        guard breakpoints.contains(linear) || breakpoints.count + watchpoints.count < CPUDebugger.maximumPoints else { return false }
        breakpoints.insert(linear)
        update()
        return true
    }

    func remove(breakpoint linear: UInt32) {
        breakpoints.remove(linear)
        update()
    }

    func insert(_ watchpoint: Watchpoint) -> Bool {
        guard watchpoint.length > 0 else { return false }
        if watchpoints.contains(watchpoint) { return true }
        guard breakpoints.count + watchpoints.count < CPUDebugger.maximumPoints else { return false }
        watchpoints.append(watchpoint)
        update()
        return true
    }

    func remove(_ watchpoint: Watchpoint) {
        watchpoints.removeAll { $0 == watchpoint }
        update()
    }

    func removeAll() {
        breakpoints = []
        watchpoints = []
        skipBreakpointAt = nil
        watchHit = nil
        update()
    }

    private func update() {
        active = !breakpoints.isEmpty || !watchpoints.isEmpty
        watching = !watchpoints.isEmpty
    }

    /// The first watchpoint an access touches.
    func watchpoint(hitBy linear: UInt32, bytes: Int, write: Bool) -> Watchpoint? {
        watchpoints.first { $0.matches(linear, bytes: bytes, write: write) }
    }

    /// Whether loads and stores to a linear page must take the slow path.
    func watches(page: UInt32) -> (reads: Bool, writes: Bool) {
        var reads = false, writes = false
        for watchpoint in watchpoints {
            let first = watchpoint.address >> 12
            let last = (watchpoint.address &+ (watchpoint.length - 1)) >> 12
            let covers = first <= last ? (page >= first && page <= last) : (page >= first || page <= last)
            guard covers else { continue }
            if watchpoint.kind != .write { reads = true }
            if watchpoint.kind != .read { writes = true }
        }
        return (reads, writes)
    }

    func takeWatchHit() -> Watchpoint? {
        defer { watchHit = nil }
        return watchHit
    }
}

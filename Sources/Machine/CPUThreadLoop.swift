import Execution
import Foundation
import PCEmuSupport
import Timing

/// The CPU thread: runs the guest in slices between timer deadlines, fires
/// timers, sleeps while the guest is halted, and runs work other threads post
/// (input from the window, bytes from the terminal). Devices and the CPU are
/// touched only from this thread. A halted guest is woken only by its next
/// timer, a `SlackTimer` gone past its slack, or another thread: it costs
/// nothing in between.
public final class CPUThreadLoop {
    /// The longest slice of a running guest, so slack timers wait at most
    /// this long past their deadline (ns); posted work ends a slice at once.
    public static let maximumSlice: Int64 = 10_000_000

    private let clock: VirtualClock
    private let scheduler: EventScheduler
    private let engine: ExecutionEngine
    /// Puts the machine back in its power-on state after a reset (the engine is reset first).
    public var onReset: () -> Void
    /// `-no-reboot`: a reset ends the run with status 0 instead.
    public var exitOnReset = false
    /// STOP, RESUME, RESET and SHUTDOWN as they happen (for QMP).
    public let events = MachineEventHub()
    private let condition = NSCondition()
    private var posted: [() -> Void] = []
    /// The posted work being run, outside the lock (swapped with `posted`).
    private var running: [() -> Void] = []
    private var stopStatus: Int32?
    private var resetRequested = false
    private var resetCause = ShutdownCause.guestReset
    /// Why the run ends: the SHUTDOWN event's reason.
    private var stopCause = ShutdownCause.hostError
    private var pauseRequested = false
    /// `-S`: stopped before the guest ever ran (QEMU's "prelaunch").
    private var prelaunch = false
    private var woken = false
    private var slackTimers: [SlackTimer] = []
    /// The thread in `run`, so `wake` knows when it is called from it.
    private var loopThread: pthread_t?
    /// The CPU thread's kernel thread id, once `run` has started (for `info cpus`).
    public private(set) var threadID: Int32 = 0
    /// The CPU thread is inside `engine.run`.
    private var engineRunning = false

    public init(clock: VirtualClock, scheduler: EventScheduler, engine: ExecutionEngine, onReset: @escaping () -> Void) {
        self.clock = clock
        self.scheduler = scheduler
        self.engine = engine
        self.onReset = onReset
    }

    /// CPU thread (or before `run`): the loop looks at `timer` on every pass.
    public func add(_ timer: SlackTimer) {
        if !slackTimers.contains(where: { $0 === timer }) { slackTimers.append(timer) }
    }

    /// Thread-safe: queues `work` for the CPU thread and wakes it.
    public func post(_ work: @escaping () -> Void) {
        condition.lock()
        posted.append(work)
        condition.signal()
        condition.unlock()
        engine.requestExit()
    }

    /// Thread-safe: ends `run` with `status` at the next slice boundary;
    /// `cause` is the SHUTDOWN event's reason.
    public func stop(status: Int32, cause: ShutdownCause) {
        condition.lock()
        if stopStatus == nil {
            stopStatus = status
            stopCause = cause
        }
        condition.signal()
        condition.unlock()
        engine.requestExit()
    }

    /// Thread-safe: resets the machine at the next slice boundary (0xCF9,
    /// port 0x92, the 8042's reset line; the monitor's system_reset).
    public func requestReset(cause: ShutdownCause = .guestReset) {
        condition.lock()
        resetRequested = true
        resetCause = cause
        condition.signal()
        condition.unlock()
        engine.requestExit()
    }

    /// Thread-safe: stops running the guest at the next slice boundary (the
    /// monitor's `stop`); the virtual clock stands still, and posted work,
    /// a reset or a stop are still taken. `resume` goes on.
    /// A running guest that stops raises STOP.
    public func pause() {
        condition.lock()
        let wasRunning = !pauseRequested
        pauseRequested = true
        condition.signal()
        condition.unlock()
        engine.requestExit()
        if wasRunning { events.fire(.stop) }
    }

    /// `-S`: paused before the first instruction, without a STOP event.
    public func holdAtStart() {
        condition.lock()
        pauseRequested = true
        prelaunch = true
        condition.unlock()
    }

    /// A stopped guest that goes on raises RESUME.
    public func resume() {
        condition.lock()
        let wasPaused = pauseRequested
        pauseRequested = false
        prelaunch = false
        condition.signal()
        condition.unlock()
        if wasPaused { events.fire(.resume) }
    }

    public var isPaused: Bool {
        condition.lock()
        defer { condition.unlock() }
        return pauseRequested
    }

    /// Thread-safe: what QMP's query-status calls the state.
    public var runState: RunState {
        condition.lock()
        defer { condition.unlock() }
        return prelaunch ? .prelaunch : pauseRequested ? .paused : .running
    }

    /// Thread-safe: ends the current slice or idle wait so the engine looks at
    /// its interrupt input again (the PIC's output changed). On the CPU thread
    /// itself (a device in a port write or a timer) there is no wait to end:
    /// the engine only leaves its chained blocks.
    public func wake() {
        if let loopThread, pthread_equal(loopThread, pthread_self()) != 0 {
            // Between runs (a timer, posted input) the next run looks anyway.
            if engineRunning { engine.requestExit() }
            return
        }
        condition.lock()
        woken = true
        condition.signal()
        condition.unlock()
        engine.requestExit()
    }

    /// Runs until the guest powers off or `stop` is called; returns the exit
    /// status once SHUTDOWN has gone to the listeners.
    public func run() -> Int32 {
        let status = runUntilTheEnd()
        condition.lock()
        let cause = stopCause
        condition.unlock()
        events.fire(.shutdown(cause))
        return status
    }

    private func runUntilTheEnd() -> Int32 {
        loopThread = pthread_self()
        threadID = CPUThreadLoop.currentThreadID()
        defer { loopThread = nil }
        while true {
            if let status = takePostedWork() { return status }
            if let cause = takeResetRequest(), let status = reset(cause: cause) { return status }
            if waitWhilePaused() { continue }
            let now = clock.now
            scheduler.runExpired(now: now)
            for timer in slackTimers { timer.runIfDue(now: now) }
            let nextTimer = scheduler.nextDeadline ?? Int64.max
            engineRunning = true
            let stop = engine.run(until: min(nextTimer, now + CPUThreadLoop.maximumSlice))
            engineRunning = false
            switch stop {
            case .yielded:
                continue
            case .halted:
                // Deadlines as they are now: the guest may have armed a timer while it ran.
                var wakeDeadline = scheduler.nextDeadline ?? Int64.max
                for timer in slackTimers { wakeDeadline = min(wakeDeadline, timer.latest) }
                sleep(until: wakeDeadline, from: now)
            case .reset:
                if let status = reset(cause: .guestReset) { return status }
            case let .powerOff(status):
                // Status 1: the CPU met something it cannot do.
                if status != 0 { setStopCause(.hostError) }
                return status
            }
        }
    }

    /// While paused the guest does not run and its clock stands still; the
    /// loop wakes for posted work, a reset or a stop. True when it waited.
    private func waitWhilePaused() -> Bool {
        condition.lock()
        guard pauseRequested else {
            condition.unlock()
            // A resume that came while posted work ran (after a wait that
            // ended still paused) finds the clock stopped: start it here.
            clock.resume()
            return false
        }
        clock.pause()
        while pauseRequested && posted.isEmpty && stopStatus == nil && !resetRequested { condition.wait() }
        let stillPaused = pauseRequested
        condition.unlock()
        if !stillPaused { clock.resume() }
        return true
    }

    /// The calling thread's kernel id: /proc/thread-self names it (Swift's
    /// Glibc module has no gettid).
    static func currentThreadID() -> Int32 {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard count > 0 else { return 0 }
        let link = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Int32(link.split(separator: "/").last ?? "") ?? 0
    }

    /// A machine reset (raising RESET), or the end of the run with -no-reboot.
    private func reset(cause: ShutdownCause) -> Int32? {
        if exitOnReset {
            Log.write(.cpuReset, "reset with -no-reboot: exiting")
            setStopCause(cause)
            return 0
        }
        Log.write(.cpuReset, "machine reset")
        engine.reset()
        onReset()
        events.fire(.reset(cause))
        return nil
    }

    private func setStopCause(_ cause: ShutdownCause) {
        condition.lock()
        stopCause = cause
        condition.unlock()
    }

    /// The reset asked for since the last look, by its cause.
    private func takeResetRequest() -> ShutdownCause? {
        condition.lock()
        defer { condition.unlock() }
        guard resetRequested else { return nil }
        resetRequested = false
        return resetCause
    }

    /// Runs what other threads posted; returns a status if a stop was asked for.
    private func takePostedWork() -> Int32? {
        condition.lock()
        let status = stopStatus
        guard !posted.isEmpty else {
            // The common pass: nothing to copy, nothing allocated.
            condition.unlock()
            return status
        }
        swap(&posted, &running)
        condition.unlock()
        for item in running { item() }
        running.removeAll(keepingCapacity: true)
        return status
    }

    /// A halted guest costs no host CPU: wait for the next timer or posted
    /// work, however far away (`Int64.max`: only another thread can wake it).
    private func sleep(until deadline: Int64, from now: Int64) {
        if case .deterministic = clock.mode {
            // Deterministic time stands still while the loop waits: skip
            // ahead, in slices, so work posted meanwhile is still seen.
            clock.skip(to: min(deadline, now + CPUThreadLoop.maximumSlice))
            return
        }
        condition.lock()
        defer { condition.unlock() }
        defer { woken = false }
        while posted.isEmpty, stopStatus == nil, !resetRequested, !woken, !pauseRequested {
            if deadline == .max {
                condition.wait()
                continue
            }
            let remaining = deadline - clock.now
            if remaining <= 0 { return }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(remaining) / 1e9))
        }
    }
}

import Execution
import Foundation
import PCEmuSupport
import Timing

/// The CPU thread: runs the guest in slices between timer deadlines, fires
/// timers, sleeps while the guest is halted, and runs work other threads post
/// (input from the window, bytes from the terminal). Devices and the CPU are
/// touched only from this thread.
public final class CPUThreadLoop {
    /// The longest slice, so posted work waits at most this long (ns).
    public static let maximumSlice: Int64 = 10_000_000

    private let clock: VirtualClock
    private let scheduler: EventScheduler
    private let engine: ExecutionEngine
    /// Puts the machine back in its power-on state after a reset (the engine is reset first).
    public var onReset: () -> Void
    /// `-no-reboot`: a reset ends the run with status 0 instead.
    public var exitOnReset = false
    private let condition = NSCondition()
    private var posted: [() -> Void] = []
    private var stopStatus: Int32?
    private var resetRequested = false
    private var woken = false

    public init(clock: VirtualClock, scheduler: EventScheduler, engine: ExecutionEngine, onReset: @escaping () -> Void) {
        self.clock = clock
        self.scheduler = scheduler
        self.engine = engine
        self.onReset = onReset
    }

    /// Thread-safe: queues `work` for the CPU thread and wakes it.
    public func post(_ work: @escaping () -> Void) {
        condition.lock()
        posted.append(work)
        condition.signal()
        condition.unlock()
        engine.requestExit()
    }

    /// Thread-safe: ends `run` with `status` at the next slice boundary.
    public func stop(status: Int32) {
        condition.lock()
        if stopStatus == nil { stopStatus = status }
        condition.signal()
        condition.unlock()
        engine.requestExit()
    }

    /// Thread-safe: resets the machine at the next slice boundary (0xCF9,
    /// port 0x92, the 8042's reset line).
    public func requestReset() {
        condition.lock()
        resetRequested = true
        condition.signal()
        condition.unlock()
        engine.requestExit()
    }

    /// Thread-safe: ends the current slice or idle wait so the engine looks at
    /// its interrupt input again (the PIC's output changed).
    public func wake() {
        condition.lock()
        woken = true
        condition.signal()
        condition.unlock()
        engine.requestExit()
    }

    /// Runs until the guest powers off or `stop` is called; returns the exit status.
    public func run() -> Int32 {
        while true {
            if let status = takePostedWork() { return status }
            if takeResetRequest(), let status = reset() { return status }
            let now = clock.now
            scheduler.runExpired(now: now)
            let deadline = min(scheduler.nextDeadline ?? Int64.max, now + CPUThreadLoop.maximumSlice)
            switch engine.run(until: deadline) {
            case .yielded:
                continue
            case .halted:
                sleep(until: deadline)
            case .reset:
                if let status = reset() { return status }
            case let .powerOff(status):
                return status
            }
        }
    }

    /// A machine reset, or the end of the run with -no-reboot.
    private func reset() -> Int32? {
        if exitOnReset {
            Log.write(.cpuReset, "reset with -no-reboot: exiting")
            return 0
        }
        Log.write(.cpuReset, "machine reset")
        engine.reset()
        onReset()
        return nil
    }

    private func takeResetRequest() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let requested = resetRequested
        resetRequested = false
        return requested
    }

    /// Runs what other threads posted; returns a status if a stop was asked for.
    private func takePostedWork() -> Int32? {
        condition.lock()
        let work = posted
        posted.removeAll(keepingCapacity: true)
        let status = stopStatus
        condition.unlock()
        for item in work { item() }
        return status
    }

    /// A halted guest costs no host CPU: wait for the next timer or posted work.
    private func sleep(until deadline: Int64) {
        if case .deterministic = clock.mode {
            clock.skip(to: deadline)
            return
        }
        condition.lock()
        defer { condition.unlock() }
        defer { woken = false }
        while posted.isEmpty, stopStatus == nil, !resetRequested, !woken {
            let remaining = deadline - clock.now
            if remaining <= 0 { return }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(remaining) / 1e9))
        }
    }
}

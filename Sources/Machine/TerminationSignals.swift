import Foundation

/// SIGTERM, SIGINT and SIGHUP end a run the orderly way: the CPU loop stops,
/// disks are flushed to the host file and sound drained, then the process
/// dies of the signal it got, so its parent sees how it ended. A second
/// signal kills at once (with the terminal put back).
///
/// The handler runs in whichever thread the kernel picks, so it only writes
/// the signal's number to a pipe (async-signal-safe); a thread of this
/// class's own reads it and stops the loop. (A dispatch signal source missed
/// signals delivered to threads that did not block them while it set itself
/// up, and the run then never ended.)
final class TerminationSignals {
    static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP]
    /// The pipe's write end, and the first signal: read by the handler.
    private nonisolated(unsafe) static var pipeWrite: Int32 = -1
    private nonisolated(unsafe) static var first: Int32 = 0
    private let lock = NSLock()
    private var receivedSignal: Int32?

    /// The signal that stopped the run, if one did.
    var received: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return receivedSignal
    }

    init(loop: CPUThreadLoop) {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { return }
        let readEnd = descriptors[0]
        TerminationSignals.pipeWrite = descriptors[1]
        for number in TerminationSignals.handled {
            signal(number) { received in
                if TerminationSignals.first != 0 {
                    TerminalMode.restore()
                    signal(received, SIG_DFL)
                    raise(received)  // delivered once this handler returns
                    return
                }
                TerminationSignals.first = received
                var byte = UInt8(truncatingIfNeeded: received)
                _ = write(TerminationSignals.pipeWrite, &byte, 1)
            }
        }
        let thread = Thread { [self, unowned loop] in
            var byte: UInt8 = 0
            while read(readEnd, &byte, 1) < 0 && errno == EINTR {}
            let number = Int32(byte)
            guard number != 0 else { return }
            lock.lock()
            receivedSignal = number
            lock.unlock()
            loop.stop(status: 128 + number, cause: .hostSignal)
        }
        thread.name = "pcemu-signals"
        thread.start()
    }

    /// After the orderly part: dies of the signal received, if any.
    func endProcessIfSignalled() {
        guard let number = received else { return }
        signal(number, SIG_DFL)
        raise(number)
    }
}

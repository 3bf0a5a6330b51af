import Dispatch
import Foundation

/// SIGTERM, SIGINT and SIGHUP end a run the orderly way: the CPU loop stops,
/// disks are flushed to the host file and sound drained, then the process
/// dies of the signal it got, so its parent sees how it ended. A second
/// signal of the same kind kills at once (the default action is back).
final class TerminationSignals {
    static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP]
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var receivedSignal: Int32?

    /// The signal that stopped the run, if one did.
    var received: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return receivedSignal
    }

    init(loop: CPUThreadLoop) {
        for number in TerminationSignals.handled {
            // A dispatch source sees the signal only while its default action is off.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self, unowned loop] in
                signal(number, SIG_DFL)
                self?.lock.lock()
                if self?.receivedSignal == nil { self?.receivedSignal = number }
                self?.lock.unlock()
                loop.stop(status: 128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// After the orderly part: dies of the signal received, if any.
    func endProcessIfSignalled() {
        guard let number = received else { return }
        for source in sources { source.cancel() }
        signal(number, SIG_DFL)
        raise(number)
    }
}

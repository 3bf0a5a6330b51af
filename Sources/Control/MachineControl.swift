import Dispatch
import Foundation
import Glibc
import Machine
import Storage

/// What the human monitor and QMP both do to a running machine, each done
/// by one function here. Work on devices runs on the CPU thread (through its
/// loop's posted work, which also runs while the guest is stopped), so it
/// never races the guest; the caller waits for it.
final class MachineControl {
    let machine: PCMachine

    init(machine: PCMachine) { self.machine = machine }

    static let noAnswer = "the CPU thread did not answer"

    func stop() { machine.loop.pause() }
    func cont() { machine.loop.resume() }
    func systemReset() { machine.loop.requestReset(cause: .hostQMPSystemReset) }
    func powerDown() { machine.pressPowerButton() }
    func quit() { machine.loop.stop(status: 0, cause: .hostQMPQuit) }

    /// Presses `usages` in order, holds them, releases them in reverse, on
    /// the host's clock as a typist would.
    func pressKeys(_ usages: [Int], holdMilliseconds: Int) {
        for usage in usages { machine.keyChanged(hidUsage: usage, pressed: true) }
        usleep(useconds_t(holdMilliseconds * 1000))
        for usage in usages.reversed() { machine.keyChanged(hidUsage: usage, pressed: false) }
    }

    /// The screen to `path`: PNG or PPM by `png`, else by the name.
    func screenDump(to path: String, png: Bool? = nil) throws(MonitorError) {
        try perform { try self.machine.writeScreenDump(to: path, png: png) }
    }

    /// A disc or disk into a removable drive (`path`), or out of it (nil);
    /// `readOnly` nil keeps the drive's mode.
    func changeMedium(device: String, path: String?, format: DiskImage.Format?, readOnly: Bool? = nil) throws(MonitorError) {
        try perform { try self.machine.changeMedium(device: device, path: path, format: format, readOnly: readOnly) }
    }

    /// Runs `body` on the CPU thread; its error, or the thread's silence, as words.
    func perform(timeout: Int = 10, _ body: @escaping () throws -> Void) throws(MonitorError) {
        let failure: String? = onCPUThread(timeout: timeout) {
            do {
                try body()
                return nil
            } catch {
                return "\(error)"
            }
        } ?? MachineControl.noAnswer
        if let failure { throw MonitorError(failure) }
    }

    func blockDevices() throws(MonitorError) -> [BlockDeviceInfo] {
        guard let devices = onCPUThread({ self.machine.blockDevices }) else { throw MonitorError(MachineControl.noAnswer) }
        return devices
    }

    /// A command's output made on the CPU thread, or the words saying it did not come.
    func answer(timeout: Int = 10, _ body: @escaping () -> String) -> String {
        onCPUThread(timeout: timeout, body) ?? MachineControl.noAnswer
    }

    /// Runs `body` on the CPU thread and waits for it (`timeout` seconds at
    /// most: the thread may have ended with the machine).
    @discardableResult
    func onCPUThread<Result>(timeout: Int = 10, _ body: @escaping () -> Result) -> Result? {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<Result>()
        machine.loop.post {
            box.value = body()
            done.signal()
        }
        guard done.wait(timeout: .now() + .seconds(timeout)) == .success else { return nil }
        return box.value
    }
}

struct MonitorError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Carries a result from the CPU thread back to the caller's (the
/// semaphore orders the write before the read).
private final class ResultBox<Value>: @unchecked Sendable {
    var value: Value?
}

import Foundation
import PCEmuSupport

/// Runs a built machine until it powers off, the user quits, or the CPU
/// meets something it cannot do yet. The CPU thread's loop runs on the
/// calling thread (no window is built into the session yet); the terminal's
/// reader runs beside it.
public struct MachineSession {
    public let machine: PCMachine

    public init(machine: PCMachine) { self.machine = machine }

    /// The exit status: 0 for a power-off, Ctrl-A x or a reset with
    /// -no-reboot; 1 when the CPU stopped (its reason is one line on stderr).
    public func run() throws -> Int32 {
        machine.startHostInput()
        let status = machine.loop.run()
        machine.flushDisks()
        TerminalMode.restore()
        // With -D the CPU's own message went to the log file; the user still sees why.
        if let reason = machine.cpu.stopReason, machine.configuration.logFile != nil {
            FileHandle.standardError.write(Data("pcemu: \(reason)\n".utf8))
        }
        return status
    }
}

import Foundation
import Glibc
import Machine

/// The human monitor on the host's terminal (`-monitor stdio`, or sharing it
/// with COM1 under -nographic and `-serial mon:stdio`, where Ctrl-A c
/// switches). The machine's terminal reader hands it what is typed; its
/// output goes to stdout beside the serial port's. It echoes and edits the
/// line when stdin is a terminal (raw mode leaves that to the program);
/// from a pipe the input is taken as it is.
public final class MonitorTerminal: TerminalMonitor {
    private var session: MonitorSession!

    public init(machine: PCMachine) {
        session = MonitorSession(machine: machine, interactive: isatty(STDIN_FILENO) == 1) { MonitorTerminal.write($0) }
    }

    /// Gives the monitor the terminal; false when the configuration puts it elsewhere.
    @discardableResult
    public func attach(to machine: PCMachine) -> Bool { machine.attachTerminalMonitor(self) }

    public func takeTerminal() { session.showPrompt() }

    public func typed(_ bytes: [UInt8]) { session.feed(bytes) }

    private static func write(_ bytes: [UInt8]) -> Bool {
        var rest = bytes[...]
        while !rest.isEmpty {
            let written = rest.withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            rest = rest.dropFirst(written)
        }
        return true
    }
}

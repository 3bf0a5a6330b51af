/// The human monitor's side of the terminal (the Control layer implements
/// it). With `-monitor stdio` it has the terminal to itself; with
/// -nographic or `-serial mon:stdio` it shares it with COM1, and Ctrl-A c
/// hands the keyboard from one to the other, as QEMU's multiplexed stdio does.
public protocol TerminalMonitor: AnyObject {
    /// The monitor has the keyboard now: the first time its banner and
    /// prompt, after that the prompt and the line typed so far.
    func takeTerminal()
    /// What was typed while the monitor has the keyboard (on the terminal's
    /// reader thread, which the monitor may keep while a command runs).
    func typed(_ bytes: [UInt8])
}

extension PCMachine {
    /// Puts the monitor on the terminal; the terminal's reader starts with
    /// `startHostInput`. False when the configuration gives the monitor no
    /// terminal (`monitorOnTerminal`).
    @discardableResult
    public func attachTerminalMonitor(_ monitor: TerminalMonitor) -> Bool {
        guard let stdioConsole else { return false }
        stdioConsole.monitor = monitor
        return true
    }
}

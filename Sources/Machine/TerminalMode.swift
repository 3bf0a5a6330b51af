import Foundation

/// The host terminal in raw mode while a guest owns it, and put back on
/// every way out: normal exit (atexit), and SIGINT/SIGTERM/SIGHUP through
/// a handler that restores it and then dies of the same signal.
/// Process-wide state, as the terminal is: at most one raw session.
enum TerminalMode {
    private nonisolated(unsafe) static var saved = termios()
    private nonisolated(unsafe) static var isRaw = false
    private nonisolated(unsafe) static var hooksInstalled = false
    static let restoredSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Raw input for standard input if it is a terminal; returns whether it was.
    /// Like QEMU's stdio: no echo, no line editing, no signals from keys (Ctrl-C
    /// goes to the guest), no CR/LF translation on input; output processing
    /// stays on so the host terminal still turns "\n" into a new line.
    @discardableResult
    static func enterRaw() -> Bool {
        guard !isRaw, isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &saved) == 0 else { return false }
        var raw = saved
        raw.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)
        raw.c_oflag |= tcflag_t(OPOST)
        raw.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | IEXTEN | ISIG)
        raw.c_cflag &= ~tcflag_t(CSIZE | PARENB)
        raw.c_cflag |= tcflag_t(CS8)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        installHooks()
        guard tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0 else { return false }
        isRaw = true
        return true
    }

    /// Puts the saved settings back; safe to call twice and from a signal handler
    /// (tcsetattr is async-signal-safe).
    static func restore() {
        guard isRaw else { return }
        isRaw = false
        tcsetattr(STDIN_FILENO, TCSANOW, &saved)
    }

    private static func installHooks() {
        guard !hooksInstalled else { return }
        hooksInstalled = true
        atexit { TerminalMode.restore() }
        for signalNumber in restoredSignals {
            signal(signalNumber) { received in
                TerminalMode.restore()
                // Die of the signal itself, so the parent sees how we ended.
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}

import Foundation
import Glibc
import TestSupport
import XCTest

/// The monitor on the terminal, as a person at one meets it: pcemu
/// -nographic on a pseudo-terminal, the default guest's shell on COM1, and
/// Ctrl-A c switching the keyboard between the shell and the monitor.
final class TerminalMonitorGuestTests: XCTestCase {
    /// pcemu on a pseudo-terminal: what it writes is collected by a thread;
    /// `type` is the keyboard.
    final class Terminal {
        let pid: pid_t
        let master: Int32
        let slave: Int32
        let settingsBefore: termios
        private let lock = NSLock()
        private var bytes: [UInt8] = []
        private var readFrom = 0
        /// What the last successful `waitFor` went over, its text included.
        private(set) var lastPassed = ""

        init(_ arguments: [String]) throws {
            var master: Int32 = -1, slave: Int32 = -1
            guard openpty(&master, &slave, nil, nil, nil) == 0 else { throw TestSetupError("openpty failed") }
            self.master = master
            self.slave = slave
            var settings = termios()
            tcgetattr(slave, &settings)
            settingsBefore = settings
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            for descriptor in [0, 1, 2] as [Int32] { posix_spawn_file_actions_adddup2(&actions, slave, descriptor) }
            let argv: [UnsafeMutablePointer<CChar>?] = ([BuildProducts.pcemu] + arguments).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            guard posix_spawn(&pid, BuildProducts.pcemu, &actions, nil, argv, environ) == 0 else {
                throw TestSetupError("cannot start pcemu")
            }
            self.pid = pid
            let thread = Thread { [self] in collect() }
            thread.start()
        }

        deinit {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            close(slave)
            close(master)
        }

        private func collect() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return }
                lock.lock()
                bytes += buffer[0..<count]
                lock.unlock()
            }
        }

        /// Everything written since the last `waitFor` that found its text.
        var unread: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: bytes[readFrom...], as: UTF8.self)
        }

        /// Waits for `text` in what came after the last text waited for; true once it is there.
        func waitFor(_ text: String, timeout: TimeInterval = 60) -> Bool {
            let deadline = Date(timeIntervalSinceNow: timeout)
            let wanted = Array(text.utf8)
            repeat {
                lock.lock()
                let found = bytes[readFrom...].firstRange(of: wanted)
                if let found {
                    lastPassed = String(decoding: bytes[readFrom..<found.upperBound], as: UTF8.self)
                    readFrom = found.upperBound
                }
                lock.unlock()
                if found != nil { return true }
                usleep(50_000)
            } while Date() < deadline
            return false
        }

        func type(_ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
        }

        /// The exit status once pcemu ends (nil if it does not within `timeout`).
        func exitStatus(timeout: TimeInterval) -> Int32? {
            let deadline = Date(timeIntervalSinceNow: timeout)
            var status: Int32 = 0
            while waitpid(pid, &status, WNOHANG) == 0 {
                guard Date() < deadline else { return nil }
                usleep(50_000)
            }
            return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        }
    }

    static let switchKeys = "\u{01}c"
    static let prompt = "(qemu) "

    func testCtrlACSwitchesBetweenTheShellAndTheMonitor() throws {
        let guest = try DefaultGuest.paths()
        let terminal = try Terminal(["-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd,
                                     "-append", "console=ttyS0 quiet", "-nographic", "-nic", "none"])
        XCTAssertTrue(terminal.waitFor(LinuxGuestTests.prompt, timeout: 300), "no shell prompt:\n\(terminal.unread.suffix(2000))")
        terminal.type("\u{01}h")
        XCTAssertTrue(terminal.waitFor("C-a c    switch between console and monitor"), terminal.unread)

        // A line the guest prints a moment later shows up while the monitor has the keyboard.
        terminal.type("(sleep 2; echo late$((4*5))) &\r")
        XCTAssertTrue(terminal.waitFor(LinuxGuestTests.prompt))
        terminal.type(TerminalMonitorGuestTests.switchKeys)
        XCTAssertTrue(terminal.waitFor("monitor - type 'help' for more information\r"), terminal.unread)
        XCTAssertTrue(terminal.waitFor(TerminalMonitorGuestTests.prompt))
        XCTAssertTrue(terminal.waitFor("late20", timeout: 30), "the serial console's output goes on: \(terminal.unread)")

        // Typed a letter at a time with a mistake taken back: the monitor echoes and edits.
        for character in "info statsu" { terminal.type(String(character)) }
        terminal.type("\u{7F}\u{7F}us\r")
        XCTAssertTrue(terminal.waitFor("info stats"), "echo: \(terminal.unread)")
        XCTAssertTrue(terminal.waitFor("VM status: running\r"), terminal.unread)
        XCTAssertTrue(terminal.waitFor(TerminalMonitorGuestTests.prompt))
        terminal.type("stop\r")
        XCTAssertTrue(terminal.waitFor("stop\r"))
        XCTAssertTrue(terminal.waitFor(TerminalMonitorGuestTests.prompt))

        // Back on the shell, a command waits while the guest is stopped...
        terminal.type(TerminalMonitorGuestTests.switchKeys)
        terminal.type("echo $((6*7))\r")
        sleep(2)
        XCTAssertFalse(terminal.unread.contains("42"), "the guest answered while stopped: \(terminal.unread)")
        // ... and runs once the monitor continues it; the monitor shows just its prompt this time.
        terminal.type(TerminalMonitorGuestTests.switchKeys)
        XCTAssertTrue(terminal.waitFor(TerminalMonitorGuestTests.prompt))
        XCTAssertFalse(terminal.lastPassed.contains("help' for more"), "the banner comes once: \(terminal.lastPassed)")
        terminal.type("info status\r")
        XCTAssertTrue(terminal.waitFor("VM status: paused\r"), terminal.unread)
        terminal.type("cont\r")
        XCTAssertTrue(terminal.waitFor("42\r", timeout: 30), "the waiting command ran after cont: \(terminal.unread)")
        terminal.type(TerminalMonitorGuestTests.switchKeys)
        terminal.type("echo $((7*8))\r")
        XCTAssertTrue(terminal.waitFor("56\r", timeout: 30), "the shell answers again: \(terminal.unread)")

        // quit ends pcemu with status 0 and the terminal as it was.
        terminal.type(TerminalMonitorGuestTests.switchKeys)
        XCTAssertTrue(terminal.waitFor(TerminalMonitorGuestTests.prompt))
        terminal.type("quit\r")
        XCTAssertEqual(terminal.exitStatus(timeout: 30), 0)
        var after = termios()
        tcgetattr(terminal.slave, &after)
        XCTAssertEqual(after.c_lflag, terminal.settingsBefore.c_lflag)
        XCTAssertEqual(after.c_iflag, terminal.settingsBefore.c_iflag)
    }

    /// `-monitor stdio` with COM1 elsewhere: the monitor has the terminal from the start.
    func testMonitorStdioHasTheTerminalToItself() throws {
        let directory = try makeTemporaryDirectory("pcemu-monitor-stdio")
        defer { try? FileManager.default.removeItem(at: directory) }
        let kernel = try TinyBzImage.write([0xF4, 0xEB, 0xFD], into: directory)  // hlt; jmp $-1
        let terminal = try Terminal(["-display", "none", "-m", "32", "-nic", "none", "-kernel", kernel, "-monitor", "stdio"])
        XCTAssertTrue(terminal.waitFor("monitor - type 'help' for more information\r"), terminal.unread)
        XCTAssertTrue(terminal.waitFor(TerminalMonitorGuestTests.prompt))
        terminal.type("info version\r")
        XCTAssertTrue(terminal.waitFor("info version\r"), "echoed: \(terminal.unread)")
        XCTAssertTrue(terminal.waitFor(TerminalMonitorGuestTests.prompt))
        terminal.type("q\r")
        XCTAssertEqual(terminal.exitStatus(timeout: 30), 0)
        var after = termios()
        tcgetattr(terminal.slave, &after)
        XCTAssertEqual(after.c_lflag, terminal.settingsBefore.c_lflag)
    }

    /// From a pipe, as a script drives it: no echo, output and prompts only.
    func testMonitorStdioFromAPipe() throws {
        let directory = try makeTemporaryDirectory("pcemu-monitor-pipe")
        defer { try? FileManager.default.removeItem(at: directory) }
        let kernel = try TinyBzImage.write([0xF4, 0xEB, 0xFD], into: directory)
        let pcemu = try ChildProcess(BuildProducts.pcemu, ["-display", "none", "-m", "32", "-nic", "none", "-kernel", kernel,
                                                           "-monitor", "stdio"], inputPipe: true)
        defer { pcemu.stop() }
        XCTAssertTrue(pcemu.waitForOutput(TerminalMonitorGuestTests.prompt, timeout: 60))
        pcemu.send("stop\ninfo status\nquit\n")
        XCTAssertEqual(pcemu.wait(timeout: 30), 0)
        XCTAssertTrue(pcemu.standardOutput.hasSuffix("(qemu) (qemu) VM status: paused\n(qemu) "), pcemu.standardOutput)
    }
}

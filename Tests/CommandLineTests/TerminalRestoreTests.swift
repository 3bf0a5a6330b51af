import Foundation
import TestSupport
import XCTest

/// pcemu on a real terminal (a pseudo-terminal): raw while the guest owns
/// it, the user's settings back after Ctrl-A x and after SIGTERM.
final class TerminalRestoreTests: XCTestCase {
    func runOnTerminal(_ end: (pid_t, Int32) -> Void) throws -> (whileRunning: termios, after: termios, status: Int32) {
        var master: Int32 = -1
        var slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else { throw TestSetupError("openpty failed") }
        defer { close(master) }
        let directory = try makeTemporaryDirectory("pcemu-tty")
        defer { try? FileManager.default.removeItem(at: directory) }
        let kernelPath = try TinyBzImage.write([0xF4, 0xEB, 0xFD], into: directory)  // hlt; jmp $-1

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor in [0, 1, 2] as [Int32] { posix_spawn_file_actions_adddup2(&actions, slave, descriptor) }
        let arguments: [String] = [BuildProducts.pcemu, "-nographic", "-kernel", kernelPath]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, BuildProducts.pcemu, &actions, nil, argv, environ) == 0 else {
            throw TestSetupError("cannot start pcemu")
        }
        var before = termios()
        tcgetattr(slave, &before)
        var whileRunning = termios()
        // Raw mode comes once pcemu has started; a loaded machine can take a while.
        let deadline = Date(timeIntervalSinceNow: 60)
        repeat {
            usleep(20_000)
            tcgetattr(slave, &whileRunning)
        } while whileRunning.c_lflag & tcflag_t(ICANON) != 0 && Date() < deadline
        end(pid, master)
        // Bounded: a pcemu that never ends fails the test instead of hanging the suite.
        var status: Int32 = 0
        let exitDeadline = Date(timeIntervalSinceNow: 60)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > exitDeadline {
                XCTFail("pcemu did not end")
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(20_000)
        }
        var after = termios()
        tcgetattr(slave, &after)
        close(slave)
        let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        XCTAssertEqual(after.c_lflag, before.c_lflag)
        XCTAssertEqual(after.c_iflag, before.c_iflag)
        return (whileRunning, after, code)
    }

    func testRawWhileRunningAndRestoredAfterCtrlAX() throws {
        let result = try runOnTerminal { _, master in _ = write(master, [0x01, UInt8(ascii: "x")], 2) }
        XCTAssertEqual(result.whileRunning.c_lflag & tcflag_t(ICANON | ECHO | ISIG), 0)
        XCTAssertNotEqual(result.after.c_lflag & tcflag_t(ICANON | ECHO), 0)
        XCTAssertEqual(result.status, 0)
    }

    func testRestoredAfterSIGTERM() throws {
        let result = try runOnTerminal { pid, _ in kill(pid, SIGTERM) }
        XCTAssertEqual(result.whileRunning.c_lflag & tcflag_t(ICANON), 0)
        XCTAssertNotEqual(result.after.c_lflag & tcflag_t(ICANON | ECHO), 0)
        XCTAssertEqual(result.status, 128 + SIGTERM)
    }
}

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
        let kernel = directory.appendingPathComponent("halt")
        var image = [UInt8](repeating: 0, count: 1024)
        for (offset, bytes) in [(0x1F1, [1]), (0x1FE, [0x55, 0xAA]), (0x200, [0xEB, 0x66]), (0x202, Array("HdrS".utf8)),
                                (0x206, [0x0F, 0x02]), (0x211, [1]), (0x214, [0, 0, 0x10, 0]), (0x238, [0xFF, 0x07]),
                                (0x260, [0, 0, 1, 0])] as [(Int, [UInt8])] {
            image.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        }
        try Data(image + [0xF4, 0xEB, 0xFD]).write(to: kernel)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor in [0, 1, 2] as [Int32] { posix_spawn_file_actions_adddup2(&actions, slave, descriptor) }
        let kernelPath: String = kernel.path
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
        let deadline = Date(timeIntervalSinceNow: 10)
        repeat {
            usleep(20_000)
            tcgetattr(slave, &whileRunning)
        } while whileRunning.c_lflag & tcflag_t(ICANON) != 0 && Date() < deadline
        end(pid, master)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
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

import Configuration
@testable import Control
import Foundation
import Glibc
import Machine
import TestSupport
import Timing
import XCTest

/// The human monitor's session over a pair of pipes, against a real machine
/// that is not running: the prompt, the echo and line editing a terminal
/// gets, the plain lines a socket gets, and `quit` ending it.
final class MonitorSessionTests: XCTestCase {
    /// A session serving one pipe on its own thread and writing into another.
    final class PipeSession {
        let toSession: Int32
        let fromSession: Int32
        let finished = DispatchSemaphore(value: 0)
        private var received: [UInt8] = []

        init(machine: PCMachine, interactive: Bool) {
            var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1]
            precondition(pipe(&input) == 0 && pipe(&output) == 0)
            toSession = input[1]
            fromSession = output[0]
            let (reading, writing) = (input[0], output[1])
            let session = MonitorSession(machine: machine, interactive: interactive) { bytes in
                bytes.withUnsafeBytes { write(writing, $0.baseAddress, $0.count) } == bytes.count
            }
            let done = finished
            Thread {
                session.greet()
                session.serve(input: reading)
                close(reading)
                close(writing)
                done.signal()
            }.start()
        }

        deinit {
            close(toSession)
            close(fromSession)
        }

        func type(_ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { write(toSession, $0.baseAddress, $0.count) }
        }

        /// What the session wrote up to and including `marker` (the prompt by
        /// default); nil if it did not come within 10 s or the output ended.
        func read(through marker: String = "(qemu) ") -> String? {
            let deadline = Date(timeIntervalSinceNow: 10)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline {
                if let range = String(decoding: received, as: UTF8.self).range(of: marker) {
                    let text = String(decoding: received, as: UTF8.self)
                    let upTo = String(text[..<range.upperBound])
                    received = Array(text[range.upperBound...].utf8)
                    return upTo
                }
                var ready = pollfd(fd: fromSession, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 100) >= 0 else { return nil }
                if ready.revents == 0 { continue }
                let count = buffer.withUnsafeMutableBytes { Glibc.read(fromSession, $0.baseAddress, $0.count) }
                guard count > 0 else { return nil }
                received += buffer[0..<count]
            }
            return nil
        }
    }

    private func makeMachine() throws -> PCMachine {
        let configuration = try OptionParser().parse(["-m", "16", "-nic", "none", "-display", "none", "-serial", "null"])
        return try PCMachine(configuration: configuration, clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
    }

    func testATerminalSessionEchoesEditsAndAnswersEachLine() throws {
        let machine = try makeMachine()
        let session = PipeSession(machine: machine, interactive: true)
        XCTAssertEqual(session.read(), "PCEmu \(HelpText.version) monitor - type 'help' for more information\r\n(qemu) ")
        // Typed a letter at a time, two of them taken back with Backspace (DEL) and Ctrl-H.
        session.type("info st")
        XCTAssertEqual(session.read(through: "info st"), "info st", "each character echoed")
        session.type("\u{7F}\u{08}status\r")
        XCTAssertEqual(session.read(), "\u{08} \u{08}\u{08} \u{08}status\r\nVM status: running\r\n(qemu) ")
        // A LF right after the CR is the same Enter; an empty line is just a new prompt.
        session.type("\n\r")
        XCTAssertEqual(session.read(), "\r\n(qemu) ")
        session.type("stop\r")
        XCTAssertEqual(session.read(), "stop\r\n(qemu) ")
        XCTAssertTrue(machine.loop.isPaused, "the command reached the machine")
        // Ctrl-U takes the whole line back; the prompt is drawn again.
        session.type("bogus\u{15}")
        XCTAssertEqual(session.read(through: "\u{1B}[K"), "bogus\r(qemu) \u{1B}[K")
        session.type("info status\r")
        XCTAssertEqual(session.read(), "info status\r\nVM status: paused\r\n(qemu) ")
        // The up arrow brings the last line back (as the other escape form too), down the empty line again.
        session.type("\u{1B}[A")
        XCTAssertEqual(session.read(through: "\u{1B}[K"), "\r(qemu) info status\u{1B}[K")
        session.type("\u{1B}OA")
        XCTAssertEqual(session.read(through: "\u{1B}[K"), "\r(qemu) stop\u{1B}[K")
        session.type("\u{1B}[B\u{1B}[B")
        XCTAssertEqual(session.read(through: "\u{1B}[K"), "\r(qemu) info status\u{1B}[K")
        XCTAssertEqual(session.read(through: "\u{1B}[K"), "\r(qemu) \u{1B}[K")
        // Other sequences (here the right arrow and F5) are read and dropped.
        session.type("\u{1B}[C\u{1B}[15~cont\r")
        XCTAssertEqual(session.read(), "cont\r\n(qemu) ")
        XCTAssertFalse(machine.loop.isPaused)
        session.type("nonsense\r")
        XCTAssertEqual(session.read(), "nonsense\r\nunknown command: 'nonsense'\r\n(qemu) ")
    }

    func testASocketSessionGetsNoEchoAndQuitEndsIt() throws {
        let machine = try makeMachine()
        let session = PipeSession(machine: machine, interactive: false)
        XCTAssertEqual(session.read(), "PCEmu \(HelpText.version) monitor - type 'help' for more information\n(qemu) ")
        session.type("info version\ninfo status\r\n")
        XCTAssertEqual(session.read(), "\(HelpText.version)\n(qemu) ")
        XCTAssertEqual(session.read(), "VM status: running\n(qemu) ")
        // Control characters and escapes are not line editing here: they are dropped.
        session.type("info\u{7F} \u{1B}version\n")
        XCTAssertEqual(session.read(), "\(HelpText.version)\n(qemu) ")
        // A line longer than any command keeps the session going, its end dropped.
        session.type(String(repeating: "x", count: 100_000) + "\ninfo status\n")
        XCTAssertTrue(try XCTUnwrap(session.read()).hasPrefix("unknown command: 'xxxx"))
        XCTAssertEqual(session.read(), "VM status: running\n(qemu) ")
        session.type("quit\n")
        XCTAssertEqual(session.finished.wait(timeout: .now() + 10), .success, "quit ends the session")
        XCTAssertNil(session.read(), "and its output")
    }
}

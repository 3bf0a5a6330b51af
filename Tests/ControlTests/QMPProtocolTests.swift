@testable import Control
import Configuration
import Foundation
import Machine
import TestSupport
import Timing
import XCTest

/// QMP's framing, parsing and replies, and whole sessions over a socket pair
/// against a real machine (built, not running: only commands that need no
/// CPU thread are sent).
final class QMPProtocolTests: XCTestCase {
    private func messages(_ pieces: [QMPStream.Piece]) -> [String] {
        pieces.map { piece in
            guard case let .message(bytes) = piece else { return "<overflow>" }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    func testTheStreamCutsMessagesByBracesWhateverTheLineBreaks() {
        var stream = QMPStream()
        XCTAssertEqual(messages(stream.feed(Array(#"{"a":1}{"b":"}{\"}"}  [1,[2]]"#.utf8))),
                       [#"{"a":1}"#, #"{"b":"}{\"}"}"#, "[1,[2]]"])
        XCTAssertEqual(messages(stream.feed(Array(#"{"execute":"#.utf8))), [], "half a message waits")
        XCTAssertEqual(messages(stream.feed(Array("\n\"stop\"}\n".utf8))), ["{\"execute\":\n\"stop\"}"])
        XCTAssertEqual(messages(stream.feed(Array("garbage here\n}\n42\n{}".utf8))), ["garbage here", "}", "42", "{}"])
    }

    func testTheStreamDropsWhatIsTooLongOrTooDeep() {
        var stream = QMPStream()
        XCTAssertEqual(messages(stream.feed([UInt8](repeating: UInt8(ascii: "["), count: QMPStream.maximumDepth + 1))), ["<overflow>"])
        var long = QMPStream()
        let pieces = long.feed(Array("{\"a\":\"".utf8) + [UInt8](repeating: 0x41, count: QMPStream.maximumLength))
        XCTAssertEqual(messages(pieces).first, "<overflow>")
    }

    func testParsingNamesWhatIsWrongAndKeepsTheID() {
        func error(_ text: String) -> (String?, String?) {
            let (result, id) = QMPMessage.parse(Array(text.utf8))
            guard case let .failure(error) = result else { return (nil, nil) }
            return (error.desc, id.map { "\($0)" })
        }
        XCTAssertEqual(error("[]").0, "QMP input must be a JSON object")
        XCTAssertEqual(error(#"{"id": 3}"#).0, "QMP input lacks member 'execute'")
        XCTAssertEqual(error(#"{"id": 3}"#).1, "3")
        XCTAssertEqual(error(#"{"execute": "stop", "arguments": [1]}"#).0, "QMP input member 'arguments' must be an object")
        XCTAssertEqual(error(#"{"execute": "stop", "exec-oob": "stop"}"#).0, "QMP input member 'exec-oob' is unexpected")
        XCTAssertTrue(error("{nope}").0?.hasPrefix("JSON parse error, ") == true)
        let (result, id) = QMPMessage.parse(Array(#"{"execute": "screendump", "arguments": {"filename": "a/b.ppm"}, "id": "x"}"#.utf8))
        guard case let .success(request) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(request.command, "screendump")
        XCTAssertEqual(request.arguments["filename"] as? String, "a/b.ppm")
        XCTAssertEqual(id as? String, "x")
        XCTAssertEqual(String(decoding: QMPMessage.reply(["file": "a/b"], id: id), as: UTF8.self), "{\"id\":\"x\",\"return\":{\"file\":\"a/b\"}}\r\n")
    }

    func testArgumentsAreTypedAsQEMUTypesThem() throws {
        let values = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(#"{"b":true,"n":1,"s":"x","f":1.5}"#.utf8)) as? [String: Any])
        let arguments = QMPArguments(values: values)
        XCTAssertEqual(try arguments.optionalBool("b"), true)
        XCTAssertEqual(try arguments.optionalInt("n"), 1)
        XCTAssertEqual(try arguments.string("s"), "x")
        XCTAssertThrowsError(try arguments.optionalBool("n"), "a number is no boolean")
        XCTAssertThrowsError(try arguments.optionalInt("b"), "a boolean is no number")
        XCTAssertThrowsError(try arguments.optionalInt("f"), "1.5 is no integer")
        XCTAssertThrowsError(try arguments.string("n"))
        XCTAssertThrowsError(try arguments.string("missing")) { XCTAssertEqual(($0 as? QMPError)?.desc, "Parameter 'missing' is missing") }
        XCTAssertThrowsError(try arguments.allowOnly(["b", "n", "s"])) { XCTAssertEqual(($0 as? QMPError)?.desc, "Parameter 'f' is unexpected") }
    }

    func testEventsHaveQEMUsNamesAndData() {
        let time = timeval(tv_sec: 1_700_000_000, tv_usec: 42)
        XCTAssertEqual(String(decoding: QMPMessage.event(MachineEventName(.reset(.guestReset)), at: time), as: UTF8.self),
                       "{\"data\":{\"guest\":true,\"reason\":\"guest-reset\"},\"event\":\"RESET\",\"timestamp\":{\"microseconds\":42,\"seconds\":1700000000}}\r\n")
        XCTAssertEqual(String(decoding: QMPMessage.event(MachineEventName(.shutdown(.hostQMPQuit)), at: time), as: UTF8.self),
                       "{\"data\":{\"guest\":false,\"reason\":\"host-qmp-quit\"},\"event\":\"SHUTDOWN\",\"timestamp\":{\"microseconds\":42,\"seconds\":1700000000}}\r\n")
        XCTAssertEqual(MachineEventName(.powerdown).name, "POWERDOWN")
        XCTAssertNil(MachineEventName(.stop).data)
    }

    // MARK: Whole sessions

    /// A session on one end of a socket pair; the test is the client on the other.
    private final class Connection {
        let client: Int32
        let lines: SocketLines
        let thread: Thread

        init(machine: PCMachine) {
            var ends: [Int32] = [-1, -1]
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends)
            client = ends[0]
            lines = SocketLines(descriptor: client)
            var limit = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            let server = ends[1]
            let commands = QMPCommands(control: MachineControl(machine: machine))
            let events = machine.loop.events
            thread = Thread {
                QMPSession(input: server, output: server, isSocket: true, commands: commands, events: events).run()
                close(server)
            }
            thread.start()
        }

        deinit { close(client) }

        func send(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        func line() -> String? { lines.next() }

        func exchange(_ text: String) -> String? { lines.exchange(text) }
    }

    private func makeMachine() throws -> PCMachine {
        let configuration = try OptionParser().parse(["-m", "16", "-nic", "none", "-display", "none", "-serial", "null"])
        return try PCMachine(configuration: configuration, clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
    }

    func testStopAndContRaiseEventsOnlyForNegotiatedClients() throws {
        let machine = try makeMachine()
        let connection = Connection(machine: machine)
        XCTAssertTrue(connection.line()?.hasPrefix(#"{"QMP":"#) == true)
        // Not negotiated: no event reaches this client.
        machine.loop.pause()
        XCTAssertEqual(connection.exchange(#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#),
                       #"{"error":{"class":"GenericError","desc":"Capability 'oob' not available"}}"#)
        XCTAssertEqual(connection.exchange(#"{"execute":"qmp_capabilities","arguments":{}}"#), #"{"return":{}}"#)
        XCTAssertEqual(connection.exchange(#"{"execute":"query-status"}"#), #"{"return":{"running":false,"singlestep":false,"status":"paused"}}"#)
        XCTAssertTrue(connection.exchange(#"{"execute":"cont"}"#)?.hasPrefix(#"{"event":"RESUME""#) == true)
        XCTAssertEqual(connection.line(), #"{"return":{}}"#)
        XCTAssertTrue(connection.exchange(#"{"execute":"stop"}"#)?.hasPrefix(#"{"event":"STOP""#) == true)
        XCTAssertEqual(connection.line(), #"{"return":{}}"#)
        XCTAssertEqual(connection.exchange(#"{"execute":"stop"}"#), #"{"return":{}}"#, "a stopped machine stops no more")
        machine.pressPowerButton()
        XCTAssertTrue(connection.line()?.hasPrefix(#"{"event":"POWERDOWN""#) == true)
    }

    /// Random bytes, broken JSON and wrong shapes: each gets an error (or
    /// waits for more), the session never ends or hangs, and a command
    /// afterwards is still answered.
    func testGarbageNeverEndsTheSession() throws {
        let machine = try makeMachine()
        let connection = Connection(machine: machine)
        _ = connection.line()
        XCTAssertEqual(connection.exchange(#"{"execute":"qmp_capabilities"}"#), #"{"return":{}}"#)
        // Nesting Foundation's parser refuses is an error too, not a crash.
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        XCTAssertTrue(connection.exchange(deep)?.hasPrefix(#"{"error":{"class":"GenericError","desc":"JSON parse error"#) == true)
        XCTAssertTrue(connection.exchange(#"{"execute":"query-status","arguments":{"a":"# + deep + "}}")?
            .hasPrefix(#"{"error":{"class":"GenericError","desc":"JSON parse error"#) == true)
        var generator = SystemRandomNumberGenerator()
        let fragments = ["{", "}", "[", "]", "\"", "\\", ":", ",", "execute", "arguments", "id", "1", "-", "e9", "true", "null",
                         "\u{FF}", "\u{00}", " ", "\n", "query-status", "\"execute\"", "{\"execute\":", "screendump"]
        for _ in 0..<300 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 1...40, using: &generator) {
                if Bool.random(using: &generator) {
                    bytes += Array(fragments.randomElement(using: &generator)!.utf8)
                } else {
                    bytes.append(UInt8.random(in: 0...255, using: &generator))
                }
            }
            connection.send(bytes)
        }
        // Whatever the garbage left open (a string, an object, a bare line),
        // more than the longest message overflows it and starts afresh.
        connection.send([UInt8](repeating: UInt8(ascii: "a"), count: QMPStream.maximumLength + 1) + [0x0A])
        connection.send(Array("\n{\"execute\":\"query-version\",\"id\":\"after\"}".utf8))
        var answered = false
        while let line = connection.line() {
            XCTAssertTrue(line.hasPrefix("{\"error\":") || line.hasPrefix("{\"return\":") || line.hasPrefix("{\"id\":"), line)
            if line.contains("\"id\":\"after\"") && line.contains("\"return\":{") {
                answered = true
                break
            }
        }
        XCTAssertTrue(answered, "the session answers after the garbage")
    }
}

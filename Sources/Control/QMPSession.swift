import Configuration
import Foundation
import Glibc
import Machine

/// One QMP client, from its greeting to the end of its connection: reads
/// requests, answers each, and once capabilities are negotiated passes the
/// machine's events on. Replies go out on the reading thread; events on the
/// thread that fires them (a lock keeps whole messages apart).
final class QMPSession {
    private let input: Int32
    private let output: Int32
    /// Sockets are written with send(MSG_NOSIGNAL): a client gone is an error, not SIGPIPE.
    private let isSocket: Bool
    private let commands: QMPCommands
    private let events: MachineEventHub
    private let writeLock = NSLock()
    private var broken = false
    /// qmp_capabilities was accepted: commands run and events flow.
    private var negotiated = false

    init(input: Int32, output: Int32, isSocket: Bool, commands: QMPCommands, events: MachineEventHub) {
        self.input = input
        self.output = output
        self.isSocket = isSocket
        self.commands = commands
        self.events = events
    }

    /// Serves until the client goes (or its output fails).
    func run() {
        var token: Int?
        defer { if let token { events.unsubscribe(token) } }
        guard send(QMPMessage.greeting(package: "PCEmu \(HelpText.version)")) else { return }
        var stream = QMPStream()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            for piece in stream.feed(buffer[0..<count]) {
                let wasNegotiated = negotiated
                guard answer(piece) else { return }
                if negotiated && !wasNegotiated {
                    token = events.subscribe { [weak self] event, time in
                        _ = self?.send(QMPMessage.event(MachineEventName(event), at: time))
                    }
                }
            }
        }
    }

    /// Answers one piece of input; false when the client can no longer be written to.
    private func answer(_ piece: QMPStream.Piece) -> Bool {
        guard case let .message(bytes) = piece else {
            return send(QMPMessage.error(.generic("JSON parse error, the message is too long or nested too deep"), id: nil))
        }
        let (parsed, id) = QMPMessage.parse(bytes)
        let request: QMPRequest
        switch parsed {
        case let .success(value): request = value
        case let .failure(error): return send(QMPMessage.error(error, id: id))
        }
        if request.command == "qmp_capabilities" { return send(negotiate(request, id: id)) }
        guard negotiated else {
            return send(QMPMessage.error(QMPError(errorClass: .commandNotFound,
                                                  desc: "Expecting capabilities negotiation with 'qmp_capabilities'"), id: id))
        }
        switch commands.execute(request) {
        case let .failure(error):
            return send(QMPMessage.error(error, id: id))
        case let .success((value, afterReply)):
            let sent = send(QMPMessage.reply(value, id: id))
            afterReply?()
            return sent
        }
    }

    /// qmp_capabilities: no optional capability is offered, so `enable` may only be empty.
    private func negotiate(_ request: QMPRequest, id: Any?) -> [UInt8] {
        guard !negotiated else {
            return QMPMessage.error(QMPError(errorClass: .commandNotFound,
                                             desc: "Capabilities negotiation is already complete, command ignored"), id: id)
        }
        let arguments = QMPArguments(values: request.arguments)
        do throws(QMPError) {
            try arguments.allowOnly(["enable"])
            if arguments.values["enable"] != nil, let first = try arguments.array("enable").first {
                throw .generic("Capability '\(first)' not available")
            }
        } catch {
            return QMPMessage.error(error, id: id)
        }
        negotiated = true
        return QMPMessage.reply([String: Any](), id: id)
    }

    /// Thread-safe: writes one whole message; false once the client is gone.
    private func send(_ bytes: [UInt8]) -> Bool {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard !broken else { return false }
        if !writeAll(bytes, to: output, isSocket: isSocket) { broken = true }
        return !broken
    }
}

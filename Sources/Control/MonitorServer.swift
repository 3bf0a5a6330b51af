import Configuration
import Foundation
import Glibc
import Machine
import PCEmuSupport

/// The human monitor (HMP) on a listening socket (`-monitor
/// unix:PATH,server,nowait` or `tcp:HOST:PORT,server,nowait`): one client at
/// a time, as QEMU serves a socket chardev. Each line the client sends is a
/// command; its output follows, then the "(qemu) " prompt that QEMU's own
/// tools and scripts wait for. The server's thread only reads and writes the
/// socket; commands reach the machine as `MonitorCommands` arranges.
public final class MonitorServer {
    static let prompt = "(qemu) "
    private let socket: ListeningSocket
    private let commands: MonitorCommands
    private let wait: Bool

    public init(configuration device: MachineConfiguration.CharacterDevice, machine: PCMachine) throws {
        guard case let .socket(address, wait) = device else {
            throw EmulatorError.badOption("-monitor", "only a listening socket is built")
        }
        socket = try ListeningSocket(address, option: "-monitor")
        commands = MonitorCommands(control: MachineControl(machine: machine))
        self.wait = wait
    }

    /// Serves clients on a thread of its own. With `wait` (QEMU's default for
    /// a server socket) it returns only once the first client is connected.
    public func start() {
        socket.serveClients(waitForFirst: wait, threadName: "pcemu-monitor") { [self] in serve($0) }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        guard send("PCEmu \(HelpText.version) monitor - type 'help' for more information\n" + MonitorServer.prompt, to: client) else { return }
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                pending.removeSubrange(...newline)
                let (output, quit) = commands.execute(line)
                if quit { return }
                guard send((output.isEmpty ? "" : output + "\n") + MonitorServer.prompt, to: client) else { return }
            }
            // A line longer than any command: the client is not speaking HMP.
            if pending.count > 65536 { return }
        }
    }

    private func send(_ text: String, to client: Int32) -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            bytes = bytes.dropFirst(sent)
        }
        return true
    }
}

import Configuration
import Foundation
import Glibc
import Machine
import PCEmuSupport

/// The human monitor (HMP) on a listening socket (`-monitor
/// unix:PATH,server,nowait` or `tcp:HOST:PORT,server,nowait`): one client at
/// a time, as QEMU serves a socket chardev, each given a `MonitorSession`
/// (no echo: the client has its own line editing). The server's thread only
/// reads and writes the socket; commands reach the machine as
/// `MonitorCommands` arranges.
public final class MonitorServer {
    private let socket: ListeningSocket
    private let commands: MonitorCommands
    private let wait: Bool

    public init(configuration device: MachineConfiguration.CharacterDevice, machine: PCMachine) throws {
        guard case let .socket(address, wait) = device else {
            throw EmulatorError.badOption("-monitor", "a monitor server needs a listening socket")
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
        let session = MonitorSession(commands: commands, interactive: false) { MonitorServer.send($0, to: client) }
        session.greet()
        session.serve(input: client)
    }

    private static func send(_ bytes: [UInt8], to client: Int32) -> Bool { writeAll(bytes, to: client) }
}

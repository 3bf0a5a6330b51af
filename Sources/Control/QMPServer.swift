import Configuration
import Foundation
import Glibc
import Machine
import PCEmuSupport

/// QMP, QEMU's JSON machine protocol (`-qmp unix:PATH,server,nowait`,
/// `tcp:HOST:PORT,server,nowait` or `stdio`, or `-chardev ... -mon
/// mode=control`): on a socket, one client at a time, one after another; on
/// stdio, one session for the life of the process.
public final class QMPServer {
    /// A client that reads nothing for this long while PCEmu writes to it is
    /// dropped, so it cannot hold up the CPU thread's events.
    static let sendTimeoutSeconds = 5
    private let socket: ListeningSocket?
    private let wait: Bool
    private let commands: QMPCommands
    private let events: MachineEventHub

    public init(configuration device: MachineConfiguration.CharacterDevice, machine: PCMachine) throws {
        switch device {
        case let .socket(address, wait):
            socket = try ListeningSocket(address, option: "-qmp")
            self.wait = wait
        case .stdio:
            socket = nil
            wait = false
        default:
            throw EmulatorError.badOption("-qmp", "only a listening socket or stdio is built")
        }
        commands = QMPCommands(control: MachineControl(machine: machine))
        events = machine.loop.events
    }

    /// Serves on a thread of its own. With `wait` (QEMU's default for a
    /// server socket) it returns only once the first client is connected.
    public func start() {
        guard let socket else {
            // The program reading pcemu's output may go away: that ends the
            // session (write fails with EPIPE), not the emulator.
            signal(SIGPIPE, SIG_IGN)
            let thread = Thread { [self] in
                QMPSession(input: STDIN_FILENO, output: STDOUT_FILENO, isSocket: false, commands: commands, events: events).run()
            }
            thread.name = "pcemu-qmp"
            thread.start()
            return
        }
        socket.serveClients(waitForFirst: wait, threadName: "pcemu-qmp") { [self] in serve($0) }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var limit = timeval(tv_sec: QMPServer.sendTimeoutSeconds, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        QMPSession(input: client, output: client, isSocket: true, commands: commands, events: events).run()
    }
}

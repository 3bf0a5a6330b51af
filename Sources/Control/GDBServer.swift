import CPURuntime
import Configuration
import Foundation
import Glibc
import Machine
import PCEmuSupport

/// QEMU's gdb stub (`-s`, `-gdb tcp::PORT`, the monitor's `gdbserver`): gdb's
/// remote serial protocol on a listening socket, one client at a time on a
/// thread of its own. A client that connects stops the guest; one that
/// detaches or goes away takes its breakpoints with it and lets the guest
/// run on, and the next may connect.
public final class GDBServer {
    private let socket: ListeningSocket
    private let machine: PCMachine
    /// The CPU thread tells the server's thread of a stop through this pipe
    /// (the read end is polled beside the client).
    private let stopPipe: (read: Int32, write: Int32)
    private let stopLock = NSLock()
    private var stops: [CPUDebugger.Stop] = []

    public init(address: MachineConfiguration.SocketAddress, machine: PCMachine, option: String = "-gdb") throws {
        socket = try ListeningSocket(address, option: option)
        self.machine = machine
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            throw EmulatorError.badOption(option, "cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
        stopPipe = (ends[0], ends[1])
    }

    deinit {
        close(stopPipe.read)
        close(stopPipe.write)
    }

    /// Serves clients on a thread of its own; returns at once.
    public func start() {
        let thread = Thread { [self] in
            while let client = socket.accept() { serve(client) }
        }
        thread.name = "pcemu-gdb"
        thread.start()
    }

    // MARK: one client

    private func serve(_ client: Int32) {
        defer { close(client) }
        var on: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        let commands = GDBCommands(machine: machine)
        let session = GDBSession(client: client)
        // As in QEMU, a debugger arriving stops the guest.
        stopGuest(commands)
        _ = commands.onCPUThread { [self] cpu in
            cpu.debugger.onStop = { [weak self] stop in
                guard let self else { return }
                self.machine.loop.pause()
                self.stopLock.lock()
                self.stops.append(stop)
                self.stopLock.unlock()
                var byte: UInt8 = 1
                _ = write(self.stopPipe.write, &byte, 1)
            }
        }
        defer { leave(commands) }
        var decoder = GDBPacketDecoder()
        var running = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var descriptors = [pollfd(fd: client, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if descriptors[1].revents != 0 {
                drainStopPipe()
                if running, let stop = takeStop() {
                    running = false
                    guard session.send(GDBCommands.stopReply(stop)) else { return }
                }
            }
            guard descriptors[0].revents != 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            for event in decoder.feed(buffer[0..<count]) {
                switch event {
                case .ack: break
                case .nack: guard session.resend() else { return }
                case .badChecksum: if !session.noAck { guard session.sendRaw([UInt8(ascii: "-")]) else { return } }
                case .interrupt:
                    guard running else { continue }
                    stopGuest(commands)
                    running = false
                    // A breakpoint reached at the same moment gives way to the interrupt.
                    _ = takeStop()
                    guard session.send(GDBCommands.stopReply(nil)) else { return }
                case .tooLong:
                    guard session.acknowledge(), session.send(GDBCommands.invalid) else { return }
                case let .packet(payload):
                    guard session.acknowledge() else { return }
                    // While the guest runs, only Ctrl-C means anything; gdb sends nothing else then.
                    if running { continue }
                    switch commands.handle(payload) {
                    case let .reply(text): guard session.send(text) else { return }
                    case let .binaryReply(bytes): guard session.send(bytes) else { return }
                    case .startNoAck:
                        guard session.send("OK") else { return }
                        session.noAck = true
                    case let .step(address):
                        let stop = commands.onCPUThread { cpu -> CPUDebugger.Stop in
                            if let address { cpu.instructionPointer = address }
                            return cpu.debugStep()
                        }
                        guard session.send(stop.map { GDBCommands.stopReply($0) } ?? GDBCommands.errorReply) else { return }
                    case let .resume(address):
                        _ = commands.onCPUThread { cpu in
                            if let address { cpu.instructionPointer = address }
                            cpu.prepareToContinue()
                        }
                        drainStopPipe()
                        _ = takeStop()
                        running = true
                        machine.loop.resume()
                    case .detach:
                        _ = session.send("OK")
                        return
                    case .kill:
                        machine.loop.stop(status: 0, cause: .hostUI)
                        return
                    }
                }
            }
        }
    }

    /// Pauses the CPU thread and waits until it no longer runs the guest
    /// (posted work runs only between slices).
    private func stopGuest(_ commands: GDBCommands) {
        machine.loop.pause()
        _ = commands.onCPUThread { _ in () }
    }

    /// The client is gone: its breakpoints and watchpoints go, and the guest runs on.
    private func leave(_ commands: GDBCommands) {
        _ = commands.onCPUThread { cpu in
            cpu.removeAllDebugPoints()
            cpu.debugger.onStop = nil
        }
        drainStopPipe()
        _ = takeStop()
        machine.loop.resume()
    }

    private func drainStopPipe() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while bytes.withUnsafeMutableBytes({ read(stopPipe.read, $0.baseAddress, $0.count) }) > 0 {}
    }

    private func takeStop() -> CPUDebugger.Stop? {
        stopLock.lock()
        defer { stopLock.unlock() }
        let first = stops.first
        stops.removeAll()
        return first
    }
}

/// One client's side of the framing: acknowledgements (until
/// QStartNoAckMode), the last packet kept for a resend after `-`.
final class GDBSession {
    let client: Int32
    var noAck = false
    private var last: [UInt8] = []

    init(client: Int32) { self.client = client }

    func acknowledge() -> Bool { noAck || sendRaw([UInt8(ascii: "+")]) }

    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    func send(_ payload: [UInt8]) -> Bool {
        last = GDBPacketEncoder.frame(payload)
        return sendRaw(last)
    }

    func resend() -> Bool { last.isEmpty || sendRaw(last) }

    func sendRaw(_ bytes: [UInt8]) -> Bool { writeAll(bytes, to: client) }
}

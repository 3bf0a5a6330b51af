import Devices
import Foundation
import PCEmuSupport
import Timing

/// The host's terminal: a UART on it (`-serial stdio`), the human monitor
/// (`-monitor stdio`), or both sharing it (-nographic, `-serial mon:stdio`).
/// The UART's output is written to stdout unbuffered, and keeps coming while
/// the monitor has the keyboard, as in QEMU. Input is read by its own thread
/// (raw mode when stdin is a terminal; a pipe or file as it is, its end not
/// an error) and goes through QEMU's Ctrl-A escapes, Ctrl-A c handing the
/// keyboard between the UART and the monitor. The UART's input is queued;
/// the CPU thread moves it into the UART only as fast as its receiver has
/// room, so pasted text or a piped file is not lost to overruns. The
/// monitor's goes to it on the reader thread.
final class StdioConsole: SerialBackend {
    static let escapeKey: UInt8 = 0x01  // Ctrl-A
    /// Above this many queued bytes the reader waits for the guest to catch up.
    static let queueLimit = 4096
    /// How soon to try again when the UART's receiver is full (ns): about one
    /// character time at 115200 baud, times a few.
    static let retryInterval: Int64 = 300_000

    static let escapeHelp = [("h", "print this help"), ("x", "exit emulator")]
    static let switchHelp = ("c", "switch between console and monitor")

    /// The keys Ctrl-A takes, one a line (`c` only when the monitor shares the terminal).
    var helpText: String {
        let keys = StdioConsole.escapeHelp + (sharesMonitor ? [StdioConsole.switchHelp] : []) + [("C-a", "sends C-a")]
        return "\r\n" + keys.map { "C-a \($0.0.padding(toLength: 4, withPad: " ", startingAt: 0)) \($0.1)\r\n" }.joined()
    }

    /// The UART whose receiver gets the input (the CPU thread's object); set
    /// while the machine is built, before the reader starts.
    var receiver: UART16550?
    /// The human monitor on this terminal; set before the reader starts.
    var monitor: TerminalMonitor?
    /// The monitor has the keyboard (the reader thread's).
    private var monitorFocused = false
    private var sharesMonitor: Bool { monitor != nil && receiver != nil }
    private let loop: CPUThreadLoop
    private let scheduler: EventScheduler
    private let clock: VirtualClock
    private let output: FileDescriptorBackend
    private let queueLock = NSCondition()
    private var queue: [UInt8] = []
    private var queueHead = 0
    private var drainPosted = false
    private var retryTimer: TimerEvent!
    private var escapePending = false

    init(loop: CPUThreadLoop, scheduler: EventScheduler, clock: VirtualClock,
         outputDescriptor: Int32 = STDOUT_FILENO) {
        self.loop = loop
        self.scheduler = scheduler
        self.clock = clock
        output = FileDescriptorBackend(descriptor: outputDescriptor, ownsDescriptor: false)
        retryTimer = TimerEvent(name: "stdio-input") { [unowned self] in self.drain() }
    }

    func transmit(_ byte: UInt8) { output.transmit(byte) }

    /// Raw mode (for a terminal) and the reader thread.
    func start() {
        TerminalMode.enterRaw()
        // A monitor with the terminal to itself has the keyboard from the start.
        if let monitor, receiver == nil {
            monitorFocused = true
            monitor.takeTerminal()
        }
        let thread = Thread { [self] in readStandardInput() }
        thread.name = "stdin-reader"
        thread.start()
    }

    // MARK: The reader thread

    private func readStandardInput() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }  // end of input (or an error): the guest just gets no more
            var data: [UInt8] = []
            for byte in buffer[..<count] { process(byte, into: &data) }
            deliver(&data)
        }
    }

    /// Hands what was typed to whichever has the keyboard.
    private func deliver(_ data: inout [UInt8]) {
        guard !data.isEmpty else { return }
        if monitorFocused {
            monitor?.typed(data)
        } else if receiver != nil {
            enqueue(data)
        }
        data.removeAll()
    }

    /// Ctrl-A escapes, as QEMU's multiplexed stdio reads them.
    func process(_ byte: UInt8, into data: inout [UInt8]) {
        guard escapePending else {
            if byte == StdioConsole.escapeKey { escapePending = true } else { data.append(byte) }
            return
        }
        escapePending = false
        switch byte {
        case StdioConsole.escapeKey: data.append(byte)
        case UInt8(ascii: "x"), UInt8(ascii: "X"):
            writeNotice("pcemu: terminated\r\n")
            loop.stop(status: 0, cause: .hostUI)
        case UInt8(ascii: "h"), UInt8(ascii: "H"), UInt8(ascii: "?"):
            writeNotice(helpText)
        case UInt8(ascii: "c"), UInt8(ascii: "C"):
            guard sharesMonitor, let monitor else { break }
            // What came before the switch goes where the keyboard was.
            deliver(&data)
            monitorFocused.toggle()
            if monitorFocused { monitor.takeTerminal() }
        default:
            break
        }
    }

    private func writeNotice(_ text: String) {
        for byte in text.utf8 { output.transmit(byte) }
    }

    private func enqueue(_ data: [UInt8]) {
        queueLock.lock()
        while queue.count - queueHead >= StdioConsole.queueLimit { queueLock.wait() }
        queue.append(contentsOf: data)
        let post = !drainPosted
        drainPosted = true
        queueLock.unlock()
        if post { loop.post { [self] in drain() } }
    }

    // MARK: The CPU thread

    /// Moves what the receiver can take; tries again shortly if bytes remain.
    /// The clock was set (a snapshot loaded): a pending retry runs at once
    /// instead of at a deadline the new time may be far from.
    func clockWasSet() {
        if retryTimer.isPending { scheduler.schedule(retryTimer, at: clock.now) }
    }

    private func drain() {
        guard let receiver else { return }
        queueLock.lock()
        let count = min(queue.count - queueHead, receiver.receiveSpace)
        let bytes = queue[queueHead..<queueHead + count]
        queueHead += count
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
        let remaining = queue.count - queueHead
        drainPosted = remaining > 0
        queueLock.broadcast()
        queueLock.unlock()
        for byte in bytes { receiver.receive(byte) }
        if remaining > 0, !retryTimer.isPending {
            scheduler.schedule(retryTimer, at: clock.now + StdioConsole.retryInterval)
        }
    }
}

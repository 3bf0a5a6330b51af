import Devices
import Foundation
import PCEmuSupport
import Timing

/// `-serial stdio`: a UART on the host's terminal. Output is written to
/// stdout unbuffered. Input is read by its own thread (raw mode when stdin
/// is a terminal; a pipe or file as it is, its end not an error), goes
/// through QEMU's Ctrl-A escapes, and is queued; the CPU thread moves it into
/// the UART only as fast as its receiver has room, so pasted text or a piped
/// file is not lost to overruns.
final class StdioConsole: SerialBackend {
    static let escapeKey: UInt8 = 0x01  // Ctrl-A
    /// Above this many queued bytes the reader waits for the guest to catch up.
    static let queueLimit = 4096
    /// How soon to try again when the UART's receiver is full (ns): about one
    /// character time at 115200 baud, times a few.
    static let retryInterval: Int64 = 300_000

    static let helpText = """
        \r
        C-a h    print this help\r
        C-a x    exit emulator\r
        C-a C-a  sends C-a\r

        """

    /// The UART whose receiver gets the input (the CPU thread's object).
    var receiver: UART16550?
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
            if !data.isEmpty { enqueue(data) }
        }
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
            writeNotice(StdioConsole.helpText)
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

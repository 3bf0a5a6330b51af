import PCEmuSupport

/// A ring of bytes with a fixed capacity, allocated once: a PS/2 device's
/// output queue. Pushing to a full queue is refused, never grows it.
struct PS2ByteQueue {
    let capacity: Int
    private var bytes: [UInt8]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        bytes = [UInt8](repeating: 0, count: capacity)
    }

    var isEmpty: Bool { count == 0 }
    var space: Int { capacity - count }

    @discardableResult
    mutating func push(_ byte: UInt8) -> Bool {
        guard count < capacity else { return false }
        bytes[(head + count) % capacity] = byte
        count += 1
        return true
    }

    mutating func pop() -> UInt8? {
        guard count > 0 else { return nil }
        let byte = bytes[head]
        head = (head + 1) % capacity
        count -= 1
        return byte
    }

    mutating func clear() {
        head = 0
        count = 0
    }

    /// The bytes queued, oldest first.
    var contents: [UInt8] { (0..<count).map { bytes[(head + $0) % capacity] } }

    /// A queue of `capacity` holding `contents`; nil when they do not fit.
    init?(capacity: Int, contents: [UInt8]) {
        guard contents.count <= capacity else { return nil }
        self.init(capacity: capacity)
        for byte in contents { push(byte) }
    }
}

/// Bytes the PS/2 devices send and understand in both directions.
enum PS2Reply {
    static let acknowledge: UInt8 = 0xFA
    static let resend: UInt8 = 0xFE
    static let selfTestPassed: UInt8 = 0xAA
    static let echo: UInt8 = 0xEE
}

/// One device on a PS/2 port (the keyboard or the mouse) as the 8042 sees it:
/// bytes written to it one at a time, and two queues it sends from, command
/// responses before input events (a device answers a command before it sends
/// anything else).
public class PS2Device {
    /// Responses to commands: a few bytes at most (the mouse status is 4).
    static let responseCapacity = 8

    var responses = PS2ByteQueue(capacity: PS2Device.responseCapacity)
    var events: PS2ByteQueue
    /// The last byte sent, for the resend command.
    var lastSent: UInt8 = 0
    /// Tells the controller a byte may be waiting; set when the 8042 is wired.
    var dataAvailable: () -> Void = {}

    init(eventCapacity: Int) {
        events = PS2ByteQueue(capacity: eventCapacity)
    }

    var hasData: Bool { !responses.isEmpty || !events.isEmpty }

    /// The next byte for the controller's output buffer, if any.
    func nextByte() -> UInt8? {
        let byte = responses.pop() ?? events.pop()
        if let byte { lastSent = byte }
        if responses.isEmpty && events.space > 0 { queueDrained() }
        return byte
    }

    /// A byte from the host (port 0x60, or command 0xD4 for the mouse).
    func receive(_ byte: UInt8) {}

    /// Called after the controller took a byte; the mouse sends pending motion.
    func queueDrained() {}

    func respond(_ bytes: UInt8...) {
        for byte in bytes where !responses.push(byte) {
            Log.write(.guestErrors, "ps2: response queue full, dropped 0x\(String(byte, radix: 16))")
        }
        dataAvailable()
    }

    /// Resend: the last byte again, before anything else.
    func resendLast() {
        let byte = lastSent
        responses.clear()
        respond(byte)
    }
}

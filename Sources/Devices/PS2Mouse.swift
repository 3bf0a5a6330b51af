import PCEmuSupport

/// A PS/2 mouse with the IntelliMouse wheel extension: stream and remote
/// modes, sample rate, resolution and scaling settings, wrap (echo) mode,
/// and 3-byte packets (4 with the wheel once the guest unlocked it by setting
/// the sample rate to 200, 100, 80). Motion from the host accumulates and is
/// sent as packets while there is room in the queue.
public final class PS2Mouse: PS2Device {
    /// Room for a few dozen packets; motion beyond waits in the accumulator.
    static let queueCapacity = 128

    enum Command {
        static let setScaling1to1: UInt8 = 0xE6
        static let setScaling2to1: UInt8 = 0xE7
        static let setResolution: UInt8 = 0xE8
        static let statusRequest: UInt8 = 0xE9
        static let setStreamMode: UInt8 = 0xEA
        static let readData: UInt8 = 0xEB
        static let resetWrapMode: UInt8 = 0xEC
        static let setWrapMode: UInt8 = 0xEE
        static let setRemoteMode: UInt8 = 0xF0
        static let getID: UInt8 = 0xF2
        static let setSampleRate: UInt8 = 0xF3
        static let enableReporting: UInt8 = 0xF4
        static let disableReporting: UInt8 = 0xF5
        static let setDefaults: UInt8 = 0xF6
        static let resend: UInt8 = 0xFE
        static let reset: UInt8 = 0xFF
    }

    enum DeviceID {
        static let standard: UInt8 = 0x00
        static let wheel: UInt8 = 0x03
    }

    /// The sample rates that, set in this order, turn the wheel on.
    static let wheelUnlockRates: [UInt8] = [200, 100, 80]

    /// The first byte of a movement packet.
    enum PacketBit {
        static let left: UInt8 = 0x01
        static let right: UInt8 = 0x02
        static let middle: UInt8 = 0x04
        static let alwaysOne: UInt8 = 0x08
        static let xSign: UInt8 = 0x10
        static let ySign: UInt8 = 0x20
        static let xOverflow: UInt8 = 0x40
        static let yOverflow: UInt8 = 0x80
    }

    /// The first byte of the status reply.
    enum StatusBit {
        static let right: UInt8 = 0x01
        static let middle: UInt8 = 0x02
        static let left: UInt8 = 0x04
        static let scaling2to1: UInt8 = 0x10
        static let reportingEnabled: UInt8 = 0x20
        static let remoteMode: UInt8 = 0x40
    }

    /// A packet carries 9-bit two's-complement deltas, the wheel 4 bits.
    static let deltaRange = -256...255
    static let wheelRange = -8...7
    static let defaultSampleRate: UInt8 = 100
    /// 4 counts per millimetre.
    static let defaultResolution: UInt8 = 2
    static let maximumResolution: UInt8 = 3

    /// Mouse buttons as `move` takes them.
    public struct Buttons: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let left = Buttons(rawValue: 0x01)
        public static let right = Buttons(rawValue: 0x02)
        public static let middle = Buttons(rawValue: 0x04)
    }

    struct State {
        var reporting = false
        var remoteMode = false
        var wrapMode = false
        var scaling2to1 = false
        var sampleRate = PS2Mouse.defaultSampleRate
        var resolution = PS2Mouse.defaultResolution
        var deviceID = DeviceID.standard
        /// The last three sample rates set, newest last, for the wheel unlock.
        var recentRates: (UInt8, UInt8, UInt8) = (0, 0, 0)
        var pendingCommand: UInt8?
        /// Motion not yet sent, in packet terms (dy positive up, dz positive down).
        var dx = 0, dy = 0, dz = 0
        var buttons: Buttons = []
        /// The buttons last reported; a change needs a packet even without motion.
        var reportedButtons: Buttons = []
    }

    var state = State()

    public init() {
        super.init(eventCapacity: PS2Mouse.queueCapacity)
    }

    public func reset() {
        state = State()
        responses.clear()
        events.clear()
    }

    public var deviceID: UInt8 { state.deviceID }
    public var isReporting: Bool { state.reporting }

    // MARK: The host side

    /// Host motion: `dx` right, `dy` down (screen convention, as SDL reports
    /// it; the mouse turns it into PS/2's up), `wheel` positive away from the
    /// user (a scroll up; the packet's Z counts the other way), and the
    /// buttons held now.
    public func move(dx: Int, dy: Int, wheel: Int = 0, buttons: Buttons) {
        state.dx = clampedSum(state.dx, dx)
        state.dy = clampedSum(state.dy, -dy)
        state.dz = clampedSum(state.dz, -wheel)
        state.buttons = buttons
        guard state.reporting && !state.remoteMode && !state.wrapMode else { return }
        if sendPendingMotion() { dataAvailable() }
    }

    private func clampedSum(_ a: Int, _ b: Int) -> Int {
        // Far beyond any packet's range; only stops the accumulator overflowing.
        let limit = 1 << 20
        return min(max(a &+ b, -limit), limit)
    }

    private var packetSize: Int { state.deviceID == DeviceID.wheel ? 4 : 3 }

    private var hasPendingMotion: Bool {
        state.dx != 0 || state.dy != 0 || (state.dz != 0 && state.deviceID == DeviceID.wheel)
            || state.buttons != state.reportedButtons
    }

    /// Queues accumulated motion as packets while there is room; true if any went.
    private func sendPendingMotion() -> Bool {
        var sent = false
        while hasPendingMotion && events.space >= packetSize {
            for byte in makePacket() { events.push(byte) }
            sent = true
        }
        return sent
    }

    /// The controller is taking bytes already: no need to tell it.
    override func queueDrained() {
        if state.reporting && !state.remoteMode && !state.wrapMode { _ = sendPendingMotion() }
    }

    /// One packet from the accumulator, taking what fits out of it.
    private func makePacket() -> [UInt8] {
        let dx = take(&state.dx, range: PS2Mouse.deltaRange)
        let dy = take(&state.dy, range: PS2Mouse.deltaRange)
        var dz = 0
        if state.deviceID == DeviceID.wheel { dz = take(&state.dz, range: PS2Mouse.wheelRange) } else { state.dz = 0 }
        state.reportedButtons = state.buttons
        let scaledX = scaled(dx), scaledY = scaled(dy)
        var first = PacketBit.alwaysOne | state.buttons.rawValue
        if scaledX < 0 { first |= PacketBit.xSign }
        if scaledY < 0 { first |= PacketBit.ySign }
        // Motion too big for one packet goes in the next ones; only 2:1
        // scaling past the 9-bit range is an overflow the guest must see.
        if !PS2Mouse.deltaRange.contains(scaledX) { first |= PacketBit.xOverflow }
        if !PS2Mouse.deltaRange.contains(scaledY) { first |= PacketBit.yOverflow }
        let x = UInt8(truncatingIfNeeded: clamp(scaledX, PS2Mouse.deltaRange))
        let y = UInt8(truncatingIfNeeded: clamp(scaledY, PS2Mouse.deltaRange))
        if packetSize == 4 { return [first, x, y, UInt8(truncatingIfNeeded: dz)] }
        return [first, x, y]
    }

    /// Takes up to the range's worth of a delta, leaving the rest for later.
    private func take(_ delta: inout Int, range: ClosedRange<Int>) -> Int {
        let value = clamp(delta, range)
        delta -= value
        return value
    }

    private func clamp(_ value: Int, _ range: ClosedRange<Int>) -> Int {
        min(max(value, range.lowerBound), range.upperBound)
    }

    /// 2:1 scaling, applied to stream packets: small moves are damped, larger doubled.
    private func scaled(_ delta: Int) -> Int {
        guard state.scaling2to1 else { return delta }
        let magnitude = abs(delta)
        let mapped: Int
        switch magnitude {
        case 0...1: mapped = magnitude
        case 2: mapped = 1
        case 3: mapped = 3
        case 4: mapped = 6
        case 5: mapped = 9
        default: mapped = magnitude * 2
        }
        return delta < 0 ? -mapped : mapped
    }

    // MARK: Commands from the guest

    override func receive(_ byte: UInt8) {
        if state.wrapMode && byte != Command.resetWrapMode && byte != Command.reset {
            respond(byte)
            return
        }
        if let command = state.pendingCommand {
            state.pendingCommand = nil
            argument(byte, of: command)
            return
        }
        switch byte {
        case Command.setScaling1to1, Command.setScaling2to1:
            state.scaling2to1 = byte == Command.setScaling2to1
            respond(PS2Reply.acknowledge)
        case Command.setResolution, Command.setSampleRate:
            state.pendingCommand = byte
            respond(PS2Reply.acknowledge)
        case Command.statusRequest:
            respond(PS2Reply.acknowledge, statusByte, state.resolution, state.sampleRate)
        case Command.setStreamMode:
            state.remoteMode = false
            discardMotion()
            respond(PS2Reply.acknowledge)
        case Command.readData:
            // The acknowledge, then one packet even without motion.
            respond(PS2Reply.acknowledge)
            for packetByte in makePacket() { responses.push(packetByte) }
        case Command.resetWrapMode:
            state.wrapMode = false
            discardMotion()
            respond(PS2Reply.acknowledge)
        case Command.setWrapMode:
            state.wrapMode = true
            discardMotion()
            respond(PS2Reply.acknowledge)
        case Command.setRemoteMode:
            state.remoteMode = true
            discardMotion()
            respond(PS2Reply.acknowledge)
        case Command.getID:
            respond(PS2Reply.acknowledge, state.deviceID)
        case Command.enableReporting:
            state.reporting = true
            discardMotion()
            respond(PS2Reply.acknowledge)
        case Command.disableReporting:
            state.reporting = false
            discardMotion()
            respond(PS2Reply.acknowledge)
        case Command.setDefaults:
            setDefaults()
            respond(PS2Reply.acknowledge)
        case Command.resend:
            resendLast()
        case Command.reset:
            reset()
            respond(PS2Reply.acknowledge, PS2Reply.selfTestPassed, DeviceID.standard)
        default:
            Log.write(.guestErrors, "ps2 mouse: unknown command 0x\(String(byte, radix: 16))")
            respond(PS2Reply.resend)
        }
    }

    private func argument(_ byte: UInt8, of command: UInt8) {
        if command == Command.setResolution {
            guard byte <= PS2Mouse.maximumResolution else {
                Log.write(.guestErrors, "ps2 mouse: resolution \(byte) out of range")
                respond(PS2Reply.resend)
                return
            }
            state.resolution = byte
        } else {
            state.sampleRate = byte
            state.recentRates = (state.recentRates.1, state.recentRates.2, byte)
            let rates = PS2Mouse.wheelUnlockRates
            if state.recentRates == (rates[0], rates[1], rates[2]) { state.deviceID = DeviceID.wheel }
        }
        respond(PS2Reply.acknowledge)
    }

    /// The defaults of 0xF6: settings back to power-on, reporting off, the ID kept.
    private func setDefaults() {
        let id = state.deviceID
        state = State()
        state.deviceID = id
        events.clear()
    }

    /// Mode changes start from a clean slate: queued packets and motion go.
    private func discardMotion() {
        events.clear()
        state.dx = 0
        state.dy = 0
        state.dz = 0
        state.reportedButtons = state.buttons
    }

    private var statusByte: UInt8 {
        let buttons = state.buttons
        return (buttons.contains(.left) ? StatusBit.left : 0) | (buttons.contains(.right) ? StatusBit.right : 0)
            | (buttons.contains(.middle) ? StatusBit.middle : 0) | (state.scaling2to1 ? StatusBit.scaling2to1 : 0)
            | (state.reporting ? StatusBit.reportingEnabled : 0) | (state.remoteMode ? StatusBit.remoteMode : 0)
    }
}

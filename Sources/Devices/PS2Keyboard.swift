import PCEmuSupport

/// An MF2 PS/2 keyboard: the command set an AT/PS/2 BIOS and Linux's atkbd
/// use, scancode sets 1 and 2 (set 3 is accepted but sends set 2 codes), and
/// a bounded output queue fed by the host. Typematic repeat is the host's
/// business: a held host key that repeats calls `press` again.
public final class PS2Keyboard: PS2Device {
    /// Bytes the host may queue before keys are lost (a real keyboard holds
    /// 16; more lets a paste or a burst survive a busy guest).
    public static let queueCapacity = 256

    enum Command {
        static let setLEDs: UInt8 = 0xED
        static let echo: UInt8 = 0xEE
        static let scancodeSet: UInt8 = 0xF0
        static let identify: UInt8 = 0xF2
        static let setTypematic: UInt8 = 0xF3
        static let enable: UInt8 = 0xF4
        static let disable: UInt8 = 0xF5
        static let setDefaults: UInt8 = 0xF6
        /// 0xF7-0xFD: set-3 key attributes.
        static let set3AttributesFirst: UInt8 = 0xF7
        static let set3AttributesLast: UInt8 = 0xFD
        static let resend: UInt8 = 0xFE
        static let reset: UInt8 = 0xFF
        /// Argument bytes are below this; a byte at or above it is a new command.
        static let firstCommand: UInt8 = 0xED
    }

    /// The MF2 keyboard's identity.
    static let identity: (UInt8, UInt8) = (0xAB, 0x83)
    /// Argument of 0xF0 that asks for the current set instead of setting one.
    static let querySet: UInt8 = 0
    /// Sent in place of keys lost to a full queue: set 1 uses 0xFF, sets 2 and 3 use 0x00.
    static let overrunSet1: UInt8 = 0xFF
    static let overrunSet2: UInt8 = 0x00
    /// Typematic 10.9 characters/s after 500 ms: the power-on setting.
    static let defaultTypematic: UInt8 = 0x2B

    /// The three LEDs of the 0xED command.
    public struct LEDs: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let scrollLock = LEDs(rawValue: 0x01)
        public static let numLock = LEDs(rawValue: 0x02)
        public static let capsLock = LEDs(rawValue: 0x04)
        static let all: LEDs = [.scrollLock, .numLock, .capsLock]
    }

    struct State {
        var scanning = true
        var scancodeSet = 2
        var leds: LEDs = []
        var typematic = PS2Keyboard.defaultTypematic
        /// A command waiting for its argument byte.
        var pendingCommand: UInt8?
        /// An overrun code is already queued for the current loss.
        var overrunQueued = false
    }

    var state = State()
    /// The modifier keys down on the host's keyboard. Physical state: the
    /// guest's commands (reset, defaults) do not change it.
    private var heldModifierKeys: Set<PS2Key> = []
    /// The modifiers held when Print Screen went down, until it comes up.
    private var printScreenModifiers: PS2Key.Modifiers?
    /// Called when the guest changes the LEDs.
    public var ledsChanged: (LEDs) -> Void

    public init(ledsChanged: @escaping (LEDs) -> Void = { _ in }) {
        self.ledsChanged = ledsChanged
        super.init(eventCapacity: PS2Keyboard.queueCapacity)
    }

    /// Power-on: defaults, empty queues, scanning, LEDs off.
    public func reset() {
        let hadLEDs = !state.leds.isEmpty
        state = State()
        responses.clear()
        events.clear()
        if hadLEDs { ledsChanged([]) }
    }

    public var leds: LEDs { state.leds }
    public var scancodeSet: Int { state.scancodeSet }
    public var isScanning: Bool { state.scanning }

    // MARK: The host side

    public func press(_ key: PS2Key) {
        let modifiers = heldModifiers
        changeHeld(key, pressed: true)
        // Print Screen is released the way it was pressed, whatever was let go meanwhile.
        if key == .printScreen { printScreenModifiers = modifiers }
        send(key.sequence(set: state.scancodeSet == 1 ? 1 : 2, pressed: true, modifiers: modifiers))
    }

    public func release(_ key: PS2Key) {
        changeHeld(key, pressed: false)
        var modifiers = heldModifiers
        if key == .printScreen, let pressedWith = printScreenModifiers {
            modifiers = pressedWith
            printScreenModifiers = nil
        }
        send(key.sequence(set: state.scancodeSet == 1 ? 1 : 2, pressed: false, modifiers: modifiers))
    }

    /// The modifiers held now, from the keys pressed and not yet released.
    var heldModifiers: PS2Key.Modifiers {
        heldModifierKeys.reduce(into: []) { $0.formUnion($1.modifier) }
    }

    private func changeHeld(_ key: PS2Key, pressed: Bool) {
        guard !key.modifier.isEmpty else { return }
        if pressed { heldModifierKeys.insert(key) } else { heldModifierKeys.remove(key) }
    }

    /// Raw bytes of one key event in the keyboard's current set (for a host
    /// that already speaks set 2, including 0xE0/0xE1 sequences). A sequence
    /// is queued whole or not at all.
    public func sendScancodes(_ bytes: [UInt8]) { send(bytes) }

    private func send(_ bytes: [UInt8]) {
        guard state.scanning, !bytes.isEmpty else { return }
        // Keep one place for the overrun code, so the guest learns keys were lost.
        if events.space - 1 < bytes.count {
            if !state.overrunQueued {
                state.overrunQueued = events.push(state.scancodeSet == 1 ? PS2Keyboard.overrunSet1 : PS2Keyboard.overrunSet2)
                Log.write(.device, "ps2 keyboard: queue full, key lost")
                dataAvailable()
            }
            return
        }
        state.overrunQueued = false
        for byte in bytes { events.push(byte) }
        dataAvailable()
    }

    // MARK: Commands from the guest

    override func receive(_ byte: UInt8) {
        if let command = state.pendingCommand, byte < Command.firstCommand {
            state.pendingCommand = nil
            argument(byte, of: command)
            return
        }
        state.pendingCommand = nil
        switch byte {
        case Command.setLEDs, Command.scancodeSet, Command.setTypematic:
            state.pendingCommand = byte
            respond(PS2Reply.acknowledge)
        case Command.echo:
            respond(PS2Reply.echo)
        case Command.identify:
            respond(PS2Reply.acknowledge, PS2Keyboard.identity.0, PS2Keyboard.identity.1)
        case Command.enable:
            state.scanning = true
            events.clear()
            respond(PS2Reply.acknowledge)
        case Command.disable:
            setDefaults()
            state.scanning = false
            respond(PS2Reply.acknowledge)
        case Command.setDefaults:
            setDefaults()
            respond(PS2Reply.acknowledge)
        case Command.set3AttributesFirst...Command.set3AttributesLast:
            Log.write(.unimplemented, "ps2 keyboard: set-3 key attributes command 0x\(String(byte, radix: 16)) ignored")
            respond(PS2Reply.acknowledge)
        case Command.resend:
            resendLast()
        case Command.reset:
            reset()
            respond(PS2Reply.acknowledge, PS2Reply.selfTestPassed)
        default:
            Log.write(.guestErrors, "ps2 keyboard: unknown command 0x\(String(byte, radix: 16))")
            respond(PS2Reply.resend)
        }
    }

    private func argument(_ byte: UInt8, of command: UInt8) {
        switch command {
        case Command.setLEDs:
            let leds = LEDs(rawValue: byte).intersection(.all)
            respond(PS2Reply.acknowledge)
            if leds != state.leds {
                state.leds = leds
                ledsChanged(leds)
            }
        case Command.scancodeSet:
            switch byte {
            case PS2Keyboard.querySet:
                respond(PS2Reply.acknowledge, UInt8(state.scancodeSet))
            case 1, 2, 3:
                if byte == 3 { Log.write(.unimplemented, "ps2 keyboard: scancode set 3 sends set 2 codes") }
                state.scancodeSet = Int(byte)
                events.clear()
                respond(PS2Reply.acknowledge)
            default:
                Log.write(.guestErrors, "ps2 keyboard: no scancode set \(byte)")
                respond(PS2Reply.resend)
            }
        default: // Command.setTypematic
            state.typematic = byte
            respond(PS2Reply.acknowledge)
        }
    }

    /// The defaults of 0xF5/0xF6: typematic and set back, queue emptied.
    private func setDefaults() {
        state.typematic = PS2Keyboard.defaultTypematic
        state.scancodeSet = 2
        state.scanning = true
        state.overrunQueued = false
        events.clear()
    }
}

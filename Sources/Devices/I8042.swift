import Memory
import PCEmuSupport

/// The 8042 keyboard controller of a PS/2 PC: data port 0x60, status and
/// command port 0x64, the keyboard on IRQ 1 and the mouse (aux) on IRQ 12,
/// the command byte with its interrupt, disable and translation bits, and
/// the output port that carries the A20 gate and the CPU reset line.
/// Commands complete at once, so the input buffer is never seen full.
public final class I8042: PortHandler {
    public static let dataPort: UInt16 = 0x60
    public static let commandPort: UInt16 = 0x64
    public static let keyboardIRQ = 1
    public static let mouseIRQ = 12

    enum Port {
        static let data: UInt16 = 0
        /// 0x64 is reached through a window at this offset.
        static let command: UInt16 = 4
    }

    enum Status {
        static let outputFull: UInt8 = 0x01
        static let inputFull: UInt8 = 0x02
        static let systemFlag: UInt8 = 0x04
        /// The last write was to the command port.
        static let command: UInt8 = 0x08
        /// The keylock switch is open: the keyboard is not inhibited.
        static let notInhibited: UInt8 = 0x10
        static let auxOutputFull: UInt8 = 0x20
    }

    /// The command byte (controller RAM byte 0).
    enum CommandByte {
        static let keyboardInterrupt: UInt8 = 0x01
        static let auxInterrupt: UInt8 = 0x02
        static let systemFlag: UInt8 = 0x04
        static let ignoreKeylock: UInt8 = 0x08
        static let keyboardDisabled: UInt8 = 0x10
        static let auxDisabled: UInt8 = 0x20
        static let translate: UInt8 = 0x40
        static let powerOn: UInt8 = keyboardInterrupt | auxInterrupt | translate
    }

    enum Command {
        static let readRAMFirst: UInt8 = 0x20   // 0x20 reads the command byte
        static let readRAMLast: UInt8 = 0x3F
        static let writeRAMFirst: UInt8 = 0x60  // 0x60 writes the command byte
        static let writeRAMLast: UInt8 = 0x7F
        static let passwordInstalled: UInt8 = 0xA4
        static let disableAux: UInt8 = 0xA7
        static let enableAux: UInt8 = 0xA8
        static let testAux: UInt8 = 0xA9
        static let selfTest: UInt8 = 0xAA
        static let testKeyboard: UInt8 = 0xAB
        static let disableKeyboard: UInt8 = 0xAD
        static let enableKeyboard: UInt8 = 0xAE
        static let readInputPort: UInt8 = 0xC0
        static let readOutputPort: UInt8 = 0xD0
        static let writeOutputPort: UInt8 = 0xD1
        static let writeKeyboardOutput: UInt8 = 0xD2
        static let writeAuxOutput: UInt8 = 0xD3
        static let writeAux: UInt8 = 0xD4
        static let disableA20: UInt8 = 0xDD
        static let enableA20: UInt8 = 0xDF
        static let readTestInputs: UInt8 = 0xE0
        /// 0xF0-0xFF pulse the output port lines whose bits (3-0) are clear.
        static let pulseFirst: UInt8 = 0xF0
    }

    enum Reply {
        static let selfTestPassed: UInt8 = 0x55
        static let interfaceOK: UInt8 = 0x00
        static let noPassword: UInt8 = 0xF1
        /// Input port: bit 7 set, the keyboard is not inhibited.
        static let inputPort: UInt8 = 0x80
        static let testInputs: UInt8 = 0x00
    }

    enum OutputPort {
        /// Active low: clearing it resets the CPU.
        static let resetDeasserted: UInt8 = 0x01
        static let a20: UInt8 = 0x02
        static let keyboardOutputFull: UInt8 = 0x10
        static let auxOutputFull: UInt8 = 0x20
        static let bufferBits: UInt8 = keyboardOutputFull | auxOutputFull
        /// Reset off, A20 on, clock and data lines idle high.
        static let powerOn: UInt8 = 0xCF
        static let pulseMask: UInt8 = 0x0F
    }

    static let ramSize = 32
    static let ramIndexMask: UInt8 = 0x1F
    /// Room for controller replies and bytes written with 0xD2/0xD3.
    static let replyCapacity = 8

    struct State {
        var ram = [UInt8](repeating: 0, count: I8042.ramSize)
        var systemFlag = false
        var lastWriteWasCommand = false
        var outputPort = OutputPort.powerOn
        /// A command whose data byte the next write to 0x60 brings.
        var pendingCommand: UInt8?
        var outputBuffer: UInt8 = 0
        var outputFull = false
        var outputFromAux = false
        /// The source that filled the buffer last, so a busy keyboard cannot starve the mouse.
        var lastFromAux = false
        /// Translation saw set 2's 0xF0: the next byte becomes a set 1 break code.
        var translatedBreakPending = false
        var replies = PS2ByteQueue(capacity: I8042.replyCapacity)
        var replySources = PS2ByteQueue(capacity: I8042.replyCapacity)

        init() { ram[0] = CommandByte.powerOn }
    }

    public let keyboard = PS2Keyboard()
    public let mouse = PS2Mouse()
    let keyboardIRQ: InterruptLine
    let mouseIRQ: InterruptLine
    private let setA20: (Bool) -> Void
    private let requestReset: () -> Void
    var state = State()
    private(set) lazy var commandWindow = PortWindow(self, offset: Port.command)

    /// `keyboardIRQ` is IRQ 1, `mouseIRQ` IRQ 12. `setA20` gates address line
    /// 20 and `requestReset` resets the machine, as ports 0x92 and 0xCF9 do.
    public init(keyboardIRQ: InterruptLine, mouseIRQ: InterruptLine,
                setA20: @escaping (Bool) -> Void, requestReset: @escaping () -> Void) {
        self.keyboardIRQ = keyboardIRQ
        self.mouseIRQ = mouseIRQ
        self.setA20 = setA20
        self.requestReset = requestReset
        super.init()
        keyboard.dataAvailable = { [unowned self] in self.fillOutputBuffer() }
        mouse.dataAvailable = { [unowned self] in self.fillOutputBuffer() }
    }

    /// Attaches the data port at 0x60 and the command port at 0x64.
    public func attach(to bus: IOPortBus) throws {
        try bus.attach(self, name: "i8042-data", base: I8042.dataPort, count: 1)
        try bus.attach(commandWindow, name: "i8042-command", base: I8042.commandPort, count: 1)
    }

    /// Resets the controller and both devices. The A20 line is the machine's
    /// to reset: the output port's power-on value matches a machine reset.
    public func reset() {
        state = State()
        keyboard.reset()
        mouse.reset()
        updateInterrupts()
    }

    public var commandByte: UInt8 { state.ram[0] }

    // MARK: Ports

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        if offset == Port.command { return UInt32(statusRegister) }
        // With nothing new the buffer still holds its last byte.
        let byte = state.outputBuffer
        if state.outputFull {
            state.outputFull = false
            updateInterrupts()
            fillOutputBuffer()
        }
        return UInt32(byte)
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        if offset == Port.command {
            state.lastWriteWasCommand = true
            state.pendingCommand = nil
            command(byte)
        } else {
            state.lastWriteWasCommand = false
            data(byte)
        }
    }

    private var statusRegister: UInt8 {
        var status = Status.notInhibited
        if state.outputFull { status |= Status.outputFull | (state.outputFromAux ? Status.auxOutputFull : 0) }
        if state.systemFlag { status |= Status.systemFlag }
        if state.lastWriteWasCommand { status |= Status.command }
        return status
    }

    private func command(_ byte: UInt8) {
        switch byte {
        case Command.readRAMFirst...Command.readRAMLast:
            reply(state.ram[Int(byte & I8042.ramIndexMask)])
        case Command.writeRAMFirst...Command.writeRAMLast,
             Command.writeOutputPort, Command.writeKeyboardOutput, Command.writeAuxOutput, Command.writeAux:
            state.pendingCommand = byte
        case Command.passwordInstalled:
            reply(Reply.noPassword)
        case Command.disableAux:
            setCommandByte(commandByte | CommandByte.auxDisabled)
        case Command.enableAux:
            setCommandByte(commandByte & ~CommandByte.auxDisabled)
        case Command.testAux, Command.testKeyboard:
            reply(Reply.interfaceOK)
        case Command.selfTest:
            state.systemFlag = true
            reply(Reply.selfTestPassed)
        case Command.disableKeyboard:
            setCommandByte(commandByte | CommandByte.keyboardDisabled)
        case Command.enableKeyboard:
            setCommandByte(commandByte & ~CommandByte.keyboardDisabled)
        case Command.readInputPort:
            reply(Reply.inputPort)
        case Command.readOutputPort:
            reply(outputPortValue)
        case Command.disableA20:
            writeOutputPort(state.outputPort & ~OutputPort.a20)
        case Command.enableA20:
            writeOutputPort(state.outputPort | OutputPort.a20)
        case Command.readTestInputs:
            reply(Reply.testInputs)
        case Command.pulseFirst...:
            // Pulsed lines go low for a moment; only the reset line does anything.
            if byte & OutputPort.resetDeasserted == 0 {
                Log.write(.cpuReset, "i8042: reset pulse (command 0x\(String(byte, radix: 16)))")
                requestReset()
            }
        default:
            Log.write(.guestErrors, "i8042: unknown command 0x\(String(byte, radix: 16))")
        }
    }

    private func data(_ byte: UInt8) {
        guard let command = state.pendingCommand else {
            // Sending to the keyboard enables its interface again.
            if commandByte & CommandByte.keyboardDisabled != 0 {
                setCommandByte(commandByte & ~CommandByte.keyboardDisabled)
            }
            keyboard.receive(byte)
            return
        }
        state.pendingCommand = nil
        switch command {
        case Command.writeRAMFirst:
            setCommandByte(byte)
        case Command.writeRAMFirst...Command.writeRAMLast:
            state.ram[Int(command & I8042.ramIndexMask)] = byte
        case Command.writeOutputPort:
            writeOutputPort(byte)
        case Command.writeKeyboardOutput:
            reply(byte)
        case Command.writeAuxOutput:
            reply(byte, fromAux: true)
        default: // Command.writeAux
            mouse.receive(byte)
        }
    }

    private func setCommandByte(_ byte: UInt8) {
        state.ram[0] = byte
        state.systemFlag = byte & CommandByte.systemFlag != 0
        updateInterrupts()
        fillOutputBuffer()
    }

    /// The output port as 0xD0 reads it, with the buffer-full lines live.
    private var outputPortValue: UInt8 {
        var value = state.outputPort & ~OutputPort.bufferBits
        if state.outputFull { value |= state.outputFromAux ? OutputPort.auxOutputFull : OutputPort.keyboardOutputFull }
        return value
    }

    private func writeOutputPort(_ byte: UInt8) {
        let old = state.outputPort
        state.outputPort = byte
        if (old ^ byte) & OutputPort.a20 != 0 { setA20(byte & OutputPort.a20 != 0) }
        if byte & OutputPort.resetDeasserted == 0 {
            Log.write(.cpuReset, "i8042: reset through the output port")
            requestReset()
        }
    }

    // MARK: The output buffer

    private func reply(_ byte: UInt8, fromAux: Bool = false) {
        guard state.replies.push(byte) else {
            Log.write(.guestErrors, "i8042: replies not read, 0x\(String(byte, radix: 16)) lost")
            return
        }
        state.replySources.push(fromAux ? 1 : 0)
        fillOutputBuffer()
    }

    /// Moves the next byte into an empty output buffer: the controller's own
    /// replies first, then the keyboard and the mouse in turn, each only while
    /// its interface is enabled.
    private func fillOutputBuffer() {
        guard !state.outputFull else { return }
        if let byte = state.replies.pop() {
            load(byte, fromAux: state.replySources.pop() == 1)
            return
        }
        let keyboardEnabled = commandByte & CommandByte.keyboardDisabled == 0
        let auxEnabled = commandByte & CommandByte.auxDisabled == 0
        let mouseFirst = !state.lastFromAux && auxEnabled && mouse.hasData
        if !mouseFirst && keyboardEnabled, let byte = nextKeyboardByte() {
            load(byte, fromAux: false)
        } else if auxEnabled, let byte = mouse.nextByte() {
            load(byte, fromAux: true)
        }
    }

    private func load(_ byte: UInt8, fromAux: Bool) {
        state.outputBuffer = byte
        state.outputFull = true
        state.outputFromAux = fromAux
        state.lastFromAux = fromAux
        updateInterrupts()
    }

    /// The keyboard's next byte, translated to set 1 when the command byte says so.
    private func nextKeyboardByte() -> UInt8? {
        while let byte = keyboard.nextByte() {
            guard commandByte & CommandByte.translate != 0 else { return byte }
            if byte == PS2Key.set2BreakPrefix {
                state.translatedBreakPending = true
                continue
            }
            var translated = I8042.set2ToSet1[Int(byte)]
            if state.translatedBreakPending {
                translated |= PS2Key.set1BreakBit
                state.translatedBreakPending = false
            }
            return translated
        }
        return nil
    }

    func updateInterrupts() {
        let byte = commandByte
        keyboardIRQ.set(state.outputFull && !state.outputFromAux && byte & CommandByte.keyboardInterrupt != 0)
        mouseIRQ.set(state.outputFull && state.outputFromAux && byte & CommandByte.auxInterrupt != 0)
    }

    // MARK: Translation

    /// The controller's set 2 to set 1 table, built from the key list. Bytes
    /// that are not keys (replies, prefixes) pass unchanged, except the
    /// overrun code 0x00, which becomes set 1's 0xFF, and the two set 2 codes
    /// above 0x7F: F7 (0x83) and Alt+SysRq (0x84).
    static let set2ToSet1: [UInt8] = {
        var table = (0...255).map { UInt8($0) }
        for key in PS2Key.allCases {
            let codes = key.codes
            table[Int(codes.set2)] = codes.set1
        }
        table[Int(PS2Keyboard.overrunSet2)] = PS2Keyboard.overrunSet1
        table[Int(sysRequestSet2)] = sysRequestSet1
        return table
    }()
    /// Alt+Print Screen sends SysRq, a code of its own in both sets.
    static let sysRequestSet2: UInt8 = 0x84
    static let sysRequestSet1: UInt8 = 0x54
}

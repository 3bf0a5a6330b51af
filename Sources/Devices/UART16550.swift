import Memory
import PCEmuSupport
import Timing

/// Where a UART's transmitted bytes go (a terminal, a file, a socket).
public protocol SerialBackend: AnyObject {
    func transmit(_ byte: UInt8)
}

/// The receive FIFO: a ring of 16 bytes, allocated once.
struct ReceiveFIFO {
    static let capacity = 16
    private var bytes = [UInt8](repeating: 0, count: ReceiveFIFO.capacity)
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func push(_ byte: UInt8) {
        bytes[(head + count) % ReceiveFIFO.capacity] = byte
        count += 1
    }

    mutating func pop() -> UInt8 {
        let byte = bytes[head]
        head = (head + 1) % ReceiveFIFO.capacity
        count -= 1
        return byte
    }

    mutating func clear() {
        head = 0
        count = 0
    }

    /// The unread bytes, oldest first.
    var contents: [UInt8] { (0..<count).map { bytes[(head + $0) % ReceiveFIFO.capacity] } }
}

/// The 16550A UART of a PC serial port: eight registers at a base port
/// (COM1 0x3F8 with IRQ 4, COM2 0x2F8 with IRQ 3), 16-byte receive FIFO with
/// trigger levels and character timeout, modem control with loopback, and
/// the PC's OUT2 gate on the interrupt line. Transmission is immediate: the
/// byte goes to the backend and the holding register is empty again.
public final class UART16550: PortHandler {
    public static let com1Base: UInt16 = 0x3F8
    public static let com1IRQ = 4
    public static let com2Base: UInt16 = 0x2F8
    public static let com2IRQ = 3
    public static let portCount = 8
    /// The baud rate generator's input clock (Hz): divisor 1 is 115200 baud.
    static let inputClockHz: Int64 = 1_843_200
    /// A character timeout is signalled after this many character times.
    static let timeoutCharacters: Int64 = 4

    enum Register {
        static let data: UInt16 = 0            // RBR / THR, DLL with DLAB
        static let interruptEnable: UInt16 = 1 // IER, DLM with DLAB
        static let interruptID: UInt16 = 2     // IIR / FCR
        static let lineControl: UInt16 = 3
        static let modemControl: UInt16 = 4
        static let lineStatus: UInt16 = 5
        static let modemStatus: UInt16 = 6
        static let scratch: UInt16 = 7
    }

    enum IER {
        static let receivedData: UInt8 = 0x01
        static let transmitterEmpty: UInt8 = 0x02
        static let lineStatus: UInt8 = 0x04
        static let modemStatus: UInt8 = 0x08
        static let writable: UInt8 = 0x0F
    }

    enum IIR {
        static let noInterrupt: UInt8 = 0x01
        static let lineStatus: UInt8 = 0x06
        static let receivedData: UInt8 = 0x04
        static let characterTimeout: UInt8 = 0x0C
        static let transmitterEmpty: UInt8 = 0x02
        static let modemStatus: UInt8 = 0x00
        static let fifosEnabled: UInt8 = 0xC0
    }

    enum FCR {
        static let enable: UInt8 = 0x01
        static let clearReceive: UInt8 = 0x02
        static let clearTransmit: UInt8 = 0x04
        static let triggerShift: UInt8 = 6
        /// Receive trigger levels selected by FCR bits 7-6.
        static let triggerLevels = [1, 4, 8, 14]
    }

    enum LCR {
        static let wordLengthMask: UInt8 = 0x03
        static let twoStopBits: UInt8 = 0x04
        static let parityEnable: UInt8 = 0x08
        static let divisorLatchAccess: UInt8 = 0x80
    }

    enum MCR {
        static let dtr: UInt8 = 0x01
        static let rts: UInt8 = 0x02
        static let out1: UInt8 = 0x04
        static let out2: UInt8 = 0x08
        static let loopback: UInt8 = 0x10
        static let writable: UInt8 = 0x1F
    }

    enum LSR {
        static let dataReady: UInt8 = 0x01
        static let overrun: UInt8 = 0x02
        static let parityError: UInt8 = 0x04
        static let framingError: UInt8 = 0x08
        static let breakInterrupt: UInt8 = 0x10
        static let holdingRegisterEmpty: UInt8 = 0x20
        static let transmitterEmpty: UInt8 = 0x40
        static let errors: UInt8 = 0x1E
    }

    enum MSR {
        static let deltaCTS: UInt8 = 0x01
        static let deltaDSR: UInt8 = 0x02
        static let trailingEdgeRI: UInt8 = 0x04
        static let deltaDCD: UInt8 = 0x08
        static let cts: UInt8 = 0x10
        static let dsr: UInt8 = 0x20
        static let ri: UInt8 = 0x40
        static let dcd: UInt8 = 0x80
        /// The far end of the virtual cable is always there and ready.
        static let cableReady: UInt8 = cts | dsr | dcd
    }

    struct State {
        var interruptEnable: UInt8 = 0
        var lineControl: UInt8 = 0
        var modemControl: UInt8 = 0
        var lineStatus: UInt8 = LSR.holdingRegisterEmpty | LSR.transmitterEmpty
        var modemStatusDeltas: UInt8 = 0
        var scratch: UInt8 = 0
        var divisor: UInt16 = 12
        var fifoEnabled = false
        var triggerLevel = 1
        var receive = ReceiveFIFO()
        var transmitterEmptyPending = false
        var timeoutPending = false
    }

    public let name: String
    let clock: VirtualClock
    let scheduler: EventScheduler
    let irq: InterruptLine
    public var backend: SerialBackend?
    var state = State()
    private(set) var timeoutTimer: TimerEvent!

    /// `irq` is the port's interrupt wire (IRQ 4 for COM1, 3 for COM2).
    public init(name: String, clock: VirtualClock, scheduler: EventScheduler, irq: InterruptLine,
                backend: SerialBackend? = nil) {
        self.name = name
        self.clock = clock
        self.scheduler = scheduler
        self.irq = irq
        self.backend = backend
        super.init()
        timeoutTimer = TimerEvent(name: "\(name)-timeout") { [unowned self] in self.characterTimeoutExpired() }
    }

    public func reset() {
        state = State()
        scheduler.cancel(timeoutTimer)
        updateInterrupt()
    }

    // MARK: The host side

    /// A byte arriving on the serial line (call on the CPU thread). If the
    /// receiver is full the byte is lost and the guest sees an overrun.
    public func receive(_ byte: UInt8) {
        // In loopback the receiver listens to the transmitter only.
        guard state.modemControl & MCR.loopback == 0 else { return }
        deliverToReceiver(byte)
    }

    /// How many bytes `receive` can take now without an overrun.
    public var receiveSpace: Int { receiveCapacity - state.receive.count }

    private var receiveCapacity: Int { state.fifoEnabled ? ReceiveFIFO.capacity : 1 }

    private func deliverToReceiver(_ byte: UInt8) {
        if state.receive.count >= receiveCapacity {
            state.lineStatus |= LSR.overrun
            Log.write(.device, "\(name): receive overrun")
            // Without FIFOs the new character overwrites the unread one.
            if !state.fifoEnabled {
                state.receive.clear()
                state.receive.push(byte)
            }
        } else {
            state.receive.push(byte)
        }
        state.lineStatus |= LSR.dataReady
        // A new character restarts the timeout count.
        state.timeoutPending = false
        restartCharacterTimeout()
        updateInterrupt()
    }

    // MARK: Ports

    private var divisorLatchSelected: Bool { state.lineControl & LCR.divisorLatchAccess != 0 }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        switch offset {
        case Register.data:
            return UInt32(divisorLatchSelected ? UInt8(truncatingIfNeeded: state.divisor) : readReceiveBuffer())
        case Register.interruptEnable:
            return UInt32(divisorLatchSelected ? UInt8(truncatingIfNeeded: state.divisor >> 8) : state.interruptEnable)
        case Register.interruptID:
            let identification = pendingInterrupt
            if identification == IIR.transmitterEmpty {
                // Reading the IIR that reports THRE acknowledges it.
                state.transmitterEmptyPending = false
                updateInterrupt()
            }
            return UInt32(identification | (state.fifoEnabled ? IIR.fifosEnabled : 0))
        case Register.lineControl:
            return UInt32(state.lineControl)
        case Register.modemControl:
            return UInt32(state.modemControl)
        case Register.lineStatus:
            let status = state.lineStatus
            state.lineStatus &= ~LSR.errors
            updateInterrupt()
            return UInt32(status)
        case Register.modemStatus:
            let status = state.modemStatusDeltas | modemInputs
            state.modemStatusDeltas = 0
            updateInterrupt()
            return UInt32(status)
        default:
            return UInt32(state.scratch)
        }
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        switch offset {
        case Register.data:
            if divisorLatchSelected {
                state.divisor = state.divisor & 0xFF00 | UInt16(byte)
            } else {
                transmit(byte)
            }
        case Register.interruptEnable:
            if divisorLatchSelected {
                state.divisor = state.divisor & 0x00FF | UInt16(byte) << 8
            } else {
                writeInterruptEnable(byte)
            }
        case Register.interruptID:
            writeFIFOControl(byte)
        case Register.lineControl:
            state.lineControl = byte
        case Register.modemControl:
            writeModemControl(byte)
        case Register.lineStatus, Register.modemStatus:
            Log.write(.guestErrors, "\(name): write 0x\(String(byte, radix: 16)) to read-only status register \(offset)")
        default:
            state.scratch = byte
        }
    }

    private func readReceiveBuffer() -> UInt8 {
        guard !state.receive.isEmpty else { return 0 }
        let byte = state.receive.pop()
        if state.receive.isEmpty { state.lineStatus &= ~LSR.dataReady }
        state.timeoutPending = false
        restartCharacterTimeout()
        updateInterrupt()
        return byte
    }

    private func transmit(_ byte: UInt8) {
        // Writing THR acknowledges THRE; the line drops before it rises again
        // for the now-empty register, so an edge-triggered PIC sees each one.
        state.transmitterEmptyPending = false
        updateInterrupt()
        if state.modemControl & MCR.loopback != 0 {
            deliverToReceiver(byte)
        } else {
            backend?.transmit(byte)
        }
        state.transmitterEmptyPending = true
        updateInterrupt()
    }

    private func writeInterruptEnable(_ byte: UInt8) {
        let old = state.interruptEnable
        state.interruptEnable = byte & IER.writable
        // Enabling THRE with the holding register empty interrupts at once.
        if state.interruptEnable & ~old & IER.transmitterEmpty != 0,
           state.lineStatus & LSR.holdingRegisterEmpty != 0 {
            state.transmitterEmptyPending = true
        }
        restartCharacterTimeout()
        updateInterrupt()
    }

    private func writeFIFOControl(_ byte: UInt8) {
        let enable = byte & FCR.enable != 0
        if enable != state.fifoEnabled {
            // Switching FIFO mode empties both FIFOs.
            state.fifoEnabled = enable
            clearReceiver()
        }
        if enable {
            if byte & FCR.clearReceive != 0 { clearReceiver() }
            // FCR.clearTransmit: transmission is immediate, nothing is queued.
            state.triggerLevel = FCR.triggerLevels[Int(byte >> FCR.triggerShift)]
        }
        updateInterrupt()
    }

    private func clearReceiver() {
        state.receive.clear()
        state.lineStatus &= ~LSR.dataReady
        state.timeoutPending = false
        scheduler.cancel(timeoutTimer)
    }

    private func writeModemControl(_ byte: UInt8) {
        let oldInputs = modemInputs
        state.modemControl = byte & MCR.writable
        let newInputs = modemInputs
        let changed = oldInputs ^ newInputs
        if changed & MSR.cts != 0 { state.modemStatusDeltas |= MSR.deltaCTS }
        if changed & MSR.dsr != 0 { state.modemStatusDeltas |= MSR.deltaDSR }
        if changed & MSR.dcd != 0 { state.modemStatusDeltas |= MSR.deltaDCD }
        if oldInputs & ~newInputs & MSR.ri != 0 { state.modemStatusDeltas |= MSR.trailingEdgeRI }
        updateInterrupt()
    }

    /// The modem input lines: in loopback they are the modem outputs.
    private var modemInputs: UInt8 {
        let control = state.modemControl
        guard control & MCR.loopback != 0 else { return MSR.cableReady }
        return (control & MCR.rts != 0 ? MSR.cts : 0) | (control & MCR.dtr != 0 ? MSR.dsr : 0)
            | (control & MCR.out1 != 0 ? MSR.ri : 0) | (control & MCR.out2 != 0 ? MSR.dcd : 0)
    }

    // MARK: Interrupts

    /// The highest-priority enabled interrupt condition, as the IIR reports it.
    private var pendingInterrupt: UInt8 {
        let enabled = state.interruptEnable
        if enabled & IER.lineStatus != 0 && state.lineStatus & LSR.errors != 0 { return IIR.lineStatus }
        if enabled & IER.receivedData != 0 {
            if state.fifoEnabled {
                if state.receive.count >= state.triggerLevel { return IIR.receivedData }
                if state.timeoutPending { return IIR.characterTimeout }
            } else if state.lineStatus & LSR.dataReady != 0 {
                return IIR.receivedData
            }
        }
        if enabled & IER.transmitterEmpty != 0 && state.transmitterEmptyPending { return IIR.transmitterEmpty }
        if enabled & IER.modemStatus != 0 && state.modemStatusDeltas != 0 { return IIR.modemStatus }
        return IIR.noInterrupt
    }

    /// On a PC the interrupt reaches the PIC only through OUT2, which
    /// loopback forces inactive.
    func updateInterrupt() {
        let gateOpen = state.modemControl & (MCR.out2 | MCR.loopback) == MCR.out2
        irq.set(gateOpen && pendingInterrupt != IIR.noInterrupt)
    }

    /// Time of one character with the current framing and divisor.
    var characterTimeNanoseconds: Int64 {
        let control = state.lineControl
        let dataBits = 5 + Int64(control & LCR.wordLengthMask)
        let bits = 1 + dataBits + (control & LCR.parityEnable != 0 ? 1 : 0) + (control & LCR.twoStopBits != 0 ? 2 : 1)
        let divisor = state.divisor == 0 ? 0x10000 : Int64(state.divisor)
        return bits * divisor * 16 * 1_000_000_000 / UART16550.inputClockHz
    }

    /// Arms the character timeout while received data waits below the trigger
    /// level with the data interrupt enabled.
    private func restartCharacterTimeout() {
        if state.fifoEnabled && !state.receive.isEmpty && state.interruptEnable & IER.receivedData != 0 {
            scheduler.schedule(timeoutTimer, at: clock.now &+ UART16550.timeoutCharacters &* characterTimeNanoseconds)
        } else {
            scheduler.cancel(timeoutTimer)
        }
    }

    private func characterTimeoutExpired() {
        guard state.fifoEnabled && !state.receive.isEmpty else { return }
        state.timeoutPending = true
        updateInterrupt()
    }
}

import Memory
import PCEmuSupport

/// One 8259A programmable interrupt controller: eight inputs, the request
/// (IRR), in-service (ISR) and mask (IMR) registers, and the ICW/OCW command
/// set. The PC has two, cascaded; `PIC8259` wires them. Each chip handles its
/// own two ports (command at offset 0, data at offset 1).
public final class PIC8259Chip: PortHandler {
    enum Port {
        static let command: UInt16 = 0
        static let data: UInt16 = 1
    }

    /// Bits of the command port writes that say which command it is.
    enum Command {
        static let icw1: UInt8 = 0x10
        static let ocw3: UInt8 = 0x08
        // ICW1
        static let icw1NeedsICW4: UInt8 = 0x01
        static let icw1Single: UInt8 = 0x02
        static let icw1LevelTriggered: UInt8 = 0x08
        // ICW4
        static let icw4x86Mode: UInt8 = 0x01
        static let icw4AutoEOI: UInt8 = 0x02
        static let icw4SpecialFullyNested: UInt8 = 0x10
        // OCW2: the top three bits select the operation, the low three the level
        static let ocw2OperationMask: UInt8 = 0xE0
        static let ocw2LevelMask: UInt8 = 0x07
        static let rotateInAutoEOIClear: UInt8 = 0x00
        static let nonSpecificEOI: UInt8 = 0x20
        static let noOperation: UInt8 = 0x40
        static let specificEOI: UInt8 = 0x60
        static let rotateInAutoEOISet: UInt8 = 0x80
        static let rotateOnNonSpecificEOI: UInt8 = 0xA0
        static let setPriority: UInt8 = 0xC0
        static let rotateOnSpecificEOI: UInt8 = 0xE0
        // OCW3
        static let ocw3Poll: UInt8 = 0x04
        static let ocw3ReadRegister: UInt8 = 0x02
        static let ocw3ReadISR: UInt8 = 0x01
        static let ocw3SpecialMaskChange: UInt8 = 0x40
        static let ocw3SpecialMaskSet: UInt8 = 0x20
    }

    /// Which initialisation word the data port expects next.
    enum InitStep { case ready, icw2, icw3, icw4 }

    struct State {
        var irr: UInt8 = 0
        var isr: UInt8 = 0
        var imr: UInt8 = 0
        /// The lowest-numbered input of the rotation: it has the highest priority.
        var highestPriorityInput: UInt8 = 0
        var vectorBase: UInt8 = 0
        var initStep = InitStep.ready
        var expectICW4 = false
        var singleMode = false
        /// ICW1 LTIM: every input level-triggered, whatever the ELCR says.
        var allLevelTriggered = false
        var cascadeWord: UInt8 = 0
        var autoEOI = false
        var rotateOnAutoEOI = false
        var specialFullyNested = false
        var specialMask = false
        var readISR = false
        var pollNext = false
    }

    let name: String
    let isMaster: Bool
    /// ELCR bits that may be set: the timer, keyboard, cascade, RTC and FPU
    /// inputs are always edge-triggered on a PIIX.
    let elcrWritableMask: UInt8
    var state = State()
    /// The ELCR (edge/level control) belongs to the southbridge, not to the
    /// 8259, so ICW1 leaves it alone.
    var elcr: UInt8 = 0
    /// The level on each input wire: the wires keep their level across a reset.
    var inputLevels: UInt8 = 0
    /// Tells the pair that this chip's output may have changed.
    var outputMayHaveChanged: () -> Void = {}

    init(name: String, isMaster: Bool) {
        self.name = name
        self.isMaster = isMaster
        elcrWritableMask = isMaster ? 0xF8 : 0xDE
    }

    func reset() {
        state = State()
        elcr = 0
    }

    var levelTriggeredInputs: UInt8 { state.allLevelTriggered ? 0xFF : elcr }

    // MARK: Inputs

    func setInput(_ input: Int, level: Bool) {
        let bit: UInt8 = 1 << UInt8(input)
        let wasHigh = inputLevels & bit != 0
        if level { inputLevels |= bit } else { inputLevels &= ~bit }
        if levelTriggeredInputs & bit != 0 {
            // A level-triggered request lasts exactly as long as the line is high.
            if level { state.irr |= bit } else { state.irr &= ~bit }
        } else if level && !wasHigh {
            // An edge is latched: the request stays even if the line drops again.
            state.irr |= bit
        }
    }

    /// The slave's INT wire on the master's IR2. It asks exactly while the
    /// slave asks (a real 8259 drops a request whose input fell before INTA),
    /// so a withdrawn slave request does not leave the master asking.
    func setCascadeRequest(_ asking: Bool) {
        let bit: UInt8 = 1 << PIC8259.cascadeInput
        if asking { state.irr |= bit } else { state.irr &= ~bit }
    }

    // MARK: Priority resolution

    /// The input of the highest-priority set bit of `bits`, or nil.
    func highestPriorityInput(in bits: UInt8) -> UInt8? {
        guard bits != 0 else { return nil }
        var input = state.highestPriorityInput
        while bits & (1 << input) == 0 { input = (input &+ 1) & 7 }
        return input
    }

    /// Priority rank of an input: 0 is the highest.
    func rank(_ input: UInt8) -> UInt8 { (input &- state.highestPriorityInput) & 7 }

    /// The input that would be delivered now, or nil if the output is low.
    var pendingInput: UInt8? {
        guard let request = highestPriorityInput(in: state.irr & ~state.imr) else { return nil }
        var inService = state.isr
        // Special mask mode: masked in-service levels do not block others.
        if state.specialMask { inService &= ~state.imr }
        // Special fully nested: the slave may interrupt again while in service.
        if state.specialFullyNested && isMaster { inService &= ~(1 << PIC8259.cascadeInput) }
        guard let current = highestPriorityInput(in: inService) else { return request }
        return rank(request) < rank(current) ? request : nil
    }

    /// The INTA cycle for `input`: it goes in service and its edge is consumed.
    func acknowledge(_ input: UInt8) {
        let bit: UInt8 = 1 << input
        if levelTriggeredInputs & bit == 0 { state.irr &= ~bit }
        if state.autoEOI {
            if state.rotateOnAutoEOI { state.highestPriorityInput = (input &+ 1) & 7 }
        } else {
            state.isr |= bit
        }
    }

    // MARK: Ports

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        if state.pollNext {
            // A poll read is an acknowledge without INTA: bit 7 says whether
            // there was a request, the low bits which.
            state.pollNext = false
            guard let input = pendingInput else { return 0 }
            acknowledge(input)
            outputMayHaveChanged()
            return 0x80 | UInt32(input)
        }
        switch offset {
        case Port.command: return UInt32(state.readISR ? state.isr : state.irr)
        default: return UInt32(state.imr)
        }
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        if offset == Port.command {
            if byte & Command.icw1 != 0 {
                writeICW1(byte)
            } else if byte & Command.ocw3 != 0 {
                writeOCW3(byte)
            } else {
                writeOCW2(byte)
            }
        } else {
            writeData(byte)
        }
        outputMayHaveChanged()
    }

    private func writeICW1(_ byte: UInt8) {
        // Initialisation clears everything but the ELCR and the input wires;
        // edge requests are forgotten, so a line already high needs a new edge.
        let levelRequests = state.irr & levelTriggeredInputs
        state = State()
        state.expectICW4 = byte & Command.icw1NeedsICW4 != 0
        state.singleMode = byte & Command.icw1Single != 0
        state.allLevelTriggered = byte & Command.icw1LevelTriggered != 0
        state.irr = levelRequests & inputLevels
        state.initStep = .icw2
        if state.singleMode {
            Log.write(.unimplemented, "\(name): single (uncascaded) mode; the PC always cascades")
        }
    }

    private func writeData(_ byte: UInt8) {
        switch state.initStep {
        case .ready:
            state.imr = byte
        case .icw2:
            state.vectorBase = byte & 0xF8
            state.initStep = state.singleMode ? (state.expectICW4 ? .icw4 : .ready) : .icw3
        case .icw3:
            state.cascadeWord = byte
            let expected: UInt8 = isMaster ? 1 << PIC8259.cascadeInput : PIC8259.cascadeInput
            if byte != expected {
                Log.write(.guestErrors, "\(name): ICW3 0x\(String(byte, radix: 16)) is not the PC's cascade wiring")
            }
            state.initStep = state.expectICW4 ? .icw4 : .ready
        case .icw4:
            if byte & Command.icw4x86Mode == 0 {
                Log.write(.unimplemented, "\(name): 8080/8085 mode; vectors stay 8086-style")
            }
            state.autoEOI = byte & Command.icw4AutoEOI != 0
            state.specialFullyNested = byte & Command.icw4SpecialFullyNested != 0
            state.initStep = .ready
        }
    }

    private func writeOCW2(_ byte: UInt8) {
        let level = byte & Command.ocw2LevelMask
        switch byte & Command.ocw2OperationMask {
        case Command.rotateInAutoEOIClear:
            state.rotateOnAutoEOI = false
        case Command.rotateInAutoEOISet:
            state.rotateOnAutoEOI = true
        case Command.nonSpecificEOI, Command.rotateOnNonSpecificEOI:
            guard let input = highestPriorityInput(in: state.isr) else { return }
            state.isr &= ~(1 << input)
            if byte & Command.ocw2OperationMask == Command.rotateOnNonSpecificEOI {
                state.highestPriorityInput = (input &+ 1) & 7
            }
        case Command.specificEOI:
            state.isr &= ~(1 << level)
        case Command.rotateOnSpecificEOI:
            state.isr &= ~(1 << level)
            state.highestPriorityInput = (level &+ 1) & 7
        case Command.setPriority:
            // `level` becomes the lowest priority.
            state.highestPriorityInput = (level &+ 1) & 7
        default: // Command.noOperation
            break
        }
    }

    private func writeOCW3(_ byte: UInt8) {
        if byte & Command.ocw3Poll != 0 { state.pollNext = true }
        if byte & Command.ocw3ReadRegister != 0 { state.readISR = byte & Command.ocw3ReadISR != 0 }
        if byte & Command.ocw3SpecialMaskChange != 0 { state.specialMask = byte & Command.ocw3SpecialMaskSet != 0 }
    }

    func writeELCR(_ byte: UInt8) {
        if byte & ~elcrWritableMask != 0 {
            Log.write(.guestErrors, "\(name): ELCR 0x\(String(byte, radix: 16)) sets read-only bits")
        }
        elcr = byte & elcrWritableMask
        // Level-triggered inputs now request exactly while their line is high.
        state.irr = (state.irr & ~levelTriggeredInputs) | (inputLevels & levelTriggeredInputs)
    }
}

/// The PC's two cascaded 8259As: the master at 0x20-0x21 with the slave's
/// output on its input 2, the slave at 0xA0-0xA1 (IRQ 8-15), and the PIIX's
/// ELCR pair at 0x4D0-0x4D1 that makes individual inputs level-triggered.
/// The pair object is the ELCR's port handler; `master` and `slave` are the
/// chips' own handlers.
public final class PIC8259: PortHandler {
    public static let masterBase: UInt16 = 0x20
    public static let slaveBase: UInt16 = 0xA0
    public static let elcrBase: UInt16 = 0x4D0
    /// The master input the slave's output drives (IRQ 2).
    static let cascadeInput: UInt8 = 2
    /// The input reported when a request vanished before INTA: IRQ 7 / IRQ 15.
    static let spuriousInput: UInt8 = 7

    public let master = PIC8259Chip(name: "pic-master", isMaster: true)
    public let slave = PIC8259Chip(name: "pic-slave", isMaster: false)

    /// True while the master's INT output asks the CPU for an interrupt.
    public private(set) var interruptPending = false
    /// Called with the new INT level each time it changes (wakes a halted CPU).
    public var outputChanged: (Bool) -> Void
    /// Rising edges seen on each input line 0-15, for the monitor's `info
    /// irq`: statistics, not chip state, so neither reset nor saved.
    public private(set) var raisedCounts = [UInt64](repeating: 0, count: 16)

    public init(outputChanged: @escaping (Bool) -> Void = { _ in }) {
        self.outputChanged = outputChanged
        super.init()
        master.outputMayHaveChanged = { [unowned self] in self.update() }
        slave.outputMayHaveChanged = { [unowned self] in self.update() }
    }

    /// Attaches both chips and the ELCR at their PC ports.
    public func attach(to bus: IOPortBus) throws {
        try bus.attach(master, name: "pic-master", base: PIC8259.masterBase, count: 2)
        try bus.attach(slave, name: "pic-slave", base: PIC8259.slaveBase, count: 2)
        try bus.attach(self, name: "elcr", base: PIC8259.elcrBase, count: 2)
    }

    public func reset() {
        master.reset()
        slave.reset()
        update()
    }

    /// Drives input `line` (0-7 master, 8-15 slave). Line 2 is the cascade
    /// and is not available to devices (ISA IRQ 2 is wired to IRQ 9).
    public func setIRQ(_ line: Int, level: Bool) {
        switch line {
        case 0..<8 where line != Int(PIC8259.cascadeInput):
            if level && master.inputLevels & (1 << UInt8(line)) == 0 { raisedCounts[line] &+= 1 }
            master.setInput(line, level: level)
        case 8..<16:
            if level && slave.inputLevels & (1 << UInt8(line - 8)) == 0 { raisedCounts[line] &+= 1 }
            slave.setInput(line - 8, level: level)
        default:
            Log.write(.unimplemented, "pic: no device input \(line)")
            return
        }
        update()
    }

    /// The INTA cycle: the vector of the highest-priority request, which goes
    /// in service. With nothing left to deliver, the spurious vector of IRQ 7
    /// (or IRQ 15, the master then having IRQ 2 in service) comes back.
    public func acknowledge() -> UInt8 {
        defer { update() }
        guard let input = master.pendingInput else {
            Log.write(.interrupts, "pic: spurious IRQ 7")
            return master.state.vectorBase | PIC8259.spuriousInput
        }
        master.acknowledge(input)
        guard input == PIC8259.cascadeInput else { return master.state.vectorBase | input }
        guard let slaveInput = slave.pendingInput else {
            Log.write(.interrupts, "pic: spurious IRQ 15")
            return slave.state.vectorBase | PIC8259.spuriousInput
        }
        slave.acknowledge(slaveInput)
        return slave.state.vectorBase | slaveInput
    }

    /// Recomputes the cascade input and the INT output after any change.
    func update() {
        master.setCascadeRequest(slave.pendingInput != nil)
        let pending = master.pendingInput != nil
        if pending != interruptPending {
            interruptPending = pending
            outputChanged(pending)
        }
    }

    // MARK: ELCR ports

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        UInt32(offset == 0 ? master.elcr : slave.elcr)
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        (offset == 0 ? master : slave).writeELCR(UInt8(truncatingIfNeeded: value))
        update()
    }
}

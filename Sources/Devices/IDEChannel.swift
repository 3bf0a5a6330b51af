import Memory
import PCEmuSupport

/// One IDE channel (cable): the eight command block ports (data, error/
/// features, sector count, LBA low/mid/high, device, status/command) and
/// the control port (alternate status / device control), two device
/// places, one interrupt line. Task file writes reach both devices; reads
/// come from the selected one. The primary sits at 0x1F0/0x3F6 on IRQ 14,
/// the secondary at 0x170/0x376 on IRQ 15.
public final class IDEChannel: PortHandler {
    public static let primaryBase: UInt16 = 0x1F0
    public static let primaryControl: UInt16 = 0x3F6
    public static let primaryIRQ = 14
    public static let secondaryBase: UInt16 = 0x170
    public static let secondaryControl: UInt16 = 0x376
    public static let secondaryIRQ = 15
    public static let portCount = 8

    enum Register {
        static let data: UInt16 = 0
        static let errorFeatures: UInt16 = 1
        static let sectorCount: UInt16 = 2
        static let lbaLow: UInt16 = 3
        static let lbaMid: UInt16 = 4
        static let lbaHigh: UInt16 = 5
        static let device: UInt16 = 6
        static let statusCommand: UInt16 = 7
        /// The control block port, shown here at offset 8 through a window.
        static let control: UInt16 = 8
    }

    enum Control {
        static let interruptDisable: UInt8 = 0x02   // nIEN
        static let softwareReset: UInt8 = 0x04       // SRST
        static let highOrderByte: UInt8 = 0x80       // HOB
    }

    public let name: String
    /// The channel's own copy: which device is selected, and the registers
    /// written while no device is there.
    let taskFile = TaskFile()
    public private(set) var devices: [IDEDevice?] = [nil, nil]
    private let irq: InterruptLine
    var control: UInt8 = 0
    var interruptPending = false
    /// The bus master channel serving this cable, if the controller has one.
    weak var busMaster: BusMasterChannel?

    public init(name: String, irq: InterruptLine) {
        self.name = name
        self.irq = irq
    }

    /// Puts a device at place 0 (master) or 1 (slave).
    public func connect(_ device: IDEDevice, at index: Int) {
        devices[index] = device
        device.raiseInterrupt = { [unowned self] in self.raiseInterrupt() }
        device.requestDMA = { [unowned self] in self.busMaster?.deviceRequestedDMA() }
    }

    /// Attaches the command block at `base` and the control port at `control`.
    public func attach(to ports: IOPortBus, base: UInt16, control: UInt16) throws {
        try ports.attach(self, name: name, base: base, count: IDEChannel.portCount)
        try ports.attach(controlWindow, name: name + "-control", base: control, count: 1)
    }

    /// The device control / alternate status port, apart from the command block.
    private(set) lazy var controlWindow = PortWindow(self, offset: Register.control)

    public override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }

    var selectedIndex: Int { taskFile.device & TaskFile.deviceSelectBit != 0 ? 1 : 0 }
    var selected: IDEDevice? { devices[selectedIndex] }
    private var isEmpty: Bool { devices[0] == nil && devices[1] == nil }

    // MARK: Interrupt

    private func raiseInterrupt() {
        interruptPending = true
        busMaster?.deviceInterrupted()
        updateInterruptLine()
    }

    func updateInterruptLine() {
        irq.set(interruptPending && control & Control.interruptDisable == 0)
    }

    // MARK: Ports

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        if offset == Register.data {
            return selected?.readData(size: size.rawValue) ?? size.mask
        }
        let hob = control & Control.highOrderByte != 0
        guard let device = selected else {
            // An absent device reads as zeros (as QEMU's do: Linux and SeaBIOS probe on that).
            return offset == Register.device && !isEmpty ? UInt32(taskFile.device | 0xA0) : 0
        }
        let file = device.taskFile
        switch offset {
        case Register.errorFeatures: return UInt32(device.error)
        case Register.sectorCount: return UInt32(hob ? file.previousSectorCount : file.sectorCount)
        case Register.lbaLow: return UInt32(hob ? file.previousLBALow : file.lbaLow)
        case Register.lbaMid: return UInt32(hob ? file.previousLBAMid : file.lbaMid)
        case Register.lbaHigh: return UInt32(hob ? file.previousLBAHigh : file.lbaHigh)
        case Register.device: return UInt32(file.device | 0xA0)
        case Register.statusCommand:
            // Reading the status acknowledges the interrupt; the alternate status does not.
            interruptPending = false
            updateInterruptLine()
            return UInt32(device.status)
        case Register.control:
            return UInt32(device.status)
        default:
            return 0xFF
        }
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        if offset != Register.data && offset != Register.control && offset != Register.statusCommand {
            control &= ~Control.highOrderByte  // a task file write ends HOB reads
        }
        switch offset {
        case Register.data:
            selected?.writeData(value, size: size.rawValue)
        case Register.errorFeatures...Register.device:
            taskFile.write(offset, byte)
            for device in devices.compactMap({ $0 }) { device.taskFile.write(offset, byte) }
        case Register.statusCommand:
            guard let device = selected else { return }  // commands to an absent device go nowhere
            interruptPending = false
            updateInterruptLine()
            device.execute(command: byte)
        case Register.control:
            writeControl(byte)
        default:
            break
        }
    }

    /// SRST held high keeps both devices busy; its falling edge resets them.
    private func writeControl(_ value: UInt8) {
        let wasResetting = control & Control.softwareReset != 0
        control = value
        if value & Control.softwareReset != 0 {
            for device in devices.compactMap({ $0 }) { device.status = ATAStatus.busy | ATAStatus.seekComplete }
        } else if wasResetting {
            resetDevices()
        }
        updateInterruptLine()
    }

    private func resetDevices() {
        for device in devices.compactMap({ $0 }) { device.reset() }
        taskFile.device = 0
        interruptPending = false
        updateInterruptLine()
    }

    /// The bus master started: the selected device moves its pending data.
    func runPendingDMA(_ mover: IDEDMAMover) -> Bool {
        guard let device = selected, device.dmaPending else { return false }
        device.runDMA(mover)
        return true
    }

    /// Power-on: registers cleared, devices reset.
    public func reset() {
        control = 0
        taskFile.reset()
        for device in devices.compactMap({ $0 }) {
            device.taskFile.reset()
            device.reset()
        }
        interruptPending = false
        updateInterruptLine()
    }
}

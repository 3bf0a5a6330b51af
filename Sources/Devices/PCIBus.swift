import Memory
import PCEmuSupport

/// Receives the INTx wires of the bus's slots: the chipset's interrupt
/// router (PIIX3) maps them to ISA IRQs.
public protocol PCIInterruptRouter: AnyObject {
    /// `pin` is 1-4 for INTA-INTD; called only when the level changes.
    func setINTx(slot: Int, pin: Int, level: Bool)
}

/// PCI bus 0 behind configuration mechanism #1: the address register at
/// 0xCF8 and the data window at 0xCFC-0xCFF. Functions absent from the bus
/// read all ones, which is how firmware and Linux find empty slots.
///
/// The address register decodes dword accesses only: a byte at 0xCF9 is the
/// PIIX3's reset control register (`ResetControlRegister`), which is why the
/// address handler is attached to the single port 0xCF8 (the port bus sends
/// a dword access to the handler of its first port).
public final class PCIBus {
    public static let addressPort: UInt16 = 0xCF8
    public static let dataPort: UInt16 = 0xCFC
    public static let dataPortCount = 4
    public static let slotCount = 32
    public static let functionCount = 8

    enum Address {
        static let enable: UInt32 = 0x8000_0000
        static let busShift: UInt32 = 16
        static let busMask: UInt32 = 0xFF
        static let slotShift: UInt32 = 11
        static let slotMask: UInt32 = 0x1F
        static let functionShift: UInt32 = 8
        static let functionMask: UInt32 = 0x7
        static let registerMask: UInt32 = 0xFC
        /// Bits 30-24 and 1-0 are reserved and read 0.
        static let writable: UInt32 = 0x80FF_FFFC
    }

    struct State {
        var address: UInt32 = 0
    }

    var state = State()
    private var functions = [PCIDevice?](repeating: nil, count: PCIBus.slotCount * PCIBus.functionCount)
    /// Where INTx goes; the machine sets it to the PIIX3.
    public weak var interruptRouter: PCIInterruptRouter?
    public let addressRegister: PortHandler
    public let dataWindow: PortHandler

    public init() {
        let address = AddressRegisterPort()
        let data = DataWindowPort()
        addressRegister = address
        dataWindow = data
        address.bus = self
        data.bus = self
    }

    public func attach(to ports: IOPortBus) throws {
        try ports.attach(addressRegister, name: "pci-address", base: PCIBus.addressPort, count: 1)
        try ports.attach(dataWindow, name: "pci-data", base: PCIBus.dataPort, count: PCIBus.dataPortCount)
    }

    /// Puts a function in a slot; its configuration now is its power-on state.
    public func plug(_ device: PCIDevice, slot: Int, function: Int = 0) throws {
        guard (0..<PCIBus.slotCount).contains(slot), (0..<PCIBus.functionCount).contains(function) else {
            throw EmulatorError.configuration("PCI address \(slot).\(function) of \(device.name) is out of range")
        }
        let index = slot * PCIBus.functionCount + function
        if let other = functions[index] {
            throw EmulatorError.configuration("PCI slot \(slot).\(function) of \(device.name) is taken by \(other.name)")
        }
        device.slot = slot
        device.function = function
        device.bus = self
        device.recordPowerOnState()
        functions[index] = device
    }

    public func device(slot: Int, function: Int = 0) -> PCIDevice? {
        functions[slot * PCIBus.functionCount + function]
    }

    /// RST#: the address register and every function to power-on state.
    public func reset() {
        state = State()
        for case let device? in functions { device.reset() }
    }

    /// Every function plugged in, by slot and function number.
    public var pluggedFunctions: [(slot: Int, function: Int, device: PCIDevice)] {
        functions.enumerated().compactMap { index, device in
            device.map { (index / PCIBus.functionCount, index % PCIBus.functionCount, $0) }
        }
    }

    func interruptChanged(slot: Int, pin: Int, level: Bool) {
        interruptRouter?.setINTx(slot: slot, pin: pin, level: level)
    }

    // MARK: Configuration cycles

    /// A configuration read as the host bridge performs it (also for the
    /// machine's own use); absent functions and other buses read all ones.
    public func readConfig(bus: Int = 0, slot: Int, function: Int, offset: Int, size: AccessSize) -> UInt32 {
        guard bus == 0, let device = device(slot: slot, function: function) else { return size.mask }
        return device.configRead(offset: offset & ~(size.rawValue - 1), size: size) & size.mask
    }

    public func writeConfig(bus: Int = 0, slot: Int, function: Int, offset: Int, value: UInt32, size: AccessSize) {
        guard bus == 0, let device = device(slot: slot, function: function) else { return }
        device.configWrite(offset: offset & ~(size.rawValue - 1), value: value & size.mask, size: size)
    }

    /// The selected function and register for a data-window access at `offset`,
    /// or nil when the enable bit is clear.
    private func target(windowOffset: UInt16) -> (bus: Int, slot: Int, function: Int, register: Int)? {
        let address = state.address
        guard address & Address.enable != 0 else { return nil }
        return (Int(address >> Address.busShift & Address.busMask),
                Int(address >> Address.slotShift & Address.slotMask),
                Int(address >> Address.functionShift & Address.functionMask),
                Int(address & Address.registerMask) + Int(windowOffset))
    }

    fileprivate func readData(offset: UInt16, size: AccessSize) -> UInt32 {
        guard let target = target(windowOffset: offset) else { return size.mask }
        return readConfig(bus: target.bus, slot: target.slot, function: target.function,
                          offset: target.register, size: size)
    }

    fileprivate func writeData(offset: UInt16, value: UInt32, size: AccessSize) {
        guard let target = target(windowOffset: offset) else { return }
        writeConfig(bus: target.bus, slot: target.slot, function: target.function,
                    offset: target.register, value: value, size: size)
    }

    fileprivate func readAddress(size: AccessSize) -> UInt32 {
        guard size == .dword else {
            Log.write(.guestErrors, "pci: \(size.rawValue)-byte read of the address register")
            return size.mask
        }
        return state.address
    }

    fileprivate func writeAddress(_ value: UInt32, size: AccessSize) {
        guard size == .dword else {
            Log.write(.guestErrors, "pci: \(size.rawValue)-byte write to the address register ignored")
            return
        }
        state.address = value & Address.writable
    }
}

/// Port 0xCF8, dword accesses only (see `PCIBus`).
private final class AddressRegisterPort: PortHandler {
    weak var bus: PCIBus?
    override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }
    override func read(offset: UInt16, size: AccessSize) -> UInt32 { bus?.readAddress(size: size) ?? size.mask }
    override func write(offset: UInt16, value: UInt32, size: AccessSize) { bus?.writeAddress(value, size: size) }
}

/// Ports 0xCFC-0xCFF: the selected dword, any byte, word or the whole.
private final class DataWindowPort: PortHandler {
    weak var bus: PCIBus?
    override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }
    override func read(offset: UInt16, size: AccessSize) -> UInt32 { bus?.readData(offset: offset, size: size) ?? size.mask }
    override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        bus?.writeData(offset: offset, value: value, size: size)
    }
}

import Memory
import PCEmuSupport

/// Offsets of the type 0 configuration header.
public enum PCIConfig {
    public static let vendorID = 0x00
    public static let deviceID = 0x02
    public static let command = 0x04
    public static let status = 0x06
    public static let revision = 0x08
    public static let classCode = 0x09        // prog-if, subclass, class: three bytes
    public static let headerType = 0x0E
    public static let bar0 = 0x10
    public static let subsystemVendorID = 0x2C
    public static let subsystemID = 0x2E
    public static let interruptLine = 0x3C
    public static let interruptPin = 0x3D
    public static let size = 256
    public static let barCount = 6
}

/// Bits of the command register.
public enum PCICommand {
    public static let ioSpace: UInt16 = 0x0001
    public static let memorySpace: UInt16 = 0x0002
    public static let busMaster: UInt16 = 0x0004
    public static let interruptDisable: UInt16 = 0x0400
    static let writable: UInt16 = 0x0547
}

public enum PCIHeaderType {
    public static let multiFunction: UInt8 = 0x80
}

/// A base address register: where the device decodes its I/O ports or memory.
public struct PCIBAR {
    public enum Kind: Equatable, Sendable {
        case io
        case memory32(prefetchable: Bool)
        /// A 64-bit memory BAR: the next BAR register holds its high dword.
        /// The machine's physical addresses are 32 bits wide, so it decodes
        /// only while that dword is zero.
        case memory64
    }
    public let kind: Kind
    /// A power of two: at least 4 for I/O, 16 for memory.
    public let size: UInt32

    /// The read-only type bits in the register's low bits.
    var typeBits: UInt32 {
        switch kind {
        case .io: return 0x1
        case let .memory32(prefetchable): return prefetchable ? 0x8 : 0x0
        case .memory64: return 0x4
        }
    }

    /// The address bits the guest can write.
    var addressMask: UInt32 { ~(size &- 1) & (kind == .io ? 0xFFFF_FFFC : 0xFFFF_FFF0) }
}

/// Where the machine hears about BAR mappings: the device, the BAR number,
/// its kind and size, the old and the new address (nil when not decoded).
public typealias PCIBARMoved = (_ device: PCIDevice, _ bar: Int, _ info: PCIBAR, _ old: UInt32?, _ new: UInt32?) -> Void

/// A PCI function: 256 bytes of configuration space with per-byte masks of
/// what the guest can write and what it clears by writing ones, BARs whose
/// mappings follow the command register, and an INTx pin. Chipset functions
/// subclass it and react to their own registers in `configWrite`.
open class PCIDevice {
    public let name: String
    var config = [UInt8](repeating: 0, count: PCIConfig.size)
    var writable = [UInt8](repeating: 0, count: PCIConfig.size)
    var writeOneToClear = [UInt8](repeating: 0, count: PCIConfig.size)
    /// The configuration at power-on, taken when the device is plugged in.
    private var powerOnConfig: [UInt8] = []
    private(set) var bars = [PCIBAR?](repeating: nil, count: PCIConfig.barCount)
    private var mappedAddresses = [UInt32?](repeating: nil, count: PCIConfig.barCount)
    /// Called when a BAR starts, stops or moves decoding; the machine remaps.
    public var barMoved: PCIBARMoved = { _, _, _, _, _ in }
    /// The slot it sits in, set by the bus.
    public internal(set) var slot = 0
    public internal(set) var function = 0
    weak var bus: PCIBus?
    public internal(set) var interruptLevel = false

    /// `classCode` is class << 16 | subclass << 8 | programming interface;
    /// `interruptPin` 1-4 for INTA-INTD, 0 for none.
    public init(name: String, vendorID: UInt16, deviceID: UInt16, revision: UInt8, classCode: UInt32,
                headerType: UInt8 = 0, interruptPin: UInt8 = 0) {
        self.name = name
        setConfig(PCIConfig.vendorID, word: vendorID)
        setConfig(PCIConfig.deviceID, word: deviceID)
        config[PCIConfig.revision] = revision
        config[PCIConfig.classCode] = UInt8(truncatingIfNeeded: classCode)
        config[PCIConfig.classCode + 1] = UInt8(truncatingIfNeeded: classCode >> 8)
        config[PCIConfig.classCode + 2] = UInt8(truncatingIfNeeded: classCode >> 16)
        config[PCIConfig.headerType] = headerType
        config[PCIConfig.interruptPin] = interruptPin
        setWritable(PCIConfig.command, word: PCICommand.writable)
        // Status: the error bits are cleared by writing ones.
        setWriteOneToClear(PCIConfig.status, word: 0xF900)
        writable[PCIConfig.interruptLine] = 0xFF
    }

    // MARK: Set-up for subclasses

    public func setConfig(_ offset: Int, byte: UInt8) { config[offset] = byte }

    public func setConfig(_ offset: Int, word: UInt16) {
        config[offset] = UInt8(truncatingIfNeeded: word)
        config[offset + 1] = UInt8(truncatingIfNeeded: word >> 8)
    }

    public func setConfig(_ offset: Int, dword: UInt32) {
        setConfig(offset, word: UInt16(truncatingIfNeeded: dword))
        setConfig(offset + 2, word: UInt16(truncatingIfNeeded: dword >> 16))
    }

    public func setWritable(_ offset: Int, byte mask: UInt8) { writable[offset] = mask }

    public func setWritable(_ offset: Int, word mask: UInt16) {
        writable[offset] = UInt8(truncatingIfNeeded: mask)
        writable[offset + 1] = UInt8(truncatingIfNeeded: mask >> 8)
    }

    public func setWriteOneToClear(_ offset: Int, word mask: UInt16) {
        writeOneToClear[offset] = UInt8(truncatingIfNeeded: mask)
        writeOneToClear[offset + 1] = UInt8(truncatingIfNeeded: mask >> 8)
    }

    /// Declares BAR `index`. Sizes that are not powers of two are rounded up.
    public func defineBAR(_ index: Int, size: UInt32, kind: PCIBAR.Kind) {
        let minimum: UInt32 = kind == .io ? 4 : 16
        var rounded = minimum
        while rounded < size { rounded <<= 1 }
        let bar = PCIBAR(kind: kind, size: rounded)
        bars[index] = bar
        let offset = PCIConfig.bar0 + 4 * index
        setConfig(offset, dword: bar.typeBits)
        let mask = bar.addressMask
        for i in 0..<4 { writable[offset + i] = UInt8(truncatingIfNeeded: mask >> (8 * UInt32(i))) }
        if kind == .memory64 {
            // The high dword: every bit writable, as sizing expects.
            for i in 4..<8 { writable[offset + i] = 0xFF }
        }
    }

    /// BAR `index` as declared, or nil.
    public func barInfo(_ index: Int) -> PCIBAR? { bars[index] }

    /// Configuration bytes as they are, with no side effect (the monitor's `info pci`).
    public func configByte(_ offset: Int) -> UInt8 { config[offset] }

    public func configWord(_ offset: Int) -> UInt16 { UInt16(config[offset]) | UInt16(config[offset + 1]) << 8 }

    func configDword(_ offset: Int) -> UInt32 {
        UInt32(configWord(offset)) | UInt32(configWord(offset + 2)) << 16
    }

    /// Called by the bus when the device is plugged: what `reset` returns to.
    func recordPowerOnState() { powerOnConfig = config }

    // MARK: Configuration accesses

    /// `offset` is aligned to `size` by the bus.
    open func configRead(offset: Int, size: AccessSize) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<size.rawValue { value |= UInt32(config[offset + i]) << (8 * UInt32(i)) }
        return value
    }

    /// Applies the write through the masks, then remaps BARs if the command
    /// register or a BAR was touched. Subclasses call it and then react.
    open func configWrite(offset: Int, value: UInt32, size: AccessSize) {
        for i in 0..<size.rawValue {
            let byte = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))
            let index = offset + i
            let old = config[index]
            config[index] = (old & ~writable[index]) | (byte & writable[index])
            config[index] &= ~(byte & writeOneToClear[index])
        }
        let end = offset + size.rawValue
        if offset <= PCIConfig.command + 1 && end > PCIConfig.command
            || offset < PCIConfig.bar0 + 4 * PCIConfig.barCount && end > PCIConfig.bar0 {
            updateMappings()
        }
        if offset <= PCIConfig.command + 1 && end > PCIConfig.command { updateInterruptOutput() }
    }

    /// The handlers this function puts on the buses beside itself (BAR windows).
    open var busParts: [AnyObject] { [self] }

    /// Power-on configuration; BARs stop decoding, INTx goes low.
    open func reset() {
        if !powerOnConfig.isEmpty { config = powerOnConfig }
        updateMappings()
        setINTx(false)
    }

    // MARK: BARs

    /// Where BAR `index` decodes now, or nil.
    public func mappedAddress(ofBAR index: Int) -> UInt32? { mappedAddresses[index] }

    func updateMappings() {
        let command = configWord(PCIConfig.command)
        for index in 0..<PCIConfig.barCount {
            guard let bar = bars[index] else { continue }
            var new = decodedAddress(of: bar, register: configDword(PCIConfig.bar0 + 4 * index), command: command)
            if bar.kind == .memory64 && configDword(PCIConfig.bar0 + 4 * index + 4) != 0 { new = nil }
            let old = mappedAddresses[index]
            guard new != old else { continue }
            mappedAddresses[index] = new
            Log.write(.device, "\(name): BAR\(index) \(old.map { "0x\(String($0, radix: 16))" } ?? "off") -> \(new.map { "0x\(String($0, radix: 16))" } ?? "off")")
            barMoved(self, index, bar, old, new)
        }
    }

    /// The address a BAR decodes at, or nil: its space disabled in the
    /// command register, address 0, or a range that does not fit (the
    /// all-ones pattern left by sizing ends at the top of the space).
    private func decodedAddress(of bar: PCIBAR, register: UInt32, command: UInt16) -> UInt32? {
        let address = register & bar.addressMask
        let last = UInt64(address) + UInt64(bar.size) - 1
        switch bar.kind {
        case .io:
            guard command & PCICommand.ioSpace != 0, address != 0, last <= 0xFFFF else { return nil }
        case .memory32, .memory64:
            guard command & PCICommand.memorySpace != 0, address != 0, last < 0xFFFF_FFFF else { return nil }
        }
        return address
    }

    // MARK: INTx

    /// Drives the function's interrupt pin. The command register's
    /// interrupt-disable bit holds it low on the bus.
    public func setINTx(_ level: Bool) {
        interruptLevel = level
        updateInterruptOutput()
    }

    private var outputLevel = false

    func updateInterruptOutput() {
        let pin = Int(config[PCIConfig.interruptPin])
        let level = interruptLevel && configWord(PCIConfig.command) & PCICommand.interruptDisable == 0 && pin != 0
        guard level != outputLevel else { return }
        outputLevel = level
        bus?.interruptChanged(slot: slot, pin: pin, level: level)
    }
}

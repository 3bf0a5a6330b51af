import Memory
import PCEmuSupport

/// QEMU's firmware configuration device (fw_cfg) on its x86 ports, as
/// SeaBIOS and Linux read it: the 16-bit selector at 0x510, the byte-wide
/// data port at 0x511, and the DMA address register at 0x514-0x51B. Items
/// are byte strings under 16-bit keys; named items ("files") get keys from
/// 0x20 on and are listed in the big-endian directory item 0x19.
/// Integers in the fixed items are little-endian; the directory and the DMA
/// structures are big-endian (docs/specs/fw_cfg.rst in QEMU).
public final class FirmwareConfig: PortHandler {
    public static let base: UInt16 = 0x510
    public static let portCount = 2
    public static let dmaBase: UInt16 = 0x514
    public static let dmaPortCount = 8
    /// A file name fills at most 55 bytes and a NUL.
    public static let maximumFileName = 56

    /// Item keys.
    public enum Key {
        public static let signature: UInt16 = 0x00
        public static let id: UInt16 = 0x01
        public static let uuid: UInt16 = 0x02
        public static let ramSize: UInt16 = 0x03
        public static let noGraphic: UInt16 = 0x04
        public static let cpuCount: UInt16 = 0x05
        public static let machineID: UInt16 = 0x06
        public static let kernelAddress: UInt16 = 0x07
        public static let kernelSize: UInt16 = 0x08
        public static let kernelCommandLine: UInt16 = 0x09
        public static let initrdAddress: UInt16 = 0x0A
        public static let initrdSize: UInt16 = 0x0B
        public static let bootDevice: UInt16 = 0x0C
        public static let numa: UInt16 = 0x0D
        public static let bootMenu: UInt16 = 0x0E
        public static let maximumCPUs: UInt16 = 0x0F
        public static let kernelEntry: UInt16 = 0x10
        public static let kernelData: UInt16 = 0x11
        public static let initrdData: UInt16 = 0x12
        public static let commandLineAddress: UInt16 = 0x13
        public static let commandLineSize: UInt16 = 0x14
        public static let commandLineData: UInt16 = 0x15
        public static let setupAddress: UInt16 = 0x16
        public static let setupSize: UInt16 = 0x17
        public static let setupData: UInt16 = 0x18
        public static let fileDirectory: UInt16 = 0x19
        public static let firstFile: UInt16 = 0x20
        /// Selector bit 14: the data port writes the item (ignored, as in QEMU 2.4+).
        public static let writeFlag: UInt16 = 0x4000
        /// Selector bit 15: architecture-specific items (x86: 0x8003 is the old e820 table).
        public static let architectureFlag: UInt16 = 0x8000
        /// Nonzero: ISA IRQ 0 reaches the I/O APIC on pin 2, and the firmware's MP table and MADT say so.
        public static let irq0Override: UInt16 = 0x8002
    }

    /// Bits of the ID item.
    enum Feature {
        static let traditionalInterface: UInt32 = 0x01
        static let dma: UInt32 = 0x02
    }

    /// Bits of a DMA request's control word.
    enum DMAControl {
        static let error: UInt32 = 0x01
        static let read: UInt32 = 0x02
        static let skip: UInt32 = 0x04
        static let select: UInt32 = 0x08
        static let write: UInt32 = 0x10
        static let selectorShift: UInt32 = 16
    }

    /// The DMA request in guest memory: be32 control, be32 length, be64 address.
    enum DMARequest {
        static let control: UInt32 = 0
        static let length: UInt32 = 4
        static let address: UInt32 = 8
    }

    enum Port {
        static let selector: UInt16 = 0
        static let data: UInt16 = 1
        /// In the DMA window: the high dword at 0, the low at 4 (which starts the transfer).
        static let dmaHigh: UInt16 = 0
        static let dmaLow: UInt16 = 4
    }

    static let signature = Array("QEMU".utf8)
    /// What the DMA register reads: "QEMU CFG", big-endian.
    static let dmaSignature = Array("QEMU CFG".utf8)
    /// Directory entry: be32 size, be16 key, be16 reserved, 56 bytes of name.
    static let directoryEntrySize = 64

    /// One e820 entry of the etc/e820 file: le64 address, le64 length, le32 type.
    public struct E820Entry: Sendable {
        public static let ram: UInt32 = 1
        public static let reserved: UInt32 = 2
        public let address: UInt64
        public let length: UInt64
        public let type: UInt32
        public init(address: UInt64, length: UInt64, type: UInt32) {
            self.address = address
            self.length = length
            self.type = type
        }
    }

    struct State {
        var selector: UInt16 = 0
        /// The selected item's bytes: a reference to the stored array, no copy.
        var current: [UInt8] = []
        var offset = 0
        var dmaAddressHigh: UInt32 = 0
    }

    private let memory: GuestMemoryDMA
    var items: [UInt16: [UInt8]] = [:]
    private var files: [(name: String, key: UInt16)] = []
    var state = State()
    public private(set) var dmaPorts: PortHandler!

    /// `memory` is the guest-physical space the DMA interface reads its
    /// requests from and copies items into; `memoryWritten` hears of every
    /// range a copy wrote (code translated from it is stale).
    public init(memory: AddressSpace, memoryWritten: @escaping (PhysicalAddress, Int) -> Void = { _, _ in }) {
        self.memory = GuestMemoryDMA(memory: memory, memoryWritten: memoryWritten)
        super.init()
        dmaPorts = DMAPorts(self)
        items[Key.signature] = FirmwareConfig.signature
        setItem(Key.id, uint32: Feature.traditionalInterface | Feature.dma)
        rebuildDirectory()
    }

    public override var nativeSizes: Set<AccessSize> { [.byte, .word] }

    /// Attaches the selector/data pair at 0x510 and the DMA register at 0x514.
    public func attach(to bus: IOPortBus) throws {
        try bus.attach(self, name: "fw-cfg", base: FirmwareConfig.base, count: FirmwareConfig.portCount)
        try bus.attach(dmaPorts, name: "fw-cfg-dma", base: FirmwareConfig.dmaBase, count: FirmwareConfig.dmaPortCount)
    }

    /// Forgets the selection; the items stay (the machine set them up).
    public func reset() { state = State() }

    // MARK: Items

    public func setItem(_ key: UInt16, data: [UInt8]) {
        items[key] = data
        if state.selector == key { state.current = data }
    }

    public func setItem(_ key: UInt16, uint16 value: UInt16) { setItem(key, data: littleEndian(UInt64(value), bytes: 2)) }
    public func setItem(_ key: UInt16, uint32 value: UInt32) { setItem(key, data: littleEndian(UInt64(value), bytes: 4)) }
    public func setItem(_ key: UInt16, uint64 value: UInt64) { setItem(key, data: littleEndian(value, bytes: 8)) }

    /// Adds a named item, or replaces the data of one already there.
    public func addFile(name: String, data: [UInt8]) throws {
        guard !name.isEmpty, name.utf8.count < FirmwareConfig.maximumFileName else {
            throw EmulatorError.configuration("fw_cfg file name '\(name)' must be 1 to 55 bytes")
        }
        if let existing = files.first(where: { $0.name == name }) {
            setItem(existing.key, data: data)
        } else {
            let key = Key.firstFile + UInt16(files.count)
            guard key < Key.writeFlag else { throw EmulatorError.configuration("too many fw_cfg files") }
            files.append((name, key))
            setItem(key, data: data)
        }
        rebuildDirectory()
    }

    public func item(_ key: UInt16) -> [UInt8]? { items[key] }

    public func file(named name: String) -> [UInt8]? {
        files.first { $0.name == name }.flatMap { items[$0.key] }
    }

    /// The directory, sorted by name as QEMU sorts it.
    private func rebuildDirectory() {
        var directory = bigEndian(UInt64(files.count), bytes: 4)
        for file in files.sorted(by: { $0.name < $1.name }) {
            directory += bigEndian(UInt64(items[file.key]?.count ?? 0), bytes: 4)
            directory += bigEndian(UInt64(file.key), bytes: 2)
            directory += [0, 0]
            var name = Array(file.name.utf8)
            name += [UInt8](repeating: 0, count: FirmwareConfig.maximumFileName - name.count)
            directory += name
        }
        setItem(Key.fileDirectory, data: directory)
    }

    // MARK: What SeaBIOS reads

    public func setRAMSize(_ bytes: UInt64) { setItem(Key.ramSize, uint64: bytes) }

    public func setCPUCount(_ count: Int, maximum: Int) {
        setItem(Key.cpuCount, uint16: UInt16(count))
        setItem(Key.maximumCPUs, uint16: UInt16(maximum))
    }

    /// The etc/e820 file SeaBIOS builds its memory map from.
    public func setE820(_ entries: [E820Entry]) throws {
        var data: [UInt8] = []
        for entry in entries {
            data += littleEndian(entry.address, bytes: 8) + littleEndian(entry.length, bytes: 8)
                + littleEndian(UInt64(entry.type), bytes: 4)
        }
        try addFile(name: "etc/e820", data: data)
    }

    /// The bootorder file: one device path per line, NUL-terminated.
    public func setBootOrder(_ devicePaths: [String]) throws {
        try addFile(name: "bootorder", data: Array(devicePaths.joined(separator: "\n").utf8) + [0])
    }

    /// etc/boot-fail-wait: how long SeaBIOS waits before rebooting when no
    /// device boots (milliseconds, little-endian).
    public func setBootFailWait(milliseconds: UInt32) throws {
        try addFile(name: "etc/boot-fail-wait", data: littleEndian(UInt64(milliseconds), bytes: 4))
    }

    /// The items of a -kernel boot, read by QEMU's linuxboot option ROM: each
    /// part's load address, size and bytes. `commandLine` gets its NUL here.
    public func setLinuxBoot(setupAddress: UInt32, setup: [UInt8], kernelAddress: UInt32, kernel: [UInt8],
                             initrdAddress: UInt32, initrd: [UInt8], commandLineAddress: UInt32, commandLine: String) {
        setItem(Key.setupAddress, uint32: setupAddress)
        setItem(Key.setupSize, uint32: UInt32(setup.count))
        setItem(Key.setupData, data: setup)
        setItem(Key.kernelAddress, uint32: kernelAddress)
        setItem(Key.kernelSize, uint32: UInt32(kernel.count))
        setItem(Key.kernelData, data: kernel)
        setItem(Key.initrdAddress, uint32: initrdAddress)
        setItem(Key.initrdSize, uint32: UInt32(initrd.count))
        setItem(Key.initrdData, data: initrd)
        let line = Array(commandLine.utf8) + [0]
        setItem(Key.commandLineAddress, uint32: commandLineAddress)
        setItem(Key.commandLineSize, uint32: UInt32(line.count))
        setItem(Key.commandLineData, data: line)
    }

    // MARK: The traditional interface

    private func select(_ key: UInt16) {
        state.selector = key
        state.offset = 0
        state.current = items[key] ?? []
        if items[key] == nil { Log.write(.guestErrors, "fw_cfg: no item 0x\(String(key, radix: 16))") }
    }

    /// The next data byte; past the end of the item, zeros.
    private func nextByte() -> UInt8 {
        guard state.offset < state.current.count else { return 0 }
        let byte = state.current[state.offset]
        state.offset += 1
        return byte
    }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        guard offset == Port.data else {
            Log.write(.guestErrors, "fw_cfg: read of the write-only selector")
            return 0
        }
        var value: UInt32 = 0
        for i in 0..<UInt32(size.rawValue) { value |= UInt32(nextByte()) << (8 * i) }
        return value
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        if offset == Port.selector && size == .word {
            select(UInt16(truncatingIfNeeded: value))
        } else if offset == Port.data {
            Log.write(.guestErrors, "fw_cfg: data port writes are ignored")
        } else {
            Log.write(.guestErrors, "fw_cfg: \(size.rawValue)-byte selector write ignored")
        }
    }

    // MARK: The DMA interface

    fileprivate func readDMARegister(offset: UInt16, size: AccessSize) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<size.rawValue where Int(offset) + i < FirmwareConfig.dmaSignature.count {
            value |= UInt32(FirmwareConfig.dmaSignature[Int(offset) + i]) << (8 * UInt32(i))
        }
        return value
    }

    /// The guest writes each half big-endian (SeaBIOS does outl(cpu_to_be32(x))).
    fileprivate func writeDMARegister(offset: UInt16, value: UInt32, size: AccessSize) {
        guard size == .dword else {
            Log.write(.guestErrors, "fw_cfg: \(size.rawValue)-byte write to the DMA register ignored")
            return
        }
        switch offset {
        case Port.dmaHigh:
            state.dmaAddressHigh = value.byteSwapped
        case Port.dmaLow:
            let high = state.dmaAddressHigh
            state.dmaAddressHigh = 0
            performDMA(request: PhysicalAddress(high) << 32 | PhysicalAddress(value.byteSwapped))
        default:
            Log.write(.guestErrors, "fw_cfg: misaligned DMA register write at +\(offset)")
        }
    }

    /// Carries out the request at `request` and writes its control word
    /// back: 0 when done, the error bit when not.
    private func performDMA(request: PhysicalAddress) {
        var control = memory.readDword(request &+ PhysicalAddress(DMARequest.control)).byteSwapped
        let length = memory.readDword(request &+ PhysicalAddress(DMARequest.length)).byteSwapped
        let addressHigh = memory.readDword(request &+ PhysicalAddress(DMARequest.address)).byteSwapped
        let addressLow = memory.readDword(request &+ PhysicalAddress(DMARequest.address) &+ 4).byteSwapped
        let address = PhysicalAddress(addressHigh) << 32 | PhysicalAddress(addressLow)
        if control & DMAControl.select != 0 { select(UInt16(truncatingIfNeeded: control >> DMAControl.selectorShift)) }
        var failed = false
        if control & DMAControl.write != 0 {
            Log.write(.unimplemented, "fw_cfg: DMA write to item 0x\(String(state.selector, radix: 16)) refused")
            failed = true
        } else if control & DMAControl.read != 0 {
            if address >= AddressSpace.physicalLimit || PhysicalAddress(length) > AddressSpace.physicalLimit - address {
                Log.write(.guestErrors, "fw_cfg: DMA buffer beyond the physical address space")
                failed = true
            } else {
                copyToGuest(address: address, length: Int(length))
            }
        } else if control & DMAControl.skip != 0 {
            state.offset += Int(length)
        }
        control = failed ? DMAControl.error : 0
        memory.writeDword(request &+ PhysicalAddress(DMARequest.control), control.byteSwapped)
    }

    /// Copies the item from the current offset, and zeros past its end, a
    /// page at most at a time (RAM directly, ROM and holes through the bus).
    private func copyToGuest(address: PhysicalAddress, length: Int) {
        var done = 0
        while done < length {
            let target = address &+ PhysicalAddress(done)
            let chunk = min(length - done, GuestRAM.pageSize - (Int(target) & (GuestRAM.pageSize - 1)))
            let available = max(0, min(chunk, state.current.count - state.offset))
            if available > 0 {
                let start = state.offset
                state.current.withUnsafeBytes { memory.write(target, UnsafeRawBufferPointer(rebasing: $0[start..<start + available])) }
            }
            if available < chunk {
                FirmwareConfig.zeroPage.withUnsafeBytes {
                    memory.write(target &+ PhysicalAddress(available), UnsafeRawBufferPointer(rebasing: $0[..<(chunk - available)]))
                }
            }
            state.offset += chunk
            done += chunk
        }
    }

    private static let zeroPage = [UInt8](repeating: 0, count: GuestRAM.pageSize)
}

private func littleEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
    (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
}

private func bigEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
    (0..<bytes).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
}

/// Ports 0x514-0x51B, the DMA address register.
private final class DMAPorts: PortHandler {
    unowned let config: FirmwareConfig
    init(_ config: FirmwareConfig) { self.config = config }
    override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }
    override func read(offset: UInt16, size: AccessSize) -> UInt32 { config.readDMARegister(offset: offset, size: size) }
    override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        config.writeDMARegister(offset: offset, value: value, size: size)
    }
}

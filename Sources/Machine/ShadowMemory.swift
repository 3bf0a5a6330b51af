import Devices
import Memory

/// The 0xC0000-0xFFFFF window as the i440FX's PAM registers route it, one
/// region per PAM area:
/// - rom: the ROM side — the firmware's low alias where there is one, else nothing;
/// - ram: the RAM underneath (RAM offsets equal addresses below 1 MiB);
/// - readOnlyRAM: that RAM as ROM (reads see it, writes are dropped);
/// - writeOnlyRAM: reads from the ROM side, writes into RAM, through a small
///   MMIO handler (SeaBIOS never runs code from an area in this state).
final class ShadowMemory {
    private let addressSpace: AddressSpace
    private let firmware: FirmwareImage
    private var regionIndices: [Int?]

    /// The address space tells its listeners (the CPU) of each remap.
    init(addressSpace: AddressSpace, firmware: FirmwareImage) throws {
        self.addressSpace = addressSpace
        self.firmware = firmware
        regionIndices = Array(repeating: nil, count: I440FX.pamAreas.count)
        for area in I440FX.pamAreas { try apply(area, .rom) }
    }

    /// Remaps one area for its new mode (the i440FX's pamChanged callback).
    func apply(_ area: I440FX.PAMArea, _ mode: I440FX.PAMMode) throws {
        guard let slot = I440FX.pamAreas.firstIndex(of: area) else { return }
        if let index = regionIndices[slot] { addressSpace.unmap(index) }
        regionIndices[slot] = nil
        let start = UInt64(area.start)
        let size = UInt64(area.size)
        let name = "pam-\(String(area.start, radix: 16))"
        let ramPointer = addressSpace.ram.uncheckedPointer(at: Int(area.start))
        let romPointer = firmware.lowAliasPointer(at: area.start)
        switch mode {
        case .rom:
            if let romPointer {
                regionIndices[slot] = try addressSpace.map(name, at: start, size: size, kind: .rom(romPointer))
            }
        case .ram:
            regionIndices[slot] = try addressSpace.map(name, at: start, size: size, kind: .ram(offset: Int(area.start)))
        case .readOnlyRAM:
            regionIndices[slot] = try addressSpace.map(name, at: start, size: size, kind: .rom(ramPointer))
        case .writeOnlyRAM:
            let handler = WriteOnlyShadow(rom: romPointer, ram: ramPointer)
            regionIndices[slot] = try addressSpace.map(name, at: start, size: size, kind: .mmio(handler))
        }
    }

    /// The handlers of the areas now in write-only mode.
    var handlers: [AnyObject] {
        regionIndices.compactMap { index in
            guard let index, case let .mmio(handler)? = addressSpace.regions[index]?.kind else { return nil }
            return handler
        }
    }
}

/// A shadow area being filled: reads come from the ROM side (all ones where
/// there is none), writes go to the RAM underneath.
final class WriteOnlyShadow: MMIOHandler {
    private let rom: UnsafeMutableRawPointer?
    private let ram: UnsafeMutableRawPointer

    init(rom: UnsafeMutableRawPointer?, ram: UnsafeMutableRawPointer) {
        self.rom = rom
        self.ram = ram
    }

    override func read(offset: UInt32, size: AccessSize) -> UInt32 {
        guard let rom else { return size.mask }
        var value: UInt32 = 0
        for index in 0..<UInt32(size.rawValue) {
            value |= UInt32(rom.load(fromByteOffset: Int(offset + index), as: UInt8.self)) << (8 * index)
        }
        return value
    }

    override func write(offset: UInt32, value: UInt32, size: AccessSize) {
        for index in 0..<UInt32(size.rawValue) {
            ram.storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * index)), toByteOffset: Int(offset + index), as: UInt8.self)
        }
    }
}

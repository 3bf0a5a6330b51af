import Devices

/// The PC's physical memory map as BIOS INT 15h E820 reports it: SeaBIOS
/// reads it from fw_cfg (etc/e820) and adds its own reservations.
public struct E820Map {
    public typealias Entry = FirmwareConfig.E820Entry

    /// Where conventional memory is cut for the (would-be) EBDA: the last KiB below 640 KiB.
    static let conventionalTop: UInt64 = 0x9_FC00
    static let lowMemoryTop: UInt64 = 0xA_0000
    /// The system BIOS area, shadowed from the ROM.
    static let biosAreaStart: UInt64 = 0xF_0000
    static let extendedMemoryBase: UInt64 = 0x10_0000

    public let entries: [Entry]

    /// `ramBytes` of RAM (at least 1 MiB) laid out as the machine does, and
    /// the firmware ROM mapped at the top of the 32-bit space.
    public init(ramBytes: UInt64, firmwareBytes: UInt64) {
        self.init(layout: RAMLayout(ramBytes: ramBytes), firmwareBytes: firmwareBytes)
    }

    /// RAM below the PCI hole (at least 1 MiB), the RAM above 4 GiB, and the
    /// firmware ROM at the top of the 32-bit space.
    public init(layout: RAMLayout, firmwareBytes: UInt64) {
        let ramBytes = layout.belowFourGiB
        var entries: [Entry] = [
            Entry(address: 0, length: E820Map.conventionalTop, type: Entry.ram),
            Entry(address: E820Map.conventionalTop, length: E820Map.lowMemoryTop - E820Map.conventionalTop,
                  type: Entry.reserved),
            Entry(address: E820Map.biosAreaStart, length: E820Map.extendedMemoryBase - E820Map.biosAreaStart,
                  type: Entry.reserved),
        ]
        if ramBytes > E820Map.extendedMemoryBase {
            entries.append(Entry(address: E820Map.extendedMemoryBase, length: ramBytes - E820Map.extendedMemoryBase,
                                 type: Entry.ram))
        }
        if firmwareBytes > 0 {
            entries.append(Entry(address: RAMLayout.highBase - firmwareBytes, length: firmwareBytes, type: Entry.reserved))
        }
        if layout.aboveFourGiB > 0 {
            entries.append(Entry(address: RAMLayout.highBase, length: layout.aboveFourGiB, type: Entry.ram))
        }
        self.entries = entries
    }
}

/// Little-endian integers in byte arrays, for the structures firmware and kernels read.
enum LittleEndian {
    static func bytes(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    static func read(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in (0..<count).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
        return value
    }

    static func write(_ value: UInt64, into bytes: inout [UInt8], at offset: Int, count: Int) {
        for index in 0..<count { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }
}

import Devices
import Machine
import Memory

/// `info pci`, `info mtree` and `info irq`, laid out as QEMU lays them out.
enum MonitorInfo {
    static let classNames: [UInt16: String] = [
        0x0101: "IDE controller", 0x0200: "Ethernet controller", 0x0300: "VGA controller",
        0x0401: "Audio controller", 0x0403: "Audio controller", 0x0600: "Host bridge", 0x0601: "ISA bridge",
        0x0680: "Bridge", 0x0C03: "USB controller",
    ]

    /// The drives, as QEMU's `info block` begins each entry.
    static func block(_ devices: [BlockDeviceInfo]) -> String {
        devices.map { device in
            var entry = device.name + ": "
            if let path = device.path {
                entry += "\(path) (\(device.format ?? "raw")\(device.readOnly ? ", read-only" : ""))"
            } else {
                entry += "[not inserted]"
            }
            if device.removable { entry += "\n    Removable device: not locked, tray closed" }
            return entry
        }.joined(separator: "\n")
    }

    /// CPU thread: every function on the bus, its IDs and where its BARs are.
    static func pci(_ bus: PCIBus) -> String {
        var lines: [String] = []
        for slot in 0..<32 {
            for function in 0..<8 {
                guard let device = bus.device(slot: slot, function: function) else { continue }
                let classCode = device.configWord(0x0A)
                lines.append("  Bus  0, device \(pad(slot, 3)), function \(function):")
                lines.append("    \(classNames[classCode] ?? "Class \(hex(UInt64(classCode), 4))"): PCI device "
                             + "\(hex(UInt64(device.configWord(0x00)), 4)):\(hex(UInt64(device.configWord(0x02)), 4))")
                let pin = device.configByte(0x3D)
                if pin != 0 { lines.append("      IRQ \(device.configByte(0x3C)), pin \(Character(UnicodeScalar(0x40 + pin)))") }
                for index in 0..<6 {
                    guard let bar = device.barInfo(index) else { continue }
                    let kind = bar.kind == .io ? "I/O" : "32 bit memory"
                    if let address = device.mappedAddress(ofBAR: index) {
                        lines.append("      BAR\(index): \(kind) at 0x\(hex(UInt64(address), 4)) [0x\(hex(UInt64(address) + UInt64(bar.size) - 1, 4))].")
                    } else {
                        lines.append("      BAR\(index): \(kind), not mapped (\(bar.size) bytes).")
                    }
                }
                lines.append("      id \"\(device.name)\"")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// CPU thread: `info irq`, as QEMU prints it: the raises each input of
    /// the I/O APIC and then of the 8259 pair has seen, nonzero ones only.
    static func irq(pic: PIC8259, ioAPIC: IOAPIC) -> String {
        func statistics(_ name: String, _ counts: [UInt64]) -> [String] {
            ["IRQ statistics for \(name):"] + counts.indices.filter { counts[$0] > 0 }.map { "\(pad($0, 2)): \(counts[$0])" }
        }
        return (statistics("ioapic", ioAPIC.raisedCounts) + statistics("isa-i8259", pic.raisedCounts)).joined(separator: "\n")
    }

    /// CPU thread: the physical address space's regions in address order.
    static func memoryTree(_ space: AddressSpace) -> String {
        var lines = ["address-space: memory"]
        let regions = space.regions.compactMap { $0 }.sorted { $0.start < $1.start }
        for region in regions {
            let kind: String
            switch region.kind {
            case .ram, .deviceRAM: kind = "ram"
            case .rom: kind = "rom"
            case .romDevice: kind = "romd"
            case .mmio: kind = "i/o"
            }
            lines.append("  \(hex(region.start, 16))-\(hex(region.start + region.size - 1, 16)) (prio 0, \(kind)): \(region.name)")
        }
        return lines.joined(separator: "\n")
    }

    static func hex(_ value: UInt64, _ digits: Int) -> String { MemoryDumpFormat.hex(value, digits: digits) }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}

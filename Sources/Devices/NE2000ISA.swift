import Memory

/// An NE2000 on the ISA bus: jumpered to an I/O base and an edge-triggered
/// IRQ (QEMU's ne2k_isa: 0x300 and 9 unless iobase= and irq= say otherwise).
public final class NE2000ISA {
    public static let defaultBase: UInt16 = 0x300
    public static let defaultIRQ = 9

    public let chip: DP8390
    public let ports: NE2000Ports
    public let base: UInt16

    public init(macAddress: [UInt8], base: UInt16 = NE2000ISA.defaultBase, irq: InterruptLine) {
        self.base = base
        chip = DP8390(name: "ne2k_isa", macAddress: macAddress, interrupt: irq)
        ports = NE2000Ports(chip: chip)
    }

    public func attach(to bus: IOPortBus) throws {
        try bus.attach(ports, name: "ne2k_isa", base: base, count: NE2000Ports.count)
    }

    public func reset() { chip.reset() }
}

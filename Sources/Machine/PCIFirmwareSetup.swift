import Devices
import Memory

/// What SeaBIOS does for PCI cards before an OS starts, done by the machine
/// itself for a direct Linux boot (which runs no BIOS): the PIIX3 routes
/// PIRQA-D to IRQs 10, 10, 11, 11 and the ELCR makes those level-triggered;
/// each card's I/O BARs get addresses from 0xC000 up, its I/O space and bus
/// mastering are enabled, and its interrupt line register names the IRQ its
/// pin reaches (Linux reads it when ACPI has no routing table).
enum PCIFirmwareSetup {
    static let pirqIRQs = [10, 10, 11, 11]
    static let firstIOAddress: UInt32 = 0xC000

    static func configure(_ cards: [PCIDevice], bus: PCIBus, isaBridge: PIIX3, ports: IOPortBus) {
        guard !cards.isEmpty else { return }
        for (pirq, irq) in pirqIRQs.enumerated() {
            bus.writeConfig(slot: PIIX3.slot, function: 0, offset: 0x60 + pirq, value: UInt32(irq), size: .byte)
        }
        var levelIRQs: UInt16 = 0
        for irq in pirqIRQs { levelIRQs |= 1 << irq }
        let elcr = UInt16(ports.read(PIC8259.elcrBase, size: .byte)) | UInt16(ports.read(PIC8259.elcrBase + 1, size: .byte)) << 8
        ports.write(PIC8259.elcrBase, value: UInt32((elcr | levelIRQs) & 0xFF), size: .byte)
        ports.write(PIC8259.elcrBase + 1, value: UInt32((elcr | levelIRQs) >> 8), size: .byte)

        var nextIO = firstIOAddress
        for card in cards {
            for index in 0..<PCIConfig.barCount {
                guard let bar = card.barInfo(index), bar.kind == .io else { continue }
                nextIO = (nextIO + bar.size - 1) & ~(bar.size - 1)
                bus.writeConfig(slot: card.slot, function: card.function, offset: PCIConfig.bar0 + 4 * index,
                                value: nextIO, size: .dword)
                nextIO += bar.size
            }
            let pin = Int(bus.readConfig(slot: card.slot, function: card.function, offset: PCIConfig.interruptPin, size: .byte))
            if pin != 0, let irq = isaBridge.routedIRQ(slot: card.slot, pin: pin) {
                bus.writeConfig(slot: card.slot, function: card.function, offset: PCIConfig.interruptLine,
                                value: UInt32(irq), size: .byte)
            }
            let command = bus.readConfig(slot: card.slot, function: card.function, offset: PCIConfig.command, size: .word)
            bus.writeConfig(slot: card.slot, function: card.function, offset: PCIConfig.command,
                            value: command | UInt32(PCICommand.ioSpace | PCICommand.busMaster), size: .word)
        }
    }
}

import CPURuntime
import Devices

/// The PIC pair is an INTR source: its `interruptPending` and INTA cycle are
/// what the CPU asks at block boundaries (machines without a local APIC, tests).
extension PIC8259: InterruptSource {}

/// The local APIC stands between the 8259 and the CPU: it is the CPU's INTR
/// and answers its MSRs.
extension LocalAPIC: InterruptSource, LocalAPICRegisters {}

/// The 16 ISA IRQ inputs, which several drivers may share (a PCI PIRQ routed
/// to the SCI's IRQ 9, say): each input is the OR of its drivers' levels, so
/// one driver going low does not hide another's request. Each goes to the
/// PIC pair and to the I/O APIC's pin of the same number, except IRQ 0 (the
/// PIT), which is on pin 2, as on QEMU's PC (the MADT's interrupt source
/// override 0 -> 2); PCI interrupts arrive as the ISA IRQs their PIRQ is
/// routed to, as the firmware's tables describe them.
final class ISAInterrupts {
    private let pic: PIC8259
    private let ioAPIC: IOAPIC?
    /// Per IRQ, one bit for each driver that holds it high.
    var asserted = [UInt32](repeating: 0, count: 16)
    /// Per IRQ, the drivers cut off from it (the PIT and RTC under the HPET's legacy replacement).
    var cutOff = [UInt32](repeating: 0, count: 16)
    var levels = [Bool](repeating: false, count: 16)
    var nextDriver = [Int](repeating: 0, count: 16)
    /// I/O APIC pins driven directly (an HPET timer's route), ORed with the ISA IRQ on the pin.
    var directPins = [Bool](repeating: false, count: IOAPIC.pinCount)

    init(pic: PIC8259, ioAPIC: IOAPIC? = nil) {
        self.pic = pic
        self.ioAPIC = ioAPIC
    }

    /// The I/O APIC pin an ISA IRQ drives.
    static func ioAPICPin(ofIRQ irq: Int) -> Int { irq == 0 ? 2 : irq }

    /// A new driver of `irq`: its own wire into the shared input.
    func line(_ irq: Int) -> InterruptLine { lineAndDriver(irq).line }

    /// A new driver's wire and its bit, for `cut(_:driver:_:)`.
    func lineAndDriver(_ irq: Int) -> (line: InterruptLine, driver: UInt32) {
        let bit = claimDriver(irq)
        return (InterruptLine { [unowned self] level in self.set(irq, driver: bit, level) }, bit)
    }

    /// A driver bit for `irq`, for a device that drives several IRQs itself (the PIIX3).
    func claimDriver(_ irq: Int) -> UInt32 {
        precondition(nextDriver[irq] < 32, "too many drivers on IRQ \(irq)")
        defer { nextDriver[irq] += 1 }
        return 1 << UInt32(nextDriver[irq])
    }

    func set(_ irq: Int, driver: UInt32, _ level: Bool) {
        if level { asserted[irq] |= driver } else { asserted[irq] &= ~driver }
        update(irq)
    }

    /// Disconnects a driver from its IRQ, or connects it again.
    func cut(_ irq: Int, driver: UInt32, _ disconnected: Bool) {
        if disconnected { cutOff[irq] |= driver } else { cutOff[irq] &= ~driver }
        update(irq)
    }

    private func update(_ irq: Int) {
        let level = asserted[irq] & ~cutOff[irq] != 0
        guard level != levels[irq] else { return }
        levels[irq] = level
        pic.setIRQ(irq, level: level)
        updatePin(ISAInterrupts.ioAPICPin(ofIRQ: irq))
    }

    /// Drives I/O APIC pin `pin` directly.
    func setIOAPICPin(_ pin: Int, _ level: Bool) {
        guard directPins.indices.contains(pin) else { return }
        directPins[pin] = level
        updatePin(pin)
    }

    private func updatePin(_ pin: Int) {
        var level = directPins[pin]
        // Pin 2 carries IRQ 0; pin 0 no ISA IRQ; the others their own number.
        if pin == 2 { level = level || levels[0] } else if pin != 0 && pin < 16 { level = level || levels[pin] }
        ioAPIC?.setPin(pin, level: level)
    }
}

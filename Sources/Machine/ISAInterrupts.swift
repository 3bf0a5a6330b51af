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
    private var asserted = [UInt32](repeating: 0, count: 16)
    private var nextDriver = [Int](repeating: 0, count: 16)

    init(pic: PIC8259, ioAPIC: IOAPIC? = nil) {
        self.pic = pic
        self.ioAPIC = ioAPIC
    }

    /// The I/O APIC pin an ISA IRQ drives.
    static func ioAPICPin(ofIRQ irq: Int) -> Int { irq == 0 ? 2 : irq }

    /// A new driver of `irq`: its own wire into the shared input.
    func line(_ irq: Int) -> InterruptLine {
        let bit = claimDriver(irq)
        return InterruptLine { [unowned self] level in self.set(irq, driver: bit, level) }
    }

    /// A driver bit for `irq`, for a device that drives several IRQs itself (the PIIX3).
    func claimDriver(_ irq: Int) -> UInt32 {
        precondition(nextDriver[irq] < 32, "too many drivers on IRQ \(irq)")
        defer { nextDriver[irq] += 1 }
        return 1 << UInt32(nextDriver[irq])
    }

    func set(_ irq: Int, driver: UInt32, _ level: Bool) {
        let before = asserted[irq] != 0
        if level { asserted[irq] |= driver } else { asserted[irq] &= ~driver }
        let after = asserted[irq] != 0
        guard before != after else { return }
        pic.setIRQ(irq, level: after)
        ioAPIC?.setPin(ISAInterrupts.ioAPICPin(ofIRQ: irq), level: after)
    }
}

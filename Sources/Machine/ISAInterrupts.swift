import CPURuntime
import Devices

/// The PIC pair is the CPU's INTR: its `interruptPending` and INTA cycle are
/// exactly what the CPU asks at block boundaries.
extension PIC8259: InterruptSource {}

/// The 16 ISA IRQ inputs of the PIC pair, which several drivers may share
/// (a PCI PIRQ routed to the SCI's IRQ 9, say): each input is the OR of its
/// drivers' levels, so one driver going low does not hide another's request.
final class ISAInterrupts {
    private let pic: PIC8259
    /// Per IRQ, one bit for each driver that holds it high.
    private var asserted = [UInt32](repeating: 0, count: 16)
    private var nextDriver = [Int](repeating: 0, count: 16)

    init(pic: PIC8259) { self.pic = pic }

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
        if before != after { pic.setIRQ(irq, level: after) }
    }
}

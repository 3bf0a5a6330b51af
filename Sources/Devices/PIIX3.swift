import Memory
import PCEmuSupport

/// The 82371SB PCI-to-ISA bridge at 01.0: it routes the four PCI interrupt
/// wires PIRQA-D to ISA IRQs through registers 0x60-0x63. Slot S's pin P
/// drives PIRQ (S - 1 + P - 1) mod 4, the PIIX swizzle SeaBIOS and QEMU's
/// ACPI tables assume. Its other ISA functions live elsewhere: the PICs'
/// ELCR in `PIC8259`, the reset control register 0xCF9 (which it decodes)
/// in `ResetControlRegister`.
public final class PIIX3: PCIDevice, PCIInterruptRouter {
    public static let vendorID: UInt16 = 0x8086
    public static let deviceID: UInt16 = 0x7000
    public static let slot = 1
    static let isaBridgeClass: UInt32 = 0x06_01_00
    public static let pirqCount = 4

    enum Register {
        static let pirqRouteFirst = 0x60
        static let pirqRouteLast = 0x63
    }

    enum Route {
        static let disabled: UInt8 = 0x80
        static let irqMask: UInt8 = 0x0F
        static let writable: UInt8 = 0x8F
        /// IRQs a PIRQ may be routed to: 3-7, 9-12, 14, 15.
        static let validIRQs: UInt16 = 0xDEF8
    }

    /// Defaults and write masks of the other registers firmware touches
    /// (I/O recovery, X-bus chip select, top of memory, motherboard IRQ
    /// and DMA routing, APIC base, SMI control), kept but without effect.
    static let plainRegisters: [(offset: Int, value: UInt8, writable: UInt8)] = [
        (0x4C, 0x4D, 0xFF), (0x4E, 0x03, 0xFF), (0x4F, 0x00, 0xFF), (0x69, 0x02, 0xFF), (0x6A, 0x00, 0xFF),
        (0x70, 0x80, 0xFF), (0x71, 0x80, 0xFF), (0x76, 0x0C, 0xFF), (0x77, 0x0C, 0xFF), (0x78, 0x02, 0xFF),
        (0x80, 0x00, 0xFF), (0x82, 0x00, 0xFF), (0xA0, 0x08, 0xFF), (0xA2, 0x00, 0xFF), (0xA3, 0x00, 0xFF),
        (0xA4, 0x00, 0xFF), (0xA5, 0x00, 0xFF), (0xA6, 0x00, 0xFF), (0xA7, 0x00, 0xFF), (0xA8, 0x0F, 0xFF),
        (0xAA, 0x00, 0xFF), (0xAB, 0x00, 0xFF), (0xAC, 0x00, 0xFF), (0xAE, 0x00, 0xFF),
    ]

    struct State {
        /// How many functions assert each PIRQ: PCI interrupts are shared, level, active while any asserts.
        var pirqAssertions = [Int](repeating: 0, count: PIIX3.pirqCount)
        /// The ISA IRQ levels this bridge drives, one bit per IRQ.
        var irqOutputs: UInt16 = 0
    }

    var state = State()
    let setISAIRQ: (Int, Bool) -> Void
    /// Called when a PIRQ is routed to an IRQ (or nil: disabled).
    public var routingChanged: (_ pirq: Int, _ irq: Int?) -> Void

    /// `setISAIRQ` drives an ISA IRQ input of the PIC (PCI levels, so the
    /// machine sets those IRQs level-triggered through the ELCR, as firmware does).
    public init(setISAIRQ: @escaping (Int, Bool) -> Void,
                routingChanged: @escaping (_ pirq: Int, _ irq: Int?) -> Void = { _, _ in }) {
        self.setISAIRQ = setISAIRQ
        self.routingChanged = routingChanged
        super.init(name: "piix3", vendorID: PIIX3.vendorID, deviceID: PIIX3.deviceID, revision: 0,
                   classCode: PIIX3.isaBridgeClass, headerType: PCIHeaderType.multiFunction)
        for offset in Register.pirqRouteFirst...Register.pirqRouteLast {
            setConfig(offset, byte: Route.disabled)
            setWritable(offset, byte: Route.writable)
        }
        for register in PIIX3.plainRegisters {
            setConfig(register.offset, byte: register.value)
            setWritable(register.offset, byte: register.writable)
        }
    }

    /// The IRQ PIRQ `pirq` (0-3 for A-D) is routed to, or nil.
    public func routedIRQ(ofPIRQ pirq: Int) -> Int? {
        let route = configByte(Register.pirqRouteFirst + pirq)
        let irq = Int(route & Route.irqMask)
        guard route & Route.disabled == 0, Route.validIRQs & (1 << irq) != 0 else { return nil }
        return irq
    }

    /// The PIRQ a slot's pin (1-4) drives.
    public static func pirq(slot: Int, pin: Int) -> Int { (slot - 1 + pin - 1) & (pirqCount - 1) }

    /// The IRQ a slot's pin reaches now, or nil.
    public func routedIRQ(slot: Int, pin: Int) -> Int? { routedIRQ(ofPIRQ: PIIX3.pirq(slot: slot, pin: pin)) }

    public override func configWrite(offset: Int, value: UInt32, size: AccessSize) {
        let touchesRoutes = offset <= Register.pirqRouteLast && offset + size.rawValue > Register.pirqRouteFirst
        let before = touchesRoutes ? (0..<PIIX3.pirqCount).map(routedIRQ(ofPIRQ:)) : []
        super.configWrite(offset: offset, value: value, size: size)
        guard touchesRoutes else { return }
        for pirq in 0..<PIIX3.pirqCount where routedIRQ(ofPIRQ: pirq) != before[pirq] {
            let route = configByte(Register.pirqRouteFirst + pirq)
            if route & Route.disabled == 0 && routedIRQ(ofPIRQ: pirq) == nil {
                Log.write(.guestErrors, "piix3: PIRQ\(pirq) routed to IRQ \(route & Route.irqMask), which cannot take it")
            }
            routingChanged(pirq, routedIRQ(ofPIRQ: pirq))
        }
        updateOutputs()
    }

    /// The assertion counts stay: they follow the functions' wires, which
    /// their own resets lower.
    public override func reset() {
        super.reset()
        updateOutputs()
    }

    // MARK: PCIInterruptRouter

    public func setINTx(slot: Int, pin: Int, level: Bool) {
        guard (1...4).contains(pin) else { return }
        let pirq = PIIX3.pirq(slot: slot, pin: pin)
        state.pirqAssertions[pirq] += level ? 1 : -1
        updateOutputs()
    }

    /// Each ISA IRQ is high while any PIRQ routed to it is asserted.
    func updateOutputs() {
        var outputs: UInt16 = 0
        for pirq in 0..<PIIX3.pirqCount where state.pirqAssertions[pirq] > 0 {
            if let irq = routedIRQ(ofPIRQ: pirq) { outputs |= 1 << irq }
        }
        let changed = outputs ^ state.irqOutputs
        state.irqOutputs = outputs
        guard changed != 0 else { return }
        for irq in 0..<16 where changed & (1 << irq) != 0 { setISAIRQ(irq, outputs & (1 << irq) != 0) }
    }
}

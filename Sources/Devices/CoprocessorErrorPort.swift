import Memory

/// Port 0xF0: the PC's x87 error latch. An unmasked x87 exception with
/// CR0.NE clear raises IRQ 13 through FERR#; a write to this port (any
/// value) drops the request, which is how a DOS-era handler acknowledges it.
public final class CoprocessorErrorPort: PortHandler {
    public static let port: UInt16 = 0xF0
    public static let irq = 13
    let irq13: InterruptLine

    public init(irq13: InterruptLine) {
        self.irq13 = irq13
        super.init()
    }

    /// The CPU's FERR# output asserted.
    public func raiseError() { irq13.raise() }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 { 0xFF }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) { irq13.lower() }

    public func reset() { irq13.lower() }
}

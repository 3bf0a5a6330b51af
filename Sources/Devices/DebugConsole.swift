import Memory

/// A one-port debug console: every byte written goes to the backend. SeaBIOS
/// prints its log to port 0x402 (QEMU's isa-debugcon at its iobase), Bochs
/// and many hobby kernels to 0xE9. Reading returns 0xE9, the value Bochs's
/// port_e9_hack gives so a guest can tell the port is there.
public final class DebugConsole: PortHandler {
    public static let seaBIOSPort: UInt16 = 0x402
    public static let bochsPort: UInt16 = 0xE9
    /// What a read returns: the Bochs presence check.
    static let readbackValue: UInt8 = 0xE9

    public var backend: SerialBackend?

    public init(backend: SerialBackend? = nil) {
        self.backend = backend
    }

    /// Nothing to reset: the console keeps no state.
    public func reset() {}

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        UInt32(DebugConsole.readbackValue)
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        backend?.transmit(UInt8(truncatingIfNeeded: value))
    }
}

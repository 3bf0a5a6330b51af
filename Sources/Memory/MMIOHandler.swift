/// A device's memory-mapped registers. Devices subclass it; the address space
/// calls it with the offset inside the device's region, never the bus address.
/// A class (not a protocol) so that dispatch is one vtable call, no existential.
open class MMIOHandler {
    public init() {}
    /// Returns the value read, zero-extended to 32 bits.
    open func read(offset: UInt32, size: AccessSize) -> UInt32 { size.mask }
    open func write(offset: UInt32, value: UInt32, size: AccessSize) {}
}

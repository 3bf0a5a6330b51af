import Memory

/// Shows a device's port handler at a second, non-adjacent base: accesses
/// reach `target` at `offset` plus the offset within the window. For chips
/// whose ports are scattered (the 8042 at 0x60 and 0x64 with port B between).
final class PortWindow: PortHandler {
    private let target: PortHandler
    private let offset: UInt16

    init(_ target: PortHandler, offset: UInt16) {
        self.target = target
        self.offset = offset
    }

    override var nativeSizes: Set<AccessSize> { target.nativeSizes }

    override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        target.read(offset: self.offset &+ offset, size: size)
    }

    override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        target.write(offset: self.offset &+ offset, value: value, size: size)
    }
}

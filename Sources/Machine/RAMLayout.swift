import Memory

/// Where the guest's RAM appears on the physical bus, split as QEMU's pc
/// (i440FX) machine splits it: all of it from 0 while it stays under
/// 0xE0000000, where the PCI hole begins; otherwise 3 GiB below (the
/// machine's gigabyte alignment) and the rest from 4 GiB up. One host
/// block holds it all: the part above 4 GiB is its tail, from offset
/// `belowFourGiB` on.
public struct RAMLayout: Equatable, Sendable {
    /// The PCI hole's start while all RAM fits below it (QEMU's max-ram-below-4g default).
    public static let holeStart: UInt64 = 0xE000_0000
    /// Below-4 GiB RAM once some of it must move above: a whole number of gigabytes.
    public static let alignedLowTop: UInt64 = 0xC000_0000
    public static let highBase: UInt64 = AddressSpace.lowLimit
    /// The most RAM the physical address space holds (MAXPHYADDR 36, the hole taken out).
    public static let maximumBytes: UInt64 = alignedLowTop + (AddressSpace.physicalLimit - highBase)

    public let belowFourGiB: UInt64
    public let aboveFourGiB: UInt64

    public init(ramBytes: UInt64) {
        if ramBytes < RAMLayout.holeStart {
            belowFourGiB = ramBytes
            aboveFourGiB = 0
        } else {
            belowFourGiB = RAMLayout.alignedLowTop
            aboveFourGiB = ramBytes - RAMLayout.alignedLowTop
        }
    }

    public var totalBytes: UInt64 { belowFourGiB + aboveFourGiB }
}

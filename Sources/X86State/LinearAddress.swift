/// An address after segmentation and before paging. 64 bits wide so that
/// long mode adds canonical 48-bit addresses without changing a type; in the
/// 32-bit modes every linear address is truncated to 32 bits (it wraps at
/// 4 GiB), and `AddressSize.mask` is where that happens.
public typealias LinearAddress = UInt64

/// How many bits of a linear address the current mode keeps.
public enum AddressSize: Sendable {
    /// Real, virtual-8086 and protected mode: linear addresses wrap at 4 GiB.
    case bits32
    /// 64-bit mode: 64-bit arithmetic; the MMU checks that the result is canonical.
    case bits64

    /// The wrap of this size: a linear address computed in 64 bits is cut to
    /// what the mode keeps.
    @inlinable @inline(__always)
    public func mask(_ linear: LinearAddress) -> LinearAddress {
        switch self {
        case .bits32: return linear & 0xFFFF_FFFF
        case .bits64: return linear
        }
    }
}

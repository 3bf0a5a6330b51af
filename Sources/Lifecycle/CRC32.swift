import CZlib

/// CRC-32 (the IEEE polynomial, reflected, as zlib and Ethernet use it): the
/// saved state's check against damaged files. zlib computes it, several
/// bytes a cycle, since a snapshot runs it over all of guest RAM.
public struct CRC32 {
    public private(set) var value: UInt32 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var left = bytes.count
        while left > 0 {
            // zlib takes a 32-bit length.
            let part = min(left, 1 << 30)
            value = UInt32(truncatingIfNeeded: crc32(uLong(value), base, uInt(part)))
            base += part
            left -= part
        }
    }

    /// The CRC-32 of two byte strings one after the other, from each one's.
    public static func combine(_ first: UInt32, _ second: UInt32, lengthOfSecond: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(uLong(first), uLong(second), Int(lengthOfSecond)))
    }

    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc = CRC32()
        if bytes.withContiguousStorageIfAvailable({ crc.update(UnsafeRawBufferPointer($0)) }) == nil {
            Array(bytes).withUnsafeBytes { crc.update($0) }
        }
        return crc.value
    }
}

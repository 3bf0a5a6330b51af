/// Why decoding stopped before producing an instruction.
enum DecodeStop: Error {
    case truncated, invalid, tooLong
}

/// Reads instruction bytes in order, enforcing the architectural 15-byte limit:
/// a byte at offset 15 or beyond makes the instruction too long (#GP) whether or
/// not the caller supplied it; a byte below 15 that the caller did not supply
/// makes it truncated.
struct ByteReader {
    static let maximumLength = 15

    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inline(__always)
    mutating func byte() throws(DecodeStop) -> UInt8 {
        guard position < Self.maximumLength else { throw .tooLong }
        guard position < bytes.count else { throw .truncated }
        let value = bytes[position]
        position &+= 1
        return value
    }

    /// A little-endian value of `count` (1, 2 or 4) bytes, zero-extended.
    @inline(__always)
    mutating func value(bytes count: Int) throws(DecodeStop) -> UInt32 {
        let end = position &+ count
        guard end <= Self.maximumLength else { throw .tooLong }
        guard end <= bytes.count else { throw .truncated }
        var result: UInt32 = 0
        for i in 0..<count {
            result |= UInt32(bytes[position &+ i]) << (8 &* UInt32(i))
        }
        position = end
        return result
    }

    @inline(__always)
    mutating func signExtendedByte() throws(DecodeStop) -> UInt32 {
        UInt32(bitPattern: Int32(Int8(bitPattern: try byte())))
    }

    @inline(__always)
    mutating func signExtendedWord() throws(DecodeStop) -> UInt32 {
        UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: try value(bytes: 2))))
    }
}

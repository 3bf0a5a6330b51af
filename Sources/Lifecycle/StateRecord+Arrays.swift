/// Typed helpers for the shapes chips keep most: register files as arrays of
/// words or flags (stored as one little-endian bytes field of an exact
/// length), and enumerations stored as their raw value (an unknown value is
/// out of range, never a guess).
extension StateRecord {
    public mutating func put<T: FixedWidthInteger & UnsignedInteger>(_ field: String, words: [T]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(words.count * MemoryLayout<T>.size)
        for word in words {
            for index in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * index))) }
        }
        put(field, bytes)
    }

    /// Exactly `count` words of `T`, as `put(_:words:)` stored them.
    public func words<T: FixedWidthInteger & UnsignedInteger>(_ field: String, count: Int, as type: T.Type = T.self) throws -> [T] {
        let size = MemoryLayout<T>.size
        let bytes = try bytes(field, count: count * size)
        return (0..<count).map { word in
            var value: T = 0
            for index in 0..<size { value |= T(bytes[word * size + index]) << (8 * index) }
            return value
        }
    }

    public mutating func put(_ field: String, flags: [Bool]) {
        put(field, flags.map { $0 ? UInt8(1) : 0 })
    }

    /// Exactly `count` flags, each byte 0 or 1.
    public func flags(_ field: String, count: Int) throws -> [Bool] {
        let bytes = try bytes(field, count: count)
        guard bytes.allSatisfy({ $0 <= 1 }) else { throw StateRecordError.outOfRange(record: name, field: field) }
        return bytes.map { $0 == 1 }
    }

    public mutating func put<E: RawRepresentable>(_ field: String, enumValue: E) where E.RawValue: FixedWidthInteger & UnsignedInteger {
        put(field, enumValue.rawValue)
    }

    /// A case of `E` by its raw value; a value naming no case is out of range.
    public func enumValue<E: RawRepresentable>(_ field: String, as type: E.Type = E.self) throws -> E
    where E.RawValue: FixedWidthInteger & UnsignedInteger {
        guard let value = E(rawValue: try unsigned(field)) else { throw StateRecordError.outOfRange(record: name, field: field) }
        return value
    }
}

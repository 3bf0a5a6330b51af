/// The byte form of a `StateRecord` tree, for snapshots and migration files.
///
///     header:  "PCES" magic, format version (u16), payload length (u64), CRC-32 of the payload (u32)
///     record:  name (string), version (u32), field count (u32), fields
///     field:   name (string), type tag (u8), value
///     values:  unsigned u64 | signed i64 | bool u8 (0 or 1) | bytes: u64 length + bytes |
///              string: u32 length + UTF-8 | record | records: u32 count + records
///
/// Integers are little-endian. Decoding checks every length against what is
/// left, the nesting depth, the tags and the checksum, so any byte string
/// either decodes or throws `StateRecordError`.
public enum StateRecordCodec {
    static let magic: [UInt8] = Array("PCES".utf8)
    static let formatVersion: UInt16 = 1
    static let headerSize = 4 + 2 + 8 + 4
    /// Deeper nesting than any machine builds; bounds the decoder's recursion.
    public static let maximumDepth = 32

    enum Tag: UInt8 {
        case unsigned = 1, signed, bool, bytes, string, record, records
    }

    public static func encode(_ record: StateRecord) -> [UInt8] { StateEncoding(record).bytes }

    public static func decode(_ bytes: [UInt8]) throws -> StateRecord {
        guard bytes.count >= headerSize else {
            if !bytes.prefix(magic.count).elementsEqual(magic.prefix(bytes.count)) { throw StateRecordError.damaged("not a saved state") }
            throw StateRecordError.truncated(offset: bytes.count)
        }
        guard Array(bytes[0..<4]) == magic else { throw StateRecordError.damaged("not a saved state") }
        var reader = ByteReader(bytes: bytes, offset: 4)
        let format: UInt16 = try reader.integer()
        guard format == formatVersion else { throw StateRecordError.damaged("format version \(format), expected \(formatVersion)") }
        let length: UInt64 = try reader.integer()
        let checksum: UInt32 = try reader.integer()
        guard length <= UInt64(bytes.count - headerSize) else { throw StateRecordError.truncated(offset: bytes.count) }
        guard length == UInt64(bytes.count - headerSize) else { throw StateRecordError.damaged("bytes after the record") }
        guard CRC32.checksum(bytes[headerSize...]) == checksum else { throw StateRecordError.damaged("checksum mismatch") }
        let record = try readRecord(&reader, depth: 0)
        guard reader.offset == bytes.count else { throw StateRecordError.damaged("bytes after the record") }
        return record
    }

    // MARK: Decoding

    private static func readRecord(_ reader: inout ByteReader, depth: Int) throws -> StateRecord {
        guard depth < maximumDepth else { throw StateRecordError.damaged("records nested deeper than \(maximumDepth)") }
        let name = try reader.string()
        let version: UInt32 = try reader.integer()
        let count: UInt32 = try reader.integer()
        var record = StateRecord(name: name, version: version)
        for _ in 0..<count {
            let field = try reader.string()
            guard !record.contains(field) else { throw StateRecordError.damaged("field \(field) of \(name) appears twice") }
            let tagByte = try reader.byte()
            guard let tag = Tag(rawValue: tagByte) else { throw StateRecordError.damaged("unknown type tag \(tagByte) in \(name).\(field)") }
            switch tag {
            case .unsigned: record.put(field, .unsigned(try reader.integer()))
            case .signed: record.put(field, .signed(try reader.integer()))
            case .bool:
                let raw = try reader.byte()
                guard raw <= 1 else { throw StateRecordError.damaged("bool \(name).\(field) is \(raw)") }
                record.put(field, .bool(raw == 1))
            case .bytes:
                let length: UInt64 = try reader.integer()
                record.put(field, .bytes(try reader.bytes(length)))
            case .string: record.put(field, .string(try reader.string()))
            case .record: record.put(field, .record(try readRecord(&reader, depth: depth + 1)))
            case .records:
                let count: UInt32 = try reader.integer()
                var list: [StateRecord] = []
                for _ in 0..<count { list.append(try readRecord(&reader, depth: depth + 1)) }
                record.put(field, .records(list))
            }
        }
        return record
    }
}

/// Reads the encoding's pieces, every one checked against the bytes left.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw StateRecordError.truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func integer<T: FixedWidthInteger>() throws -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { throw StateRecordError.truncated(offset: bytes.count) }
        var value: T = 0
        for index in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + index]) << (8 * index) }
        offset += size
        return value
    }

    mutating func bytes(_ length: UInt64) throws -> [UInt8] {
        guard length <= UInt64(bytes.count - offset) else { throw StateRecordError.truncated(offset: bytes.count) }
        let end = offset + Int(length)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    mutating func string() throws -> String {
        let length: UInt32 = try integer()
        let raw = try bytes(UInt64(length))
        guard let string = String(validating: raw, as: UTF8.self) else { throw StateRecordError.damaged("a name is not UTF-8") }
        return string
    }
}

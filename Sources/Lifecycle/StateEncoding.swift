/// A record in `StateRecordCodec`'s byte form, written out in pieces rather
/// than built as one array: the first pass (`init`) counts the bytes and
/// checksums them, so the header can go first; `write` then hands the
/// header and the payload to a sink. Small pieces are gathered in a staging
/// buffer; large byte fields (guest RAM, lent through `BorrowedBytes`) go to
/// the sink as they are, so saving a machine copies its RAM only into the
/// file.
public struct StateEncoding {
    public let record: StateRecord
    /// The whole encoding's size, header included.
    public let count: Int
    let checksum: UInt32

    public init(_ record: StateRecord) {
        self.record = record
        var length = 0
        var crc = CRC32()
        // The sink cannot fail, so neither can the pass.
        try! StatePieceWriter.emit(record) { piece in
            length += piece.count
            crc.update(piece)
        }
        count = StateRecordCodec.headerSize + length
        checksum = crc.value
    }

    /// Hands the encoding to `sink` in order, in pieces of any size.
    public func write(to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var header = StateRecordCodec.magic
        withUnsafeBytes(of: StateRecordCodec.formatVersion.littleEndian) { header += $0 }
        withUnsafeBytes(of: UInt64(count - StateRecordCodec.headerSize).littleEndian) { header += $0 }
        withUnsafeBytes(of: checksum.littleEndian) { header += $0 }
        try header.withUnsafeBytes { try sink($0) }
        try StatePieceWriter.emit(record, to: sink)
    }

    /// The encoding as one array.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        try! write { out += $0 }
        return out
    }
}

/// Turns a record into the pieces of its payload.
final class StatePieceWriter {
    /// Pieces at least this long skip the staging buffer.
    static let directThreshold = 64 << 10
    static let stagingSize = 1 << 20

    private let sink: (UnsafeRawBufferPointer) throws -> Void
    private let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: stagingSize, alignment: 64)
    private var used = 0

    private init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) { self.sink = sink }

    deinit { staging.deallocate() }

    static func emit(_ record: StateRecord, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try withoutActuallyEscaping(sink) { sink in
            let writer = StatePieceWriter(sink: sink)
            try writer.append(record)
            try writer.flush()
        }
    }

    private func append(_ record: StateRecord) throws {
        try append(string: record.name)
        try append(integer: record.version)
        try append(integer: UInt32(record.fields.count))
        for field in record.fields {
            try append(string: field.name)
            switch field.value {
            case let .unsigned(value): try append(tag: .unsigned); try append(integer: value)
            case let .signed(value): try append(tag: .signed); try append(integer: value)
            case let .bool(value): try append(tag: .bool); try append(integer: UInt8(value ? 1 : 0))
            case let .bytes(value):
                try append(tag: .bytes)
                try append(integer: UInt64(value.count))
                try value.withUnsafeBytes { try append($0) }
            case let .borrowed(value):
                try append(tag: .bytes)
                try append(integer: UInt64(value.count))
                for run in value.runs { try append(run) }
            case let .string(value): try append(tag: .string); try append(string: value)
            case let .record(value): try append(tag: .record); try append(value)
            case let .records(values):
                try append(tag: .records)
                try append(integer: UInt32(values.count))
                for value in values { try append(value) }
            }
        }
    }

    private func append(tag: StateRecordCodec.Tag) throws { try append(integer: tag.rawValue) }

    private func append<T: FixedWidthInteger>(integer value: T) throws {
        try withUnsafeBytes(of: value.littleEndian) { try append($0) }
    }

    private func append(string: String) throws {
        let utf8 = Array(string.utf8)
        try append(integer: UInt32(utf8.count))
        try utf8.withUnsafeBytes { try append($0) }
    }

    private func append(_ piece: UnsafeRawBufferPointer) throws {
        guard piece.count > 0 else { return }
        if piece.count >= StatePieceWriter.directThreshold {
            try flush()
            try sink(piece)
            return
        }
        if used + piece.count > staging.count { try flush() }
        UnsafeMutableRawBufferPointer(rebasing: staging[used..<used + piece.count]).copyMemory(from: piece)
        used += piece.count
    }

    func flush() throws {
        guard used > 0 else { return }
        try sink(UnsafeRawBufferPointer(rebasing: staging[..<used]))
        used = 0
    }
}

import Dispatch

/// A record in `StateRecordCodec`'s byte form, written out in pieces rather
/// than built as one array. Small pieces are gathered in a staging buffer;
/// large byte fields (guest RAM, lent through `BorrowedBytes`) go to the
/// sink as they are, so saving a machine copies its RAM only into the file.
///
/// `init` only counts. A sink that takes pieces at their offsets (a file)
/// gets the payload's two halves from two threads at once, each checksumming
/// its half, and the header, with the combined checksum, last; a sink that
/// takes them in order (a pipe) gets a checksum pass first, then the header
/// and the payload.
public struct StateEncoding {
    public let record: StateRecord
    /// The whole encoding's size, header included.
    public let count: Int

    var payloadCount: Int { count - StateRecordCodec.headerSize }

    public init(_ record: StateRecord) {
        self.record = record
        var length = 0
        // Counting touches no lent bytes; the sink cannot fail, so neither can the pass.
        try! StatePieceWriter.emit(record, range: 0..<Int.max, touching: false) { piece, _ in length += piece.count }
        count = StateRecordCodec.headerSize + length
    }

    /// Hands the encoding to `sink` in order, in pieces of any size.
    public func write(to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var crc = CRC32()
        try! StatePieceWriter.emit(record, range: 0..<payloadCount) { piece, _ in crc.update(piece) }
        try header(checksum: crc.value).withUnsafeBytes { try sink($0) }
        try StatePieceWriter.emit(record, range: 0..<payloadCount) { piece, _ in try sink(piece) }
    }

    /// Hands every byte of the encoding to `sink` with its offset, from
    /// this thread and one other at once (so `sink` must be safe to call
    /// from both, as pwrite is); the header comes last.
    public func write(at sink: @escaping (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        let split = payloadCount / 2
        let record = self.record
        let secondHalf = HalfResult()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            secondHalf.run(record, range: split..<payloadCount, sink: sink)
        }
        let first = Result { try StateEncoding.writeChecksummed(record, range: 0..<split, sink: sink) }
        group.wait()
        let firstCRC = try first.get(), secondCRC = try secondHalf.result!.get()
        let checksum = CRC32.combine(firstCRC, secondCRC, lengthOfSecond: payloadCount - split)
        try header(checksum: checksum).withUnsafeBytes { try sink($0, 0) }
    }

    /// The encoding as one array.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        try! write { out += $0 }
        return out
    }

    private func header(checksum: UInt32) -> [UInt8] {
        var header = StateRecordCodec.magic
        withUnsafeBytes(of: StateRecordCodec.formatVersion.littleEndian) { header += $0 }
        withUnsafeBytes(of: UInt64(payloadCount).littleEndian) { header += $0 }
        withUnsafeBytes(of: checksum.littleEndian) { header += $0 }
        return header
    }

    /// Writes the payload's bytes in `range` at their offsets in the
    /// encoding, and returns their CRC-32.
    fileprivate static func writeChecksummed(_ record: StateRecord, range: Range<Int>,
                                             sink: (UnsafeRawBufferPointer, Int) throws -> Void) throws -> UInt32 {
        var crc = CRC32()
        try StatePieceWriter.emit(record, range: range) { piece, position in
            crc.update(piece)
            try sink(piece, StateRecordCodec.headerSize + position)
        }
        return crc.value
    }
}

/// The other thread's half: its checksum or its error, read after the
/// group's wait.
private final class HalfResult: @unchecked Sendable {
    var result: Result<UInt32, Error>?

    func run(_ record: StateRecord, range: Range<Int>, sink: (UnsafeRawBufferPointer, Int) throws -> Void) {
        result = Result { try StateEncoding.writeChecksummed(record, range: range, sink: sink) }
    }
}

/// Turns a record into the pieces of its payload that fall in a range of
/// payload offsets, each with its offset.
final class StatePieceWriter {
    /// Pieces at least this long skip the staging buffer.
    static let directThreshold = 64 << 10
    static let stagingSize = 1 << 20
    /// Longer pieces are handed over in parts of this size: Linux copies a
    /// file's new pages far faster in 1 MiB writes than in one of tens of
    /// MiB (measured: 256 MiB in 0.06 s against 0.6 s).
    static let largestPiece = 1 << 20

    private let sink: (UnsafeRawBufferPointer, Int) throws -> Void
    private let range: Range<Int>
    /// Whether pieces are read: a pass that only counts needs their lengths.
    private let touching: Bool
    private let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: stagingSize, alignment: 64)
    private var used = 0
    /// The payload offset of the next byte, and of the staging buffer's first.
    private var position = 0
    private var stagedFrom = 0

    private init(range: Range<Int>, touching: Bool, sink: @escaping (UnsafeRawBufferPointer, Int) throws -> Void) {
        self.range = range
        self.touching = touching
        self.sink = sink
    }

    deinit { staging.deallocate() }

    static func emit(_ record: StateRecord, range: Range<Int>, touching: Bool = true,
                     to sink: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        try withoutActuallyEscaping(sink) { sink in
            let writer = StatePieceWriter(range: range, touching: touching, sink: sink)
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

    /// The part of `piece` inside the range, staged or handed over.
    private func append(_ piece: UnsafeRawBufferPointer) throws {
        let start = max(position, range.lowerBound), end = min(position + piece.count, range.upperBound)
        defer { position += piece.count }
        guard start < end else { return }
        let part = UnsafeRawBufferPointer(rebasing: piece[(start - position)..<(end - position)])
        if part.count >= StatePieceWriter.directThreshold || !touching {
            try flush()
            for offset in stride(from: 0, to: part.count, by: StatePieceWriter.largestPiece) {
                let end = min(offset + StatePieceWriter.largestPiece, part.count)
                try sink(UnsafeRawBufferPointer(rebasing: part[offset..<end]), start + offset)
            }
            return
        }
        if used + part.count > staging.count { try flush() }
        if used == 0 { stagedFrom = start }
        UnsafeMutableRawBufferPointer(rebasing: staging[used..<used + part.count]).copyMemory(from: part)
        used += part.count
    }

    func flush() throws {
        guard used > 0 else { return }
        try sink(UnsafeRawBufferPointer(rebasing: staging[..<used]), stagedFrom)
        used = 0
    }
}

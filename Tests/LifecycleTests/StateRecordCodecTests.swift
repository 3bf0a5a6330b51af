import XCTest
@testable import Lifecycle

final class StateRecordCodecTests: XCTestCase {
    private func sample() -> StateRecord {
        var inner = StateRecord(name: "chip", version: 3)
        inner.put("imr", UInt8(0xFB))
        inner.put("ticks", Int64(-12))
        var record = StateRecord(name: "machine", version: 1)
        record.put("a20", true)
        record.put("ram", [UInt8](0..<200))
        record.put("model", "i440FX — ü")
        record.put("pic", inner)
        record.put("uarts", [inner, StateRecord(name: "empty", version: 0)])
        record.put("big", UInt64.max)
        return record
    }

    func testRoundTripKeepsEveryFieldAndItsOrder() throws {
        let record = sample()
        let decoded = try StateRecordCodec.decode(StateRecordCodec.encode(record))
        XCTAssertEqual(decoded, record)
        XCTAssertEqual(decoded.fields.map(\.name), ["a20", "ram", "model", "pic", "uarts", "big"])
        XCTAssertEqual(try decoded.record("pic").unsigned("imr", as: UInt8.self), 0xFB)
        XCTAssertEqual(try decoded.record("pic").signed("ticks"), -12)
        XCTAssertEqual(try decoded.string("model"), "i440FX — ü")
        XCTAssertEqual(try decoded.unsigned("big", as: UInt64.self), .max)
    }

    /// Lent bytes (runs of someone else's memory, some past the staging
    /// buffer's direct-write size) encode exactly as the same bytes owned,
    /// whether written in pieces or built as one array, and `count` is
    /// the size written.
    func testBorrowedBytesEncodeAsOwnedBytesInPieces() throws {
        let memory = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        try memory.withUnsafeBytes { raw in
            let runs = [raw[0..<10], raw[100..<100_100], raw[200_000..<300_000], raw[5..<5]].map { UnsafeRawBufferPointer(rebasing: $0) }
            var lent = sample()
            lent.put("pages", .borrowed(BorrowedBytes(runs: runs)))
            var owned = sample()
            owned.put("pages", runs.flatMap { Array($0) })
            let encoding = StateEncoding(lent)
            var pieces: [[UInt8]] = []
            try encoding.write(to: { pieces.append(Array($0)) })
            XCTAssertEqual(pieces.flatMap { $0 }, StateRecordCodec.encode(owned))
            // At their offsets, from two threads, the header last: the same bytes.
            let placed = UnsafeMutableRawBufferPointer.allocate(byteCount: encoding.count, alignment: 8)
            defer { placed.deallocate() }
            placed.initializeMemory(as: UInt8.self, repeating: 0xEE)
            let lock = NSLock()
            var offsets: [Int] = []
            try encoding.write(at: { piece, offset in
                UnsafeMutableRawBufferPointer(rebasing: placed[offset..<offset + piece.count]).copyMemory(from: piece)
                lock.withLock { offsets.append(offset) }
            })
            XCTAssertEqual(Array(placed), StateRecordCodec.encode(owned))
            XCTAssertEqual(offsets.last, 0, "the header, with the checksum, goes last")
            XCTAssertEqual(encoding.bytes, StateRecordCodec.encode(owned))
            XCTAssertEqual(encoding.count, encoding.bytes.count)
            XCTAssertGreaterThan(pieces.count, 2, "large runs are handed over as they are")
            XCTAssertEqual(try StateRecordCodec.decode(encoding.bytes), owned)
            XCTAssertEqual(lent.materialized(), owned)
            if case .borrowed = try lent.materialized().value("pages") { XCTFail("materialized keeps no lent bytes") }
        }
    }

    func testReadersReportMissingFieldWrongTypeAndRange() {
        let record = sample()
        XCTAssertThrowsError(try record.bool("absent")) {
            XCTAssertEqual($0 as? StateRecordError, .missingField(record: "machine", field: "absent"))
        }
        XCTAssertThrowsError(try record.unsigned("a20", as: UInt8.self)) {
            XCTAssertEqual($0 as? StateRecordError, .wrongType(record: "machine", field: "a20", expected: "unsigned", found: "bool"))
        }
        XCTAssertThrowsError(try record.unsigned("big", as: UInt32.self)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "machine", field: "big"))
        }
        XCTAssertThrowsError(try record.bytes("ram", count: 100)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "machine", field: "ram"))
        }
    }

    func testExpectRefusesAnotherVersionOrDevice() {
        let record = StateRecord(name: "pit", version: 2)
        XCTAssertNoThrow(try record.expect("pit", version: 2))
        XCTAssertThrowsError(try record.expect("pit", version: 3)) {
            XCTAssertEqual($0 as? StateRecordError, .wrongVersion(record: "pit", expected: 3, found: 2))
            XCTAssertEqual(String(describing: $0), "state of pit: version 2, this build reads version 3")
        }
        XCTAssertThrowsError(try record.expect("rtc", version: 2)) {
            XCTAssertEqual($0 as? StateRecordError, .wrongRecord(expected: "rtc", found: "pit"))
        }
    }

    func testEveryTruncationIsRefused() {
        let bytes = StateRecordCodec.encode(sample())
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try StateRecordCodec.decode(Array(bytes.prefix(length))), "length \(length)") { error in
                guard case .truncated = error as? StateRecordError else { return XCTFail("length \(length): \(error)") }
            }
        }
    }

    func testEveryFlippedBitIsRefused() {
        let bytes = StateRecordCodec.encode(sample())
        for index in 0..<bytes.count {
            for bit in [0, 3, 7] {
                var damaged = bytes
                damaged[index] ^= UInt8(1 << bit)
                XCTAssertThrowsError(try StateRecordCodec.decode(damaged), "byte \(index) bit \(bit)")
            }
        }
    }

    func testTrailingBytesAndOtherFilesAreRefused() {
        XCTAssertThrowsError(try StateRecordCodec.decode(StateRecordCodec.encode(sample()) + [0])) {
            XCTAssertEqual($0 as? StateRecordError, .damaged("bytes after the record"))
        }
        XCTAssertThrowsError(try StateRecordCodec.decode(Array("QFI\u{fb}not a state at all".utf8))) {
            XCTAssertEqual($0 as? StateRecordError, .damaged("not a saved state"))
        }
    }

    /// A well-formed payload (right checksum) that is nonsense inside: bad
    /// tags, a bool of 2, deep nesting, huge lengths. Each must throw.
    func testMalformedPayloadsWithValidChecksumsAreRefused() {
        func framed(_ payload: [UInt8]) -> [UInt8] {
            var out = StateRecordCodec.magic
            withUnsafeBytes(of: StateRecordCodec.formatVersion.littleEndian) { out += $0 }
            withUnsafeBytes(of: UInt64(payload.count).littleEndian) { out += $0 }
            withUnsafeBytes(of: CRC32.checksum(payload).littleEndian) { out += $0 }
            return out + payload
        }
        func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        let header = u32(1) + [0x78] + u32(1)  // name "x", version 1
        // One field "f" with tag 99.
        XCTAssertThrowsError(try StateRecordCodec.decode(framed(header + u32(1) + u32(1) + [0x66, 99])))
        // A bool of 2.
        XCTAssertThrowsError(try StateRecordCodec.decode(framed(header + u32(1) + u32(1) + [0x66, 3, 2])))
        // Bytes claiming 2^60 bytes.
        XCTAssertThrowsError(try StateRecordCodec.decode(framed(header + u32(1) + u32(1) + [0x66, 4] + [0, 0, 0, 0, 0, 0, 0, 0x10])))
        // 4 billion fields in a few bytes.
        XCTAssertThrowsError(try StateRecordCodec.decode(framed(header + u32(.max))))
        // A name that is not UTF-8.
        XCTAssertThrowsError(try StateRecordCodec.decode(framed(u32(1) + [0xFF] + u32(1) + u32(0))))
        // The same field twice.
        let field = u32(1) + [0x66, 3, 1]
        XCTAssertThrowsError(try StateRecordCodec.decode(framed(header + u32(2) + field + field)))
        // Records nested deeper than the limit: each level one field "r" holding a record.
        var nested: [UInt8] = header + u32(0)
        for _ in 0..<(StateRecordCodec.maximumDepth + 1) { nested = header + u32(1) + u32(1) + [0x72, 6] + nested }
        XCTAssertThrowsError(try StateRecordCodec.decode(framed(nested))) {
            XCTAssertEqual($0 as? StateRecordError, .damaged("records nested deeper than \(StateRecordCodec.maximumDepth)"))
        }
    }

    /// Random bytes, with and without a valid header and checksum, never crash
    /// the decoder: each input decodes or throws a StateRecordError.
    func testFuzzRandomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let valid = StateRecordCodec.encode(sample())
        for round in 0..<20_000 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0:
                bytes = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 1:
                // A real state with a few random bytes changed and the checksum made right again.
                bytes = valid
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: StateRecordCodec.headerSize..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                let checksum = CRC32.checksum(bytes[StateRecordCodec.headerSize...])
                withUnsafeBytes(of: checksum.littleEndian) { bytes.replaceSubrange(14..<18, with: $0) }
            default:
                bytes = Array(valid.prefix(Int.random(in: 0...valid.count, using: &generator)))
            }
            do {
                _ = try StateRecordCodec.decode(bytes)
            } catch {
                XCTAssertTrue(error is StateRecordError, "round \(round): \(error)")
            }
        }
    }

    func testCRC32MatchesTheStandardCheckValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }
}

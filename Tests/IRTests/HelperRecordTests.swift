import IR
import XCTest

/// Helper records: a struct's fields through one argument word and back.
final class HelperRecordTests: XCTestCase {
    struct Sample: HelperRecord, Equatable {
        var kind: UInt8
        var size: UInt8
        var count: UInt16
        var offset: UInt32
    }

    struct Small: HelperRecord, Equatable {
        var a: UInt8
        var b: UInt8
    }

    func testARecordComesBackFromItsWord() {
        let sample = Sample(kind: 0xA5, size: 4, count: 0xBEEF, offset: 0xDEAD_C0DE)
        XCTAssertEqual(Sample(word: sample.word), sample)
        // Little-endian in declaration order.
        XCTAssertEqual(sample.word, 0xDEAD_C0DE_BEEF_04A5)
    }

    func testBytesPastASmallRecordAreZero() {
        let small = Small(a: 0xFF, b: 0x7F)
        XCTAssertEqual(small.word, 0x7FFF)
        XCTAssertEqual(Small(word: small.word | 0xFFFF_0000), small, "bytes past the record are ignored")
    }
}

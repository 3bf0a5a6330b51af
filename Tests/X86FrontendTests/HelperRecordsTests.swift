import IR
import X86Frontend
import X86State
import XCTest

/// The x86 helpers' records: what the translator builds is what the helper reads.
final class HelperRecordsTests: XCTestCase {
    func testSegmentCheckKeepsSegmentAccessAndSize() {
        for segment in Segment.allCases {
            for access in [SegmentAccess.read, .write, .writeType] {
                let check = SegmentCheck(word: SegmentCheck(segment: segment, access: access, bytes: 512).word)
                XCTAssertEqual(check.segment, segment)
                XCTAssertEqual(check.access, access)
                XCTAssertEqual(check.bytes, 512, "FXSAVE's area")
            }
        }
    }

    func testSystemCallKeepsOperationSizeAndRegister() {
        let call = SystemCall(word: SystemCall(.writeControlRegister, operandBytes: 4, register: 3).word)
        XCTAssertEqual(call.operation, .writeControlRegister)
        XCTAssertEqual(call.operandBytes, 4)
        XCTAssertEqual(call.register, 3)
        XCTAssertNil(SystemCall(word: 0xFF).operation, "a number naming no operation")
    }

    func testFarCallKeepsSizeAndLength() {
        let call = FarCall(word: FarCall(operandBytes: 2, instructionLength: 7).word)
        XCTAssertEqual(call, FarCall(operandBytes: 2, instructionLength: 7))
    }
}

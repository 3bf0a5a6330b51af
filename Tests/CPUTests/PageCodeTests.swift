@testable import CPURuntime
import XCTest

/// A page's map of code bytes: a store is into code exactly when one of its
/// bytes was translated, across the map's 64-byte words and the page's ends.
final class PageCodeTests: XCTestCase {
    func testStoresAreTestedByteForByteAgainstTheMarkedRanges() {
        let code = PageCode()
        code.mark(0x3E, 0x41)       // across a word boundary
        code.mark(0xFC0, 0xFFF)     // the page's last word, whole
        code.mark(0x100, 0x100)     // one byte
        XCTAssertFalse(code.holdsCode(0, 0x3D))
        XCTAssertTrue(code.holdsCode(0x3D, 0x3E))
        XCTAssertTrue(code.holdsCode(0x41, 0x48))
        XCTAssertFalse(code.holdsCode(0x42, 0xFF))
        XCTAssertTrue(code.holdsCode(0xF8, 0x100))
        XCTAssertFalse(code.holdsCode(0x101, 0xFBF))
        XCTAssertTrue(code.holdsCode(0xFFF, 0xFFF))
        XCTAssertTrue(code.holdsCode(0, 0xFFF))
    }
}

import XCTest
@testable import IR
final class PlaceholderTests: XCTestCase { func testNothing() {} }

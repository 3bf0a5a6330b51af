import Configuration
import XCTest

final class DebugConsoleOptionTests: XCTestCase {
    func testDebugconTakesACharacterDevice() throws {
        let parser = OptionParser()
        XCTAssertNil(try parser.parse([]).debugConsole)
        XCTAssertEqual(try parser.parse(["-debugcon", "stdio"]).debugConsole, .stdio)
        XCTAssertEqual(try parser.parse(["-debugcon", "file:/tmp/log"]).debugConsole, .file("/tmp/log"))
        XCTAssertEqual(try parser.parse(["-debugcon", "none"]).debugConsole, .disabled)
        XCTAssertThrowsError(try parser.parse(["-debugcon", "tcp:1234"]))
    }

    func testDebugconNeedsTheDebugPorts() throws {
        let config = try OptionParser().parse(["-debugcon", "stdio"])
        XCTAssertThrowsError(try ConfigurationValidator(available: [.cpu, .firmware]).validate(config)) {
            XCTAssertTrue("\($0)".contains("-debugcon: the debug console ports"), "\($0)")
        }
        XCTAssertNoThrow(try ConfigurationValidator(available: [.cpu, .firmware, .debugPorts]).validate(config))
    }
}

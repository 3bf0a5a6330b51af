import Configuration
import XCTest

/// Where the human monitor goes, as QEMU decides it: -nographic shares the
/// terminal between COM1 and the monitor unless another monitor or a serial
/// port of the user's own takes its place.
final class TerminalMonitorOptionTests: XCTestCase {
    func parse(_ line: String) throws -> MachineConfiguration {
        try OptionParser().parse(line.split(separator: " ").map(String.init))
    }

    func testWhereTheMonitorGoes() throws {
        let cases: [(String, onTerminal: Bool, serial: [MachineConfiguration.CharacterDevice])] = [
            ("-nographic", true, [.stdio]),
            ("-serial mon:stdio", true, [.stdio]),
            ("-display none -monitor stdio", true, [.null]),
            ("-nographic -serial none", true, [.disabled]),
            ("-nographic -monitor unix:/tmp/m,server,nowait", false, [.stdio]),
            ("-nographic -qmp unix:/tmp/q,server,nowait", false, [.stdio]),
            ("-nographic -serial stdio", false, [.stdio]),
            ("-display none -serial stdio", false, [.stdio]),
            ("", false, [.null]),
        ]
        for (line, onTerminal, serial) in cases {
            let config = try parse(line)
            XCTAssertEqual(config.monitorOnTerminal, onTerminal, line)
            XCTAssertEqual(config.effectiveSerial, serial, line)
        }
        XCTAssertTrue(try parse("-serial mon:stdio").serialSharesMonitor)
        XCTAssertFalse(try parse("-serial stdio").serialSharesMonitor)
    }
}

import Configuration
import PCEmuSupport
import XCTest

/// `-s` and `-gdb` as QEMU spells them.
final class GDBOptionTests: XCTestCase {
    private func parse(_ line: String) throws -> MachineConfiguration {
        try OptionParser().parse(line.split(separator: " ").map(String.init))
    }

    func testGDBAddresses() throws {
        XCTAssertEqual(try parse("-s").gdb, .tcp(host: "127.0.0.1", port: 1234))
        XCTAssertEqual(try parse("-gdb tcp::4321").gdb, .tcp(host: "127.0.0.1", port: 4321))
        XCTAssertEqual(try parse("-gdb tcp:0.0.0.0:4321").gdb, .tcp(host: "0.0.0.0", port: 4321))
        XCTAssertEqual(try parse("-gdb 5555").gdb, .tcp(host: "127.0.0.1", port: 5555))
        XCTAssertEqual(try parse("-gdb unix:/tmp/gdb.sock,server").gdb, .unix(path: "/tmp/gdb.sock"))
        XCTAssertNil(try parse("-s -gdb none").gdb)
        XCTAssertNil(try parse("").gdb)
        for bad in ["-gdb tcp::0", "-gdb tcp::70000", "-gdb tcp:host", "-gdb unix:", "-gdb bogus"] {
            XCTAssertThrowsError(try parse(bad), bad) { error in
                XCTAssertTrue("\(error)".contains("-gdb"), "'\(error)' names the option")
            }
        }
    }

    func testGDBStubIsAPartTheValidatorChecks() throws {
        let configuration = try parse("-s")
        XCTAssertThrowsError(try ConfigurationValidator(available: [.cpu, .firmware]).validate(configuration)) { error in
            XCTAssertTrue("\(error)".contains("the gdb stub"), "\(error)")
        }
    }
}

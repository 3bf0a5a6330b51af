import Configuration
import PCEmuSupport
import XCTest

/// -drive if=pflash and -pflash as QEMU spells them: unit= or index= picks the
/// unit, an unnumbered drive takes the next one, and the pc machine has two.
final class PFlashOptionTests: XCTestCase {
    func parse(_ arguments: [String]) throws -> MachineConfiguration {
        try OptionParser().parse(arguments)
    }

    func flash(_ config: MachineConfiguration) -> [MachineConfiguration.Drive] {
        config.drives.filter { $0.interface == .pflash }
    }

    func testUnitsFromUnitIndexAndOrder() throws {
        let config = try parse(["-drive", "if=pflash,format=raw,unit=1,file=vars.fd",
                                "-drive", "if=pflash,format=raw,readonly=on,index=0,file=code.fd"])
        XCTAssertEqual(flash(config).map(\.index), [1, 0])
        XCTAssertEqual(flash(config).map(\.readOnly), [false, true])
        XCTAssertEqual(flash(config).map(\.file), ["vars.fd", "code.fd"])

        let ordered = try parse(["-pflash", "code.fd", "-drive", "if=pflash,file=vars.fd"])
        XCTAssertEqual(flash(ordered).map(\.index), [0, 1])
        XCTAssertEqual(flash(ordered).map(\.option), ["-pflash", "-drive"])
    }

    func testRefusals() {
        func refused(_ arguments: [String], _ text: String, line: UInt = #line) {
            XCTAssertThrowsError(try parse(arguments), line: line) { error in
                XCTAssertTrue("\(error)".contains(text), "'\(error)' does not mention '\(text)'", line: line)
            }
        }
        refused(["-pflash", "a", "-pflash", "b", "-pflash", "c"], "too many pflash units")
        refused(["-drive", "if=pflash,unit=2,file=a"], "index must be 0 to 1 for if=pflash")
        refused(["-drive", "if=pflash,unit=0,file=a", "-pflash", "b", "-drive", "if=pflash,index=0,file=c"], "pflash unit 0 is already used")
        refused(["-drive", "if=pflash,unit=0,index=1,file=a"], "index and unit disagree")
        refused(["-drive", "if=ide,unit=1,file=a"], "unit= is taken for if=pflash only")
        refused(["-drive", "if=scsi,file=a"], "(ide, floppy or pflash)")
    }

    func testTheValidatorNamesThePart() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pcemu-pflash-option-\(getpid()).fd")
        try Data(count: 4096).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let config = try parse(["-pflash", file.path])
        XCTAssertThrowsError(try ConfigurationValidator(available: [.cpu, .firmware]).validate(config)) { error in
            XCTAssertTrue("\(error)".contains("parallel flash"), "\(error)")
        }
    }
}

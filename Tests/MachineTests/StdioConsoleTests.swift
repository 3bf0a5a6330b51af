import Execution
@testable import Machine
import Timing
import XCTest

/// QEMU's Ctrl-A escapes on the terminal, and input paced by the UART's room.
final class StdioConsoleTests: XCTestCase {
    func testEscapes() throws {
        let machine = try TestMachine.make { $0.serial = [.stdio] }
        let console = try XCTUnwrap(machine.stdioConsole)
        var data: [UInt8] = []
        for byte in [0x61, 0x01, 0x01, 0x62, 0x01, 0x7A, 0x63] as [UInt8] { console.process(byte, into: &data) }
        XCTAssertEqual(data, [0x61, 0x01, 0x62, 0x63], "C-a C-a sends C-a; an unknown escape is dropped")
        console.process(0x01, into: &data)
        console.process(UInt8(ascii: "x"), into: &data)
        XCTAssertEqual(machine.loop.run(), 0, "C-a x ends the run with status 0")
    }

    func testOnlyOneSerialPortMayUseStdio() {
        XCTAssertThrowsError(try TestMachine.make { $0.serial = [.stdio, .stdio] }) {
            XCTAssertTrue("\($0)".contains("stdio can be used by one serial port only"), "\($0)")
        }
        XCTAssertThrowsError(try TestMachine.make { $0.serial = [.null, .null, .null] }) {
            XCTAssertTrue("\($0)".contains("COM3 and COM4"), "\($0)")
        }
    }
}

import Foundation
import TestSupport
import XCTest

/// The real pcemu running a guest: the terminal backend, the debug console,
/// power-off, -no-reboot and reset. The guests are tiny bzImages whose 32-bit
/// entry is a few instructions, booted by SeaBIOS as any -kernel is. Runs
/// whose output is compared whole use `-display none -serial stdio`: with
/// -nographic SeaBIOS also writes to the serial port (and reads it as a
/// keyboard while it boots), as it does on QEMU.
final class MachineRunTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-run")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A bzImage whose protected-mode part is `code`, entered at 0x100000
    /// after SeaBIOS and the linuxboot option ROM ran its setup code.
    func kernel(_ code: [UInt8]) throws -> String {
        try TinyBzImage.write(code, into: directory)
    }

    // 32-bit code pieces.
    static func outByte(_ port: UInt16, _ value: UInt8) -> [UInt8] {
        [0x66, 0xBA, UInt8(port & 0xFF), UInt8(port >> 8), 0xB0, value, 0xEE]  // mov dx, port; mov al, value; out dx, al
    }

    static func outWord(_ port: UInt16, _ value: UInt16) -> [UInt8] {
        [0x66, 0xBA, UInt8(port & 0xFF), UInt8(port >> 8), 0x66, 0xB8, UInt8(value & 0xFF), UInt8(value >> 8), 0x66, 0xEF]
    }

    static func outDword(_ port: UInt16, _ value: UInt32) -> [UInt8] {
        [0x66, 0xBA, UInt8(port & 0xFF), UInt8(port >> 8), 0xB8] + (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } + [0xEF]
    }

    static func text(_ port: UInt16, _ string: String) -> [UInt8] { string.utf8.flatMap { outByte(port, $0) } }

    /// PMBASE 0x600, PM I/O on, then SLP_TYP 0 (S5) with SLP_EN.
    static let powerOff: [UInt8] = outDword(0xCF8, 0x8000_0B40) + outDword(0xCFC, 0x601)
        + outDword(0xCF8, 0x8000_0B80) + outByte(0xCFC, 0x01) + outWord(0x604, 0x2000)
    static let haltForever: [UInt8] = [0xF4, 0xEB, 0xFD]

    func testSerialConsoleDebugConsoleAndPowerOff() throws {
        let debugLog = directory.appendingPathComponent("debugcon.txt").path
        let code = MachineRunTests.text(0x3F8, "hello from COM1\r\n") + MachineRunTests.text(0x402, "seabios-port ")
            + MachineRunTests.text(0xE9, "bochs-port") + MachineRunTests.powerOff + MachineRunTests.haltForever
        let result = try ChildProcess.run(BuildProducts.pcemu, ["-nographic", "-kernel", try kernel(code), "-debugcon", "file:\(debugLog)"],
                                          timeout: 30)
        XCTAssertEqual(result.status, 0, "stderr: \(result.stderr)")
        XCTAssertTrue(result.stdout.contains("hello from COM1"), result.stdout)
        XCTAssertEqual(result.stderr, "")
        // SeaBIOS's own log comes first on port 0x402.
        let log = try String(contentsOfFile: debugLog, encoding: .utf8)
        XCTAssertTrue(log.hasPrefix("SeaBIOS (version"), log)
        XCTAssertTrue(log.hasSuffix("seabios-port bochs-port"), log)
    }

    func testSerialToAFileAndDebugConsoleOnStderr() throws {
        let serialLog = directory.appendingPathComponent("com1.txt").path
        let code = MachineRunTests.text(0x3F8, "to the file") + MachineRunTests.text(0x402, "to stderr")
            + MachineRunTests.powerOff + MachineRunTests.haltForever
        let result = try ChildProcess.run(BuildProducts.pcemu, ["-display", "none", "-serial", "file:\(serialLog)",
                                                                 "-debugcon", "stdio", "-kernel", try kernel(code)], timeout: 30)
        XCTAssertEqual(result.status, 0, "stderr: \(result.stderr)")
        XCTAssertEqual(try String(contentsOfFile: serialLog, encoding: .utf8), "to the file")
        XCTAssertTrue(result.stderr.hasPrefix("SeaBIOS (version"), result.stderr)
        XCTAssertTrue(result.stderr.hasSuffix("\nto stderr"), result.stderr)
        XCTAssertEqual(result.stdout, "")
    }

    func testNoRebootTurnsAResetIntoExitZero() throws {
        let code = MachineRunTests.text(0x3F8, "resetting") + MachineRunTests.outByte(0xCF9, 0x06) + MachineRunTests.haltForever
        let result = try ChildProcess.run(BuildProducts.pcemu, ["-display", "none", "-serial", "stdio", "-no-reboot",
                                                                 "-kernel", try kernel(code)], timeout: 30)
        XCTAssertEqual(result.status, 0, "stderr: \(result.stderr)")
        XCTAssertEqual(result.stdout, "resetting")
    }

    func testAnotherBIOSImageBootsTheKernelToo() throws {
        // Debian's 128 KiB SeaBIOS build, not the default 256 KiB one.
        let code = MachineRunTests.text(0x3F8, "booted by bios.bin") + MachineRunTests.powerOff + MachineRunTests.haltForever
        let result = try ChildProcess.run(BuildProducts.pcemu, ["-display", "none", "-serial", "stdio", "-bios", "/usr/share/seabios/bios.bin",
                                                                 "-kernel", try kernel(code)], timeout: 30)
        XCTAssertEqual(result.status, 0, "stderr: \(result.stderr)")
        XCTAssertEqual(result.stdout, "booted by bios.bin")
    }

    func testAResetBootsTheKernelAgain() throws {
        let code = MachineRunTests.text(0x3F8, "booted;") + MachineRunTests.outByte(0xCF9, 0x06) + MachineRunTests.haltForever
        let child = try ChildProcess(BuildProducts.pcemu, ["-display", "none", "-serial", "stdio", "-kernel", try kernel(code)])
        defer { child.stop() }
        XCTAssertTrue(child.waitForOutput("booted;booted;booted;", timeout: 60), child.standardOutput)
    }

    func testCtrlAXFromAPipeQuitsWithStatusZero() throws {
        let input = directory.appendingPathComponent("keys")
        try Data([0x61, 0x01, 0x68, 0x01, UInt8(ascii: "x")]).write(to: input)
        let child = try ChildProcess(BuildProducts.pcemu, ["-nographic", "-kernel", try kernel(MachineRunTests.haltForever)],
                                     standardInput: input.path)
        let status = child.wait(timeout: 30)
        XCTAssertEqual(status, 0, "stderr: \(child.standardError)")
        XCTAssertTrue(child.standardOutput.contains("C-a x    exit emulator"), child.standardOutput)
        XCTAssertTrue(child.standardOutput.contains("pcemu: terminated"), child.standardOutput)
    }

    func testInputFromAPipeReachesTheGuestAndEndOfInputIsNoError() throws {
        // The guest echoes what COM1 receives, byte by byte, until it sees "!", then powers off.
        let echo: [UInt8] = [
            0x66, 0xBA, 0xFD, 0x03,  // wait: mov dx, 0x3FD
            0xEC,                    // in al, dx
            0xA8, 0x01,              // test al, 1 (data ready)
            0x74, 0xF7,              // jz wait
            0x66, 0xBA, 0xF8, 0x03,  // mov dx, 0x3F8
            0xEC,                    // in al, dx
            0xEE,                    // out dx, al
            0x3C, 0x21,              // cmp al, '!'
            0x75, 0xED,              // jne wait
        ]
        let input = directory.appendingPathComponent("text")
        let text = String(repeating: "0123456789abcdef", count: 8) + "!"
        try Data(text.utf8).write(to: input)
        let child = try ChildProcess(BuildProducts.pcemu, ["-display", "none", "-serial", "stdio",
                                                           "-kernel", try kernel(echo + MachineRunTests.powerOff)],
                                     standardInput: input.path)
        let status = child.wait(timeout: 30)
        XCTAssertEqual(status, 0, "stderr: \(child.standardError)")
        XCTAssertEqual(child.standardOutput, text, "every byte arrives, none lost to overruns")
    }
}

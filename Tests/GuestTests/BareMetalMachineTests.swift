import Foundation
import TestSupport
import XCTest

/// Bare-metal programs from firmware/tests booted from a floppy by SeaBIOS
/// on the whole machine, blocks run from the loop as a guest's are (the CPU
/// tests step one instruction at a time, which hides what a translated block
/// of many does), on both backends; QEMU is the reference.
final class BareMetalMachineTests: XCTestCase {
    /// What the program wrote to port 0xE9, once it wrote `end`. PCEmu's debug
    /// console also carries SeaBIOS's log (port 0x402): the program's bytes
    /// follow its last line. QEMU's (on 0xE9 only) has just the program's.
    static func run(_ command: String, _ arguments: [String], log: String, until end: String,
                    afterSeaBIOSLog: Bool) throws -> String {
        let machine = try ChildProcess(command, arguments, inputPipe: true)
        defer { machine.stop() }
        let deadline = Date(timeIntervalSinceNow: 60)
        var letters = ""
        while Date() < deadline, machine.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let parts = text.components(separatedBy: "Booting from 0000:7c00\n")
            if afterSeaBIOSLog && parts.count < 2 { usleep(50_000); continue }
            letters = parts.last ?? ""
            if letters.contains(end) { break }
            usleep(50_000)
        }
        return letters
    }

    /// Runs firmware/tests/NAME.asm on pcemu with each backend and on QEMU.
    func assertMatchesQEMU(_ name: String, expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = try makeTemporaryDirectory("pcemu-\(name)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let program = directory.appendingPathComponent("\(name).bin")
        let source = DefaultGuest.repository.appendingPathComponent("firmware/tests/\(name).asm")
        let assembled = try ChildProcess.run("/usr/bin/nasm", ["-f", "bin", "-o", program.path, source.path])
        XCTAssertEqual(assembled.status, 0, assembled.stderr, file: file, line: line)
        var image = try Data(contentsOf: program)
        image.append(Data(count: 1_474_560 - image.count))
        let floppy = directory.appendingPathComponent("\(name).img").path
        try image.write(to: URL(fileURLWithPath: floppy))
        let end = String(expected.last!)

        let qemuLog = directory.appendingPathComponent("qemu.txt").path
        let reference = try BareMetalMachineTests.run("/usr/bin/qemu-system-i386", [
            "-m", "32", "-nic", "none", "-drive", "file=\(floppy),format=raw,if=floppy", "-display", "none",
            "-debugcon", "file:\(qemuLog)",
        ], log: qemuLog, until: end, afterSeaBIOSLog: false)
        XCTAssertEqual(reference, expected, "QEMU's run of \(name)", file: file, line: line)
        for backend in ["jit", "interp"] {
            let log = directory.appendingPathComponent("pcemu-\(backend).txt").path
            let ours = try BareMetalMachineTests.run(BuildProducts.pcemu, [
                "-m", "32", "-nic", "none", "-display", "none", "-serial", "none", "-fda", floppy,
                "-accel", "tcg,backend=\(backend)", "-debugcon", "file:\(log)",
            ], log: log, until: end, afterSeaBIOSLog: true)
            XCTAssertEqual(ours, expected, "PCEmu (\(backend)) running \(name)", file: file, line: line)
        }
    }

    /// A store that rewrites the next instruction inside the running block
    /// (iPXE's interrupt reflection): the next instruction is the new one.
    func testStoreRewritingTheNextInstructionTakesEffectAtOnce() throws {
        try assertMatchesQEMU("store-ahead", expected: "ABABABabababE")
    }
}

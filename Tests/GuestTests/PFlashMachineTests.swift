import Foundation
import TestSupport
import XCTest

/// -drive if=pflash on the whole machine: SeaBIOS from pflash unit 0 boots
/// firmware/tests/pflash.asm from a floppy, which queries, erases and
/// programs unit 1. QEMU with the same two drives is the reference, for what
/// the guest reads and for what the unit-1 file holds after the run.
final class PFlashMachineTests: XCTestCase {
    static let seabios = "/usr/share/seabios/bios-256k.bin"
    static let unitSize = 64 * 1024
    /// What QEMU's run prints (qemu-system-i386 7.2).
    static let expected = "Q5152590110080F001000" + "I0000" + "R8000800080" + "P80"
        + "A5043456D75FF" + "BEEF" + "5A" + "WA000" + "E"

    func flashDrives(_ vars: String) -> [String] {
        ["-drive", "if=pflash,format=raw,readonly=on,file=\(PFlashMachineTests.seabios)",
         "-drive", "if=pflash,format=raw,file=\(vars)"]
    }

    func makeVars(_ path: String) throws {
        try Data(repeating: 0x5A, count: PFlashMachineTests.unitSize).write(to: URL(fileURLWithPath: path))
    }

    func testGuestProgramsUnitOneAsOnQEMUAndTheFileKeepsIt() throws {
        let directory = try makeTemporaryDirectory("pcemu-pflash")
        defer { try? FileManager.default.removeItem(at: directory) }
        let floppy = try BareMetalMachineTests.floppy(with: "pflash", in: directory)

        let qemuVars = directory.appendingPathComponent("vars-qemu.fd").path
        try makeVars(qemuVars)
        let qemuLog = directory.appendingPathComponent("qemu.txt").path
        let reference = try BareMetalMachineTests.run("/usr/bin/qemu-system-i386", [
            "-m", "32", "-nic", "none", "-display", "none", "-drive", "file=\(floppy),format=raw,if=floppy",
            "-debugcon", "file:\(qemuLog)",
        ] + flashDrives(qemuVars), log: qemuLog, until: "E", afterSeaBIOSLog: false)
        XCTAssertEqual(reference, PFlashMachineTests.expected, "QEMU's run")
        let qemuFile = try Data(contentsOf: URL(fileURLWithPath: qemuVars))

        for backend in ["jit", "interp"] {
            let vars = directory.appendingPathComponent("vars-\(backend).fd").path
            try makeVars(vars)
            let log = directory.appendingPathComponent("pcemu-\(backend).txt").path
            let ours = try BareMetalMachineTests.run(BuildProducts.pcemu, [
                "-m", "32", "-nic", "none", "-display", "none", "-serial", "none", "-fda", floppy,
                "-accel", "tcg,backend=\(backend)", "-debugcon", "file:\(log)",
            ] + flashDrives(vars), log: log, until: "E", afterSeaBIOSLog: true)
            XCTAssertEqual(ours, PFlashMachineTests.expected, "PCEmu (\(backend))")
            // The run is over (the process was stopped): the file holds what the guest programmed.
            let file = try Data(contentsOf: URL(fileURLWithPath: vars))
            XCTAssertEqual(file.count, PFlashMachineTests.unitSize, "the file keeps its size")
            XCTAssertEqual(Array(file[0x1010..<0x1015]), Array("PCEmu".utf8))
            XCTAssertTrue(file == qemuFile, "the unit-1 file is byte for byte QEMU's (\(backend))")
        }
    }

    /// Debian's OVMF (UEFI firmware: 64-bit code from its reset vector on)
    /// as QEMU runs it, code and variables in two flash units, on -cpu
    /// qemu64: it reaches the UEFI shell on the serial port.
    func testOVMFReachesTheUEFIShell() throws {
        let directory = try makeTemporaryDirectory("pcemu-ovmf")
        defer { try? FileManager.default.removeItem(at: directory) }
        let vars = directory.appendingPathComponent("vars.fd").path
        try FileManager.default.copyItem(atPath: "/usr/share/OVMF/OVMF_VARS.fd", toPath: vars)
        let log = directory.appendingPathComponent("serial.txt").path
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-cpu", "qemu64", "-m", "256", "-nic", "none", "-display", "none", "-serial", "file:\(log)",
            "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd",
            "-drive", "if=pflash,format=raw,file=\(vars)",
        ])
        defer { pcemu.stop() }
        let deadline = Date(timeIntervalSinceNow: 180)
        var text = ""
        while Date() < deadline, pcemu.isRunning {
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.contains("Shell>") { break }
            usleep(250_000)
        }
        XCTAssertTrue(text.contains("Shell>"), "the serial port said: \(text.suffix(1000))")
    }

    /// -snapshot keeps the guest's flash writes in memory: the file is untouched.
    func testSnapshotLeavesTheFileAlone() throws {
        let directory = try makeTemporaryDirectory("pcemu-pflash-snapshot")
        defer { try? FileManager.default.removeItem(at: directory) }
        let floppy = try BareMetalMachineTests.floppy(with: "pflash", in: directory)
        let vars = directory.appendingPathComponent("vars.fd").path
        try makeVars(vars)
        let log = directory.appendingPathComponent("pcemu.txt").path
        let ours = try BareMetalMachineTests.run(BuildProducts.pcemu, [
            "-m", "32", "-nic", "none", "-display", "none", "-serial", "none", "-fda", floppy, "-snapshot",
            "-debugcon", "file:\(log)",
        ] + flashDrives(vars), log: log, until: "E", afterSeaBIOSLog: true)
        XCTAssertEqual(ours, PFlashMachineTests.expected)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: vars)), Data(repeating: 0x5A, count: PFlashMachineTests.unitSize))
    }

    /// Each bad pflash command line is one line on stderr and exit status 1.
    func testBadFlashOptionsAreOneLineErrors() throws {
        let directory = try makeTemporaryDirectory("pcemu-pflash-errors")
        defer { try? FileManager.default.removeItem(at: directory) }
        let odd = directory.appendingPathComponent("odd.fd").path
        try Data(count: 5000).write(to: URL(fileURLWithPath: odd))
        let big = directory.appendingPathComponent("big.fd").path
        try Data(count: 8 << 20).write(to: URL(fileURLWithPath: big))
        let seabios = PFlashMachineTests.seabios
        let cases: [([String], String)] = [
            (["-drive", "if=pflash,format=raw,file=\(odd)"], "non-zero multiple of 4 KiB, not 5000 bytes"),
            (["-drive", "if=pflash,format=raw,file=\(directory.path)/missing.fd"], "missing.fd"),
            (["-drive", "if=pflash,format=qcow2,file=\(seabios)"], "format=raw"),
            (["-pflash", seabios, "-pflash", odd, "-pflash", seabios], "too many pflash units"),
            (["-drive", "if=pflash,unit=2,file=\(seabios)"], "index must be 0 to 1 for if=pflash"),
            (["-drive", "if=pflash,unit=1,file=\(seabios)"], "pflash1 requires pflash0"),
            (["-bios", seabios, "-pflash", seabios], "-bios"),
            (["-pflash", seabios, "-pflash", big], "combined size of system firmware exceeds 8388608 bytes"),
        ]
        for (arguments, message) in cases {
            let result = try ChildProcess.run(BuildProducts.pcemu, ["-display", "none", "-nic", "none"] + arguments)
            XCTAssertEqual(result.status, 1, "\(arguments)")
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "one line for \(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "'\(result.stderr)' does not say '\(message)'")
        }
    }
}

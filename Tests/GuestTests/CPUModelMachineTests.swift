import Foundation
import TestSupport
import XCTest

/// -cpu MODEL: the CPUID a guest sees (firmware/tests/cpuid-leaves.asm,
/// booted by SeaBIOS) against qemu-system-x86_64 -accel tcg with the same
/// -cpu. QEMU's leaves are the reference, less the features PCEmu has not
/// built yet, which it leaves out of CPUID as QEMU's TCG leaves out what it
/// lacks.
final class CPUModelMachineTests: XCTestCase {
    /// Feature bits PCEmu does not declare yet, per leaf and register (EAX=0 ... EDX=3).
    static let notBuilt: [UInt32: [Int: UInt32]] = [
        0x8000_0001: [2: 1 << 2],                                   // ECX: svm
    ]

    /// Leaf → its four words, from the program's lines.
    static func leaves(_ text: String) -> [UInt32: [UInt32]] {
        var leaves = [UInt32: [UInt32]]()
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").compactMap { UInt32($0, radix: 16) }
            if words.count == 5 { leaves[words[0]] = Array(words[1...]) }
        }
        return leaves
    }

    func testModelsDeclareWhatQEMUsDoLessWhatIsNotBuilt() throws {
        let directory = try makeTemporaryDirectory("pcemu-cpuid")
        defer { try? FileManager.default.removeItem(at: directory) }
        let floppy = try BareMetalMachineTests.floppy(with: "cpuid-leaves", in: directory)
        for model in ["486", "pentium", "pentium2", "pentium3", "qemu32", "qemu64"] {
            let qemuLog = directory.appendingPathComponent("qemu-\(model).txt").path
            let reference = try BareMetalMachineTests.run("/usr/bin/qemu-system-x86_64", [
                "-cpu", model, "-m", "32", "-nic", "none", "-drive", "file=\(floppy),format=raw,if=floppy",
                "-display", "none", "-debugcon", "file:\(qemuLog)",
            ], log: qemuLog, until: "\nE", afterSeaBIOSLog: false)
            let log = directory.appendingPathComponent("pcemu-\(model).txt").path
            let ours = try BareMetalMachineTests.run(BuildProducts.pcemu, [
                "-cpu", model, "-m", "32", "-nic", "none", "-display", "none", "-serial", "none", "-fda", floppy,
                "-debugcon", "file:\(log)",
            ], log: log, until: "\nE", afterSeaBIOSLog: true)
            var expected = CPUModelMachineTests.leaves(reference)
            XCTAssertNotNil(expected[1], "QEMU's run of -cpu \(model): \(reference)")
            for (leaf, registers) in CPUModelMachineTests.notBuilt {
                for (register, bits) in registers { expected[leaf]?[register] &= ~bits }
            }
            // Physical addresses are 36 bits wide (QEMU's qemu64: 40); linear
            // ones 48 with long mode, else 32.
            let longMode = (expected[0x8000_0001]?[3] ?? 0) & 1 << 29 != 0
            if expected[0x8000_0008] != nil { expected[0x8000_0008] = [longMode ? 0x3024 : 0x2024, 0, 0, 0] }
            XCTAssertEqual(CPUModelMachineTests.leaves(ours), expected, "-cpu \(model): PCEmu's CPUID\n\(ours)\nQEMU's\n\(reference)")
        }
    }

    /// Without -cpu the CPU is QEMU's qemu64, as qemu-system-x86_64 gives;
    /// +feature and -feature change what CPUID says.
    func testDefaultModelAndFeatureChanges() throws {
        let directory = try makeTemporaryDirectory("pcemu-cpuid")
        defer { try? FileManager.default.removeItem(at: directory) }
        let floppy = try BareMetalMachineTests.floppy(with: "cpuid-leaves", in: directory)
        func cpuid(_ options: [String]) throws -> [UInt32: [UInt32]] {
            let log = directory.appendingPathComponent("pcemu.txt").path
            try? FileManager.default.removeItem(atPath: log)
            return CPUModelMachineTests.leaves(try BareMetalMachineTests.run(BuildProducts.pcemu, options + [
                "-m", "32", "-nic", "none", "-display", "none", "-serial", "none", "-fda", floppy, "-debugcon", "file:\(log)",
            ], log: log, until: "\nE", afterSeaBIOSLog: true))
        }
        let standard = try cpuid([])
        XCTAssertEqual(standard[1]?[0], 0x60FB1, "family 15, model 107 (extended model 6), stepping 1")
        XCTAssertEqual(standard[0]?[0], 0xD, "qemu64's highest leaf")
        XCTAssertEqual((standard[1]?[3] ?? 0) & (1 << 26), 1 << 26, "SSE2")
        let pentium2 = try cpuid(["-cpu", "pentium2"])
        XCTAssertEqual(pentium2[1]?[0], 0x652, "-cpu pentium2: family 6, model 5, stepping 2")
        let changed = try cpuid(["-cpu", "pentium2,-cmov,pat=off,+sse4.2,+avx"])
        XCTAssertEqual(changed[1]?[3], pentium2[1]![3] & ~(1 << 15 | 1 << 16), "cmov and pat taken out")
        XCTAssertEqual(changed[1]?[2], pentium2[1]![2] | 1 << 20, "sse4.2 added; avx is not built: left out")
    }
}

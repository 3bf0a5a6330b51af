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
        var previous: String?
        while Date() < deadline, machine.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let parts = text.components(separatedBy: "Booting from 0000:7c00\n")
            if afterSeaBIOSLog && parts.count < 2 { usleep(50_000); continue }
            letters = parts.last ?? ""
            // The end marker may also be a digit of a hexadecimal value
            // printed before it: done once the text has stopped growing too.
            if letters.contains(end) && letters == previous { break }
            previous = letters
            usleep(50_000)
        }
        return letters
    }

    /// A 1.44 MB floppy image in `directory` whose boot sector is firmware/tests/NAME.asm.
    static func floppy(with name: String, in directory: URL) throws -> String {
        let program = directory.appendingPathComponent("\(name).bin")
        let source = DefaultGuest.repository.appendingPathComponent("firmware/tests/\(name).asm")
        let assembled = try ChildProcess.run("/usr/bin/nasm", ["-f", "bin", "-i", source.deletingLastPathComponent().path + "/", "-o", program.path, source.path])
        guard assembled.status == 0 else { throw TestSetupError("nasm \(name).asm: \(assembled.stderr)") }
        var image = try Data(contentsOf: program)
        image.append(Data(count: 1_474_560 - image.count))
        let floppy = directory.appendingPathComponent("\(name).img").path
        try image.write(to: URL(fileURLWithPath: floppy))
        return floppy
    }

    /// Runs firmware/tests/NAME.asm on pcemu with each backend and on QEMU
    /// (`qemu`: its binary and CPU options; `qemuExpected` where QEMU's run
    /// differs on purpose, said by the caller).
    func assertMatchesQEMU(_ name: String, expected: String, memory: String = "32",
                           qemu: [String] = ["/usr/bin/qemu-system-i386"], qemuExpected: String? = nil,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = try makeTemporaryDirectory("pcemu-\(name)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let floppy = try BareMetalMachineTests.floppy(with: name, in: directory)
        let end = String(expected.last!)

        let qemuLog = directory.appendingPathComponent("qemu.txt").path
        let reference = try BareMetalMachineTests.run(qemu[0], Array(qemu.dropFirst()) + [
            "-m", memory, "-nic", "none", "-drive", "file=\(floppy),format=raw,if=floppy", "-display", "none",
            "-debugcon", "file:\(qemuLog)",
        ], log: qemuLog, until: end, afterSeaBIOSLog: false)
        XCTAssertEqual(reference, qemuExpected ?? expected, "QEMU's run of \(name)", file: file, line: line)
        try assertBothBackendsGive(expected, floppy: floppy, memory: memory, in: directory, file: file, line: line)
    }

    /// Runs a floppy on pcemu with each backend; both must print `expected`.
    func assertBothBackendsGive(_ expected: String, floppy: String, memory: String = "32", in directory: URL,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let end = String(expected.last!)
        for backend in ["jit", "interp"] {
            let log = directory.appendingPathComponent("pcemu-\(backend).txt").path
            let ours = try BareMetalMachineTests.run(BuildProducts.pcemu, [
                "-m", memory, "-nic", "none", "-display", "none", "-serial", "none", "-fda", floppy,
                "-accel", "tcg,backend=\(backend)", "-debugcon", "file:\(log)",
            ], log: log, until: end, afterSeaBIOSLog: true)
            XCTAssertEqual(ours, expected, "PCEmu (\(backend)) running \(floppy)", file: file, line: line)
        }
    }

    /// A store that rewrites the next instruction inside the running block
    /// (iPXE's interrupt reflection): the next instruction is the new one.
    func testStoreRewritingTheNextInstructionTakesEffectAtOnce() throws {
        try assertMatchesQEMU("store-ahead", expected: "ABABABabababE")
    }

    /// Far JMP and CALL in long mode: m16:64 and m16:32 pointers, 64-bit and
    /// compatibility targets, 16-byte call gates at the same privilege and
    /// from ring 3 to ring 0 (RSP0, a null SS, quadword frames, a gate offset
    /// in the upper half), and the #GPs long mode adds (16-bit call gates, a
    /// gate's upper type, a gate to 32-bit code, L and D both set, a TSS).
    /// QEMU 7.2 gets these wrong, so the expected text is Bochs's, which
    /// ProtectedModeTests checks the program against on the CPU alone.
    func testLongModeFarTransfersAndCallGates() throws {
        let directory = try makeTemporaryDirectory("pcemu-far-transfers64")
        defer { try? FileManager.default.removeItem(at: directory) }
        let floppy = try BareMetalMachineTests.floppy(with: "far-transfers64", in: directory)
        try assertBothBackendsGive("LJCcKkg883GRg60g68g18jg30E", floppy: floppy, in: directory)
    }

    /// PAE paging over the RAM that -m 5G puts at 4-6 GiB: patterns through a
    /// 2 MiB page at 4 GiB, a page table that lies above 4 GiB, A/D bits set
    /// there, and a routine run from high RAM then rewritten by a store (the
    /// store must drop its translated block). The reference is QEMU's x86_64
    /// binary with its 32-bit CPU and PSE-36, which makes MAXPHYADDR 36:
    /// qemu-system-i386 stops at the page table above 4 GiB (its walk loses
    /// the address's top bits), and plain qemu32 has MAXPHYADDR 32. QEMU reads
    /// zeros where nothing is (8 GiB); PCEmu's bus reads all ones there, as a
    /// PC's does.
    func testPAEPagingReachesRAMAboveFourGiB() throws {
        try assertMatchesQEMU("high-memory", expected: "PABCDNXYE", memory: "5G",
                              qemu: ["/usr/bin/qemu-system-x86_64", "-cpu", "qemu32,pse36=on"], qemuExpected: "PABCDZXYE")
    }
}

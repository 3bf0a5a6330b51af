import CPURuntime
import Foundation
@testable import Machine
import TestSupport
import XCTest

/// A bare-metal program (firmware/tests/vga-mode13h.asm) programs the VGA
/// through its ports and draws; PCEmu's picture must be QEMU's, pixel for pixel.
final class VGAAgainstQEMUTests: XCTestCase {
    func testMode13hModeXAndLatchCopiesDrawWhatQEMUDraws() throws {
        let directory = try makeTemporaryDirectory("pcemu-vga-mode13h")
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("vga-mode13h.bin")
        let source = DefaultGuest.repository.appendingPathComponent("firmware/tests/vga-mode13h.asm")
        let assembled = try ChildProcess.run("/usr/bin/nasm", ["-f", "bin", "-o", image.path, source.path])
        XCTAssertEqual(assembled.status, 0, assembled.stderr)

        // PCEmu: the whole machine, the program entered at 0000:7C00 as a BIOS would.
        let ourLog = directory.appendingPathComponent("pcemu-debugcon.txt").path
        let machine = try TestMachine.make { $0.debugConsole = .file(ourLog) }
        let program = try Data(contentsOf: image)
        try program.withUnsafeBytes { try machine.ram.load($0, at: 0x7C00) }
        machine.cpu.loadRealModeSegment(.cs, selector: 0)
        machine.cpu.state.pointee.eip = 0x7C00
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = machine.loop.run()
            finished.signal()
        }
        XCTAssertTrue(waitForFile(ourLog, toContain: "D"), "the program did not finish on PCEmu")
        machine.loop.stop(status: 0, cause: .hostSignal)
        finished.wait()
        let ours = directory.appendingPathComponent("pcemu.ppm").path
        try machine.writeScreenDump(to: ours)

        // QEMU: the same program as a floppy boot sector, after SeaBIOS.
        let qemuLog = directory.appendingPathComponent("qemu-debugcon.txt").path
        let reference = directory.appendingPathComponent("qemu.ppm").path
        let qemu = try ChildProcess("/usr/bin/qemu-system-i386", [
            "-drive", "file=\(image.path),format=raw,if=floppy", "-display", "none", "-monitor", "stdio",
            "-debugcon", "file:\(qemuLog)",
        ], inputPipe: true)
        defer { qemu.stop() }
        XCTAssertTrue(waitForFile(qemuLog, toContain: "D"), "the program did not finish on QEMU")
        usleep(300_000)
        qemu.send("screendump \(reference)\nquit\n")
        _ = qemu.wait(timeout: 30)

        let ourShot = try Screenshot(ppm: ours), qemuShot = try Screenshot(ppm: reference)
        XCTAssertEqual(qemuShot.width, 640)
        XCTAssertEqual(qemuShot.height, 400)
        XCTAssertEqual(ourShot.width, qemuShot.width)
        XCTAssertEqual(ourShot.height, qemuShot.height)
        guard ourShot.pixels.count == qemuShot.pixels.count else { return }
        let differing = (0..<ourShot.pixels.count).filter { ourShot.pixels[$0] != qemuShot.pixels[$0] }
        XCTAssertEqual(differing.count, 0, "first differences at \(differing.prefix(5).map { ($0 % ourShot.width, $0 / ourShot.width) })")
    }

    private func waitForFile(_ path: String, toContain text: String, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains(text) { return true }
            usleep(50_000)
        }
        return false
    }
}

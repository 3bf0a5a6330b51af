import Foundation
import TestSupport
import XCTest

/// SSE in the default guest: Linux sees SSE and SSE2 (-cpu pentium2,+sse,+sse2), sets
/// CR4.OSFXSR and saves XMM state across tasks, and the SSE exerciser
/// (Tests/GuestPrograms/sse-exerciser.c, gcc -m32 -static, SSE2 by pragma) prints in
/// the guest, on the JIT and on the interpreter, exactly what it prints on the host CPU;
/// the same for SSE3 to SSE4.2 (Tests/GuestPrograms/sse4-exerciser.c).
final class SSEGuestTests: XCTestCase {
    private func boot(_ extra: [String]) throws -> ChildProcess {
        let guest = try DefaultGuest.paths()
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet", "-nographic",
        ] + extra, inputPipe: true)
        guard pcemu.waitForOutput(LinuxGuestTests.prompt, timeout: 300) else {
            XCTFail("no shell prompt; the console said:\n\(pcemu.standardOutput.suffix(3000))")
            throw TestSetupError("the guest did not boot")
        }
        return pcemu
    }

    private func hostOutput(_ program: String = "sse-exerciser") throws -> String {
        let directory = try makeTemporaryDirectory("pcemu-\(program)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent(program).path
        let source = DefaultGuest.repository.appendingPathComponent("Tests/GuestPrograms/\(program).c").path
        let build = try ChildProcess.run("/usr/bin/gcc", ["-m32", "-static", "-O2", "-o", binary, source])
        XCTAssertEqual(build.status, 0, build.stderr)
        let output = try ChildProcess.run(binary, []).stdout.trimmingCharacters(in: .newlines)
        XCTAssertTrue(output.hasSuffix("\(program) done"), output)
        return output
    }

    func testTheSSEExerciserMatchesTheHostOnTheJITAndTheInterpreter() throws {
        let expected = try hostOutput()
        for backend in ["jit", "interp"] {
            // The default model (pentium2) has no SSE.
            let pcemu = try boot(["-accel", "tcg,backend=\(backend)", "-cpu", "pentium2,+sse,+sse2"])
            // Short commands: the shell redraws lines past 80 columns.
            XCTAssertEqual(runInShell("grep -cw sse /proc/cpuinfo", in: pcemu), "1", backend)
            XCTAssertEqual(runInShell("grep -cw sse2 /proc/cpuinfo", in: pcemu), "1", backend)
            let output = try XCTUnwrap(runInShell("sse-exerciser", in: pcemu, timeout: 600), backend)
            XCTAssertEqual(output, expected, backend)
            pcemu.send("poweroff -f\n")
            XCTAssertEqual(pcemu.wait(timeout: 60), 0, backend)
        }
    }

    /// SSE3 to SSE4.2 and POPCNT: Linux lists them from CPUID, and
    /// Tests/GuestPrograms/sse4-exerciser.c (its pragma enables them; FISTTP
    /// by inline assembly) prints in the guest what it prints on the host.
    func testTheSSE4ExerciserMatchesTheHostOnTheJITAndTheInterpreter() throws {
        let expected = try hostOutput("sse4-exerciser")
        for backend in ["jit", "interp"] {
            let pcemu = try boot(["-accel", "tcg,backend=\(backend)", "-cpu",
                                  "pentium2,+sse,+sse2,+pni,+ssse3,+sse4.1,+sse4.2,+popcnt"])
            for flag in ["pni", "ssse3", "sse4_1", "sse4_2", "popcnt"] {
                XCTAssertEqual(runInShell("grep -cw \(flag) /proc/cpuinfo", in: pcemu), "1", "\(backend): \(flag)")
            }
            let output = try XCTUnwrap(runInShell("sse4-exerciser", in: pcemu, timeout: 600), backend)
            XCTAssertEqual(output, expected, backend)
            pcemu.send("poweroff -f\n")
            XCTAssertEqual(pcemu.wait(timeout: 60), 0, backend)
        }
    }
}

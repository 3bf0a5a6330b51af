import Foundation
import TestSupport
import XCTest

/// Debian 12's amd64 kernel on `-cpu qemu64`: 64-bit Linux boots to the
/// busybox shell (a 64-bit program) and runs the i386 CPU exerciser in
/// compatibility mode with the host CPU's results.
final class LongModeGuestTests: XCTestCase {
    func testAmd64KernelBootsToItsShellAndRunsThirtyTwoBitPrograms() throws {
        let guest = try DefaultGuest.paths(arch: "amd64")
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-cpu", "qemu64", "-m", "512", "-kernel", guest.kernel, "-initrd", guest.initrd,
            "-append", "console=ttyS0 quiet", "-nographic",
        ], inputPipe: true)
        defer { pcemu.stop() }
        guard pcemu.waitForOutput(LinuxGuestTests.prompt, timeout: 300) else {
            XCTFail("no shell prompt; the console said:\n\(pcemu.standardOutput.suffix(3000))\n\(pcemu.standardError.suffix(1000))")
            return
        }
        XCTAssertEqual(runInShell("uname -m", in: pcemu), "x86_64")
        XCTAssertEqual(runInShell("echo $((1 << 40))", in: pcemu), "1099511627776", "the shell's 64-bit arithmetic")
        XCTAssertEqual(runInShell("grep -c ' lm ' /proc/cpuinfo", in: pcemu), "1")

        let guestOutput = try XCTUnwrap(runInShell("cpu-exerciser", in: pcemu, timeout: 300))
        XCTAssertEqual(guestOutput, try hostProgramOutput("cpu-exerciser"), "the i386 exerciser in compatibility mode")

        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0, "poweroff ends pcemu with status 0")
    }
}

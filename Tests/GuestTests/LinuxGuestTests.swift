import Foundation
import TestSupport
import XCTest

/// Whole-machine tests: the real pcemu boots the default guest on its serial
/// console, and the test types commands the way a user would.
final class LinuxGuestTests: XCTestCase {
    static let prompt = "pcemu:/root# "

    /// Starts pcemu on the default guest and waits for the shell.
    func bootDefaultGuest(file: StaticString = #filePath, line: UInt = #line) throws -> ChildProcess {
        let guest = try DefaultGuest.paths()
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet", "-nographic",
        ], inputPipe: true)
        guard pcemu.waitForOutput(LinuxGuestTests.prompt, timeout: 300) else {
            XCTFail("no shell prompt; the console said:\n\(pcemu.standardOutput.suffix(3000))\n\(pcemu.standardError.suffix(1000))",
                    file: file, line: line)
            throw TestSetupError("the guest did not boot")
        }
        return pcemu
    }

    func testBootsRunsCommandsMatchesTheHostCPUAndPowersOff() throws {
        let pcemu = try bootDefaultGuest()
        XCTAssertEqual(runInShell("echo $((6 * 7))", in: pcemu), "42")
        XCTAssertEqual(runInShell("uname -m", in: pcemu), "i686")
        XCTAssertEqual(runInShell("grep -c '^processor' /proc/cpuinfo", in: pcemu), "1")
        XCTAssertEqual(runInShell("cut -c1-13 /proc/version", in: pcemu), "Linux version")

        // The CPU exerciser prints in the guest exactly what it prints on the host CPU.
        let guestOutput = try XCTUnwrap(runInShell("cpu-exerciser", in: pcemu, timeout: 300))
        let directory = try makeTemporaryDirectory("pcemu-exerciser")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent("cpu-exerciser").path
        let source = DefaultGuest.repository.appendingPathComponent("Tests/GuestPrograms/cpu-exerciser.c").path
        let build = try ChildProcess.run("/usr/bin/gcc", ["-m32", "-static", "-O2", "-o", binary, source])
        XCTAssertEqual(build.status, 0, build.stderr)
        let hostOutput = try ChildProcess.run(binary, []).stdout.trimmingCharacters(in: .newlines)
        XCTAssertTrue(hostOutput.hasSuffix("cpu-exerciser done"), hostOutput)
        XCTAssertEqual(guestOutput, hostOutput)

        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0, "poweroff ends pcemu with status 0")
    }
}

/// SeaBIOS from Debian's package, on the serial console with no disk.
final class FirmwareBootTests: XCTestCase {
    func testSeaBIOSPrintsItsBannerAndFindsNoBootableDevice() throws {
        let pcemu = try ChildProcess(BuildProducts.pcemu, ["-nographic"], inputPipe: true)
        defer { pcemu.stop() }
        XCTAssertTrue(pcemu.waitForOutput("No bootable device", timeout: 120), pcemu.standardOutput.suffix(2000).description)
        XCTAssertTrue(pcemu.standardOutput.contains("SeaBIOS (version"), pcemu.standardOutput.suffix(2000).description)
    }
}

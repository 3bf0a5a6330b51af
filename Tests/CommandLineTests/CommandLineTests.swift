import Foundation
import TestSupport
import XCTest

/// Runs the real pcemu binary the way a user types it.
final class CommandLineTests: XCTestCase {
    func pcemu(_ arguments: [String]) throws -> (status: Int32?, stdout: String, stderr: String) {
        try ChildProcess.run(BuildProducts.pcemu, arguments, timeout: 30)
    }

    /// One line on stderr naming the problem, status 1, nothing on stdout.
    func assertFailsWithOneLine(_ arguments: [String], mentioning text: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try pcemu(arguments)
        XCTAssertEqual(result.status, 1, file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "stderr: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("pcemu: "), result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(text), "'\(result.stderr)' lacks '\(text)'", file: file, line: line)
    }

    func testDisplaySDLWithoutAnXServerIsAOneLineError() throws {
        // Empty, since the child's environment is this process's with these merged in.
        let environment = ["DISPLAY": "", "WAYLAND_DISPLAY": "", "SDL_VIDEODRIVER": ""]
        let result = try ChildProcess.run(BuildProducts.pcemu, ["-display", "sdl"], timeout: 30, environment: environment)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "pcemu: -display: no display to open ($DISPLAY is not set)\n")
    }

    func testHelpListsTheOptionsAndExitsZero() throws {
        for spelling in ["-help", "--help", "-h"] {
            let result = try pcemu([spelling])
            XCTAssertEqual(result.status, 0)
            XCTAssertTrue(result.stdout.hasPrefix("usage: pcemu"), result.stdout)
            for option in ["-m SIZE", "-kernel", "-drive", "-nic", "-audiodev", "-display", "-serial", "-accel"] {
                XCTAssertTrue(result.stdout.contains(option), "help lacks \(option)")
            }
            XCTAssertEqual(result.stderr, "")
        }
    }

    func testVersionAndLogHelp() throws {
        let version = try pcemu(["-version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.hasPrefix("PCEmu version "))
        let logHelp = try pcemu(["-d", "help"])
        XCTAssertEqual(logHelp.status, 0)
        XCTAssertTrue(logHelp.stdout.contains("in_asm"))
        let cpuHelp = try pcemu(["-cpu", "help"])
        XCTAssertEqual(cpuHelp.status, 0)
        for model in ["qemu64", "qemu32", "max", "pentium3", "pentium2", "pentium", "486"] {
            XCTAssertTrue(cpuHelp.stdout.contains("\n  \(model) "), "-cpu help lacks \(model)")
        }
        XCTAssertTrue(cpuHelp.stdout.contains(" cmov* "), "implemented features are marked")
    }

    func testBadOptionsGiveOneLineAndStatusOne() throws {
        try assertFailsWithOneLine(["-bogus"], mentioning: "-bogus: unknown option")
        try assertFailsWithOneLine(["-m", "lots"], mentioning: "-m: invalid size 'lots'")
        try assertFailsWithOneLine(["-m"], mentioning: "-m: requires a value")
        try assertFailsWithOneLine(["-smp", "4"], mentioning: "-smp: PCEmu emulates one CPU")
        try assertFailsWithOneLine(["-d", "nonsense"], mentioning: "unknown log category")
        try assertFailsWithOneLine(["-display", "gtk"], mentioning: "unknown display")
        try assertFailsWithOneLine(["-cpu", "core2duo"], mentioning: "-cpu: unknown CPU model 'core2duo'")
        try assertFailsWithOneLine(["-cpu", "qemu32,+warp"], mentioning: "-cpu: unknown CPU feature 'warp'")
        try assertFailsWithOneLine(["-cpu", "host"], mentioning: "needs KVM")
    }

    func testMissingFilesAreNamed() throws {
        try assertFailsWithOneLine(["-kernel", "/nonexistent/vmlinuz"], mentioning: "-kernel: /nonexistent/vmlinuz: No such file")
        try assertFailsWithOneLine(["-hda", "/nonexistent/disk.img"], mentioning: "-hda: /nonexistent/disk.img: No such file")
        try assertFailsWithOneLine(["-bios", "/nonexistent/bios.bin"], mentioning: "-bios: /nonexistent/bios.bin")
    }

    func testAFileThatIsNoKernelIsNamed() throws {
        let directory = try makeTemporaryDirectory("pcemu-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let notAKernel = directory.appendingPathComponent("vmlinuz")
        try Data(repeating: 0x90, count: 8192).write(to: notAKernel)
        try assertFailsWithOneLine(["-kernel", notAKernel.path], mentioning: "-kernel: \(notAKernel.path): not a Linux bzImage")
        let short = directory.appendingPathComponent("short")
        try Data([0x4D, 0x5A]).write(to: short)
        try assertFailsWithOneLine(["-kernel", short.path], mentioning: "too small for a Linux kernel")
    }

    func testAnImageIsNeverTouchedByARefusedRun() throws {
        let directory = try makeTemporaryDirectory("pcemu-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("disk.img")
        let contents = Data((0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try contents.write(to: image)
        let before = try FileManager.default.attributesOfItem(atPath: image.path)[.modificationDate] as? Date
        try assertFailsWithOneLine(["-hda", image.path, "-m", "0"], mentioning: "-m: invalid size")
        try assertFailsWithOneLine(["-drive", "file=\(image.path),format=qcow2"], mentioning: "corrupt qcow2 image")
        XCTAssertEqual(try Data(contentsOf: image), contents)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: image.path)[.modificationDate] as? Date, before)
    }

    func testPartsNotBuiltAreRefusedByName() throws {
        try assertFailsWithOneLine(["-device", "sb16,irq=3", "-audiodev", "none,id=a0"], mentioning: "-device: irq=3 is not one of 5, 7, 9, 10")
        try assertFailsWithOneLine(["-device", "sb16,audiodev=b0", "-audiodev", "none,id=a0"], mentioning: "no -audiodev with id=b0")
        try assertFailsWithOneLine(["-device", "sb16,audiodev=a0", "-audiodev", "wav,id=a0,path=/tmp/x.wav,sever=x"],
                                   mentioning: "wav has no property 'sever'")
        try assertFailsWithOneLine(["-device", "sb16,audiodev=a0", "-audiodev", "pa,id=a0,server=unix:/nonexistent/socket"],
                                   mentioning: "cannot connect to PulseAudio")
        try assertFailsWithOneLine(["-nic", "user,model=virtio-net-pci"], mentioning: "unknown NIC model 'virtio-net-pci'")
        try assertFailsWithOneLine(["-device", "ne2k_pci,netdev=n9"], mentioning: "no -netdev with id=n9")
        try assertFailsWithOneLine(["-device", "virtio-net"], mentioning: "unknown device 'virtio-net'")
    }
}

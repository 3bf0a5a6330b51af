import Foundation
import TestSupport
import XCTest

/// The default guest's Linux (bochs-drm) reads the standard VGA's EDID from
/// BAR2: the connector's edid file holds the block, its modes list starts with
/// the preferred mode, and fbcon takes that mode. And -vga none: a machine with
/// no display adapter still boots on its serial console.
final class EDIDGuestTests: XCTestCase {
    /// Boots the default guest on the serial console with these options and loads bochs-drm.
    func bootAndLoadBochs(_ extra: [String]) throws -> ChildProcess {
        let guest = try DefaultGuest.paths()
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet", "-nographic",
        ] + extra, inputPipe: true)
        guard pcemu.waitForOutput(LinuxGuestTests.prompt, timeout: 300) else {
            pcemu.stop()
            XCTFail("no shell prompt:\n\(pcemu.standardOutput.suffix(3000))\n\(pcemu.standardError.suffix(1000))")
            throw TestSetupError("the guest did not boot")
        }
        return pcemu
    }

    // Commands stay short (with the prompt and runInShell's marker, under 80
    // columns): the sysfs directories are in shell variables.

    /// The connector's EDID as the guest's sysfs gives it (empty when there is none).
    func guestEDID(_ pcemu: ChildProcess) throws -> [UInt8] {
        XCTAssertNotNil(runInShell("C=/sys/class/drm/card0-Virtual-1", in: pcemu))
        let hex = try XCTUnwrap(runInShell("od -An -tx1 -v $C/edid", in: pcemu))
        return hex.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt8($0, radix: 16) }
    }

    func firstModes(_ pcemu: ChildProcess) throws -> [String] {
        XCTAssertNotNil(runInShell("C=/sys/class/drm/card0-Virtual-1", in: pcemu))
        return try XCTUnwrap(runInShell("head -3 $C/modes", in: pcemu)).split(separator: "\n").map(String.init)
    }

    func framebufferSize(_ pcemu: ChildProcess) -> String? {
        XCTAssertNotNil(runInShell("F=/sys/class/graphics/fb0", in: pcemu))
        let size = runInShell("cat $F/virtual_size", in: pcemu)
        if size == nil { print(pcemu.standardOutput.suffix(1500)) }
        return size
    }

    /// Checks a block read from the guest: header, checksum, name, preferred
    /// mode; and Debian's edid-decode (installed by scripts/setup.sh) finds it conformant.
    func checkBlock(_ block: [UInt8], width: Int, height: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(block.count, 128, "one base block", file: file, line: line)
        guard block.count == 128 else { return }
        XCTAssertEqual(Array(block[0..<8]), [0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0], file: file, line: line)
        XCTAssertEqual(block.reduce(0, &+), 0, "checksum", file: file, line: line)
        XCTAssertEqual(Int(block[56]) | Int(block[58] >> 4) << 8, width, "preferred width", file: file, line: line)
        XCTAssertEqual(Int(block[59]) | Int(block[61] >> 4) << 8, height, "preferred height", file: file, line: line)
        XCTAssertTrue(String(decoding: block, as: UTF8.self).contains("PCEmu Monitor"), file: file, line: line)
        let tool = "/usr/bin/edid-decode"
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            return XCTFail("edid-decode is not installed (scripts/setup.sh installs it)", file: file, line: line)
        }
        let directory = try makeTemporaryDirectory("pcemu-edid")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("edid.bin").path
        try Data(block).write(to: URL(fileURLWithPath: path))
        let result = try ChildProcess.run(tool, ["--check", path])
        XCTAssertEqual(result.status, 0, result.stdout, file: file, line: line)
        XCTAssertTrue(result.stdout.contains("EDID conformity: PASS"), result.stdout, file: file, line: line)
    }

    func testBochsDRMReadsTheDefault1280x800EDID() throws {
        let pcemu = try bootAndLoadBochs([])
        defer { pcemu.stop() }
        XCTAssertNotNil(runInShell("modprobe bochs", in: pcemu))
        XCTAssertEqual(try firstModes(pcemu).first, "1280x800", "the preferred mode comes first")
        try checkBlock(try guestEDID(pcemu), width: 1280, height: 800)
        XCTAssertEqual(framebufferSize(pcemu), "1280,800", "fbcon takes it")
        XCTAssertEqual(runInShell("dmesg | grep -c 'Found EDID'", in: pcemu), "1")
        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0)
    }

    func testDeviceVGAXresYresBecomeThePreferredMode() throws {
        let pcemu = try bootAndLoadBochs(["-vga", "none", "-device", "VGA,xres=1024,yres=768"])
        defer { pcemu.stop() }
        XCTAssertNotNil(runInShell("modprobe bochs", in: pcemu))
        XCTAssertEqual(try firstModes(pcemu).first, "1024x768")
        try checkBlock(try guestEDID(pcemu), width: 1024, height: 768)
        XCTAssertEqual(framebufferSize(pcemu), "1024,768")
    }

    func testEDIDOffLeavesBochsDRMToItsOwnModes() throws {
        let pcemu = try bootAndLoadBochs(["-device", "VGA,edid=off"])
        defer { pcemu.stop() }
        XCTAssertNotNil(runInShell("modprobe bochs", in: pcemu))
        XCTAssertEqual(try guestEDID(pcemu), [], "no EDID")
        XCTAssertEqual(framebufferSize(pcemu), "1024,768", "bochs-drm's fallback")
    }

    func testVGANoneBootsWithoutADisplayAdapter() throws {
        let pcemu = try bootAndLoadBochs(["-vga", "none"])
        defer { pcemu.stop() }
        let functions = try XCTUnwrap(runInShell("ls /sys/bus/pci/devices", in: pcemu))
        XCTAssertTrue(functions.contains("0000:00:01.0"), functions)
        XCTAssertFalse(functions.contains("0000:00:02.0"), "slot 2 is empty: \(functions)")
        _ = runInShell("modprobe bochs", in: pcemu)
        XCTAssertEqual(runInShell("ls /sys/class/drm | grep -c card", in: pcemu), "0", "bochs-drm finds nothing: \(pcemu.standardOutput.suffix(800))")
        XCTAssertEqual(runInShell("echo $((6 * 7))", in: pcemu), "42")
        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0)
    }
}

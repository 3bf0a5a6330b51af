import Foundation
import TestSupport
import XCTest

/// Guests that come ready-made in Debian's packages (installed by
/// scripts/setup.sh), each booted on the whole machine through SeaBIOS, with
/// what it must show on its screen: GRUB's rescue floppy and CD
/// (grub-rescue-pc), iPXE (ipxe) taking a DHCP lease from user networking,
/// memtest86+'s 32-bit build (memtest86+) testing memory without errors, and
/// syslinux's MEMDISK (syslinux-common) booting a floppy image from RAM.
final class DebianPackageGuestTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-debian-guest")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A file a package installs; a missing one means scripts/setup.sh was not run.
    func packaged(_ path: String, _ package: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TestSetupError("\(path) is missing: install \(package) (scripts/setup.sh does)")
        }
        return path
    }

    func text(_ lines: [String]) -> String { lines.joined(separator: "\n") }

    /// Waits for `texts` on a screen booted by isolinux. The modifiers of the
    /// screenshot key (Ctrl+Alt+S) reach the guest, and isolinux opens its
    /// "boot:" prompt when it sees one held: Return there boots the default.
    func waitPastIsolinux(_ guest: WindowedGuest, for texts: [String], timeout: TimeInterval) throws -> (lines: [String], found: Bool) {
        try guest.waitForScreen(timeout: timeout) { lines in
            if texts.allSatisfy({ text in lines.contains { $0.contains(text) } }) { return true }
            if lines.contains(where: { $0.hasPrefix("boot:") }) { try? guest.key("Return") }
            return false
        }
    }

    /// GRUB's menu, then its command line, where it computes and prints.
    func checkGRUB(_ guest: WindowedGuest, file: StaticString = #filePath, line: UInt = #line) throws {
        let menu = try waitPastIsolinux(guest, for: ["GNU GRUB  version 2.06", "Memtest86+", "Change the colors"], timeout: 90)
        XCTAssertTrue(menu.found, "GRUB's menu:\n\(text(menu.lines))", file: file, line: line)
        try guest.key("c")
        let prompt = try guest.waitForText(["grub>"], timeout: 30)
        XCTAssertTrue(prompt.found, "GRUB's command line:\n\(text(prompt.lines))", file: file, line: line)
        // The typed line shows "$v"; only GRUB's own output has the value.
        try guest.typeLine("set v=from-grub; echo said-$v")
        let echoed = try guest.waitForText(["said-from-grub"], timeout: 30)
        XCTAssertTrue(echoed.found, "GRUB's echo:\n\(text(echoed.lines))", file: file, line: line)
    }

    func testGRUBRescueFloppyShowsItsMenuAndCommandLine() throws {
        // 1,296,384 bytes: a floppy shorter than 1.44 MB.
        let floppy = try packaged("/usr/lib/grub-rescue/grub-rescue-floppy.img", "grub-rescue-pc")
        let guest = try WindowedGuest(["-m", "64", "-nic", "none", "-snapshot", "-fda", floppy, "-boot", "a"], directory: directory)
        defer { guest.stop() }
        try checkGRUB(guest)
    }

    func testGRUBRescueCDShowsItsMenuAndCommandLine() throws {
        let cd = try packaged("/usr/lib/grub-rescue/grub-rescue-cdrom.iso", "grub-rescue-pc")
        let guest = try WindowedGuest(["-m", "64", "-nic", "none", "-cdrom", cd, "-boot", "d"], directory: directory)
        defer { guest.stop() }
        try checkGRUB(guest)
    }

    /// ipxe.iso (isolinux loading ipxe.lkrn): the banner, Ctrl-B to the
    /// command line, and `dhcp` on the NE2000 gets slirp's lease, 10.0.2.15.
    func testIPXEFromItsCDGetsADHCPLease() throws {
        let cd = try packaged("/usr/lib/ipxe/ipxe.iso", "ipxe")
        let guest = try WindowedGuest(["-m", "64", "-nic", "user,model=ne2k_pci", "-cdrom", cd, "-boot", "d"], directory: directory)
        defer { guest.stop() }
        let banner = try waitPastIsolinux(guest, for: ["iPXE initialising devices"], timeout: 60)
        XCTAssertTrue(banner.found, "iPXE starting:\n\(text(banner.lines))")
        // iPXE offers Ctrl-B for two seconds once it has gathered entropy
        // from the RTC; keys wait in the BIOS's buffer until it reads them.
        let prompt = try guest.waitForScreen(timeout: 90) { lines in
            if lines.contains(where: { $0.hasPrefix("iPXE>") }) { return true }
            try? guest.key("ctrl+b")
            return false
        }
        XCTAssertTrue(prompt.found, "iPXE's command line:\n\(text(prompt.lines))")
        XCTAssertTrue(prompt.lines.contains { $0.hasPrefix("iPXE 1.0.0+") && $0.contains("Open Source Network Boot Firmware") },
                      text(prompt.lines))
        try guest.typeLine("dhcp")
        let lease = try guest.waitForScreen(timeout: 90) { lines in
            lines.contains { $0.hasPrefix("Configuring (net0 52:54:00:12:34:56)") && $0.hasSuffix(" ok") }
        }
        XCTAssertTrue(lease.found, "iPXE's DHCP:\n\(text(lease.lines))")
        try guest.typeLine("show net0/ip")
        let address = try guest.waitForText(["net0.dhcp/ip:ipv4 = 10.0.2.15"], timeout: 30)
        XCTAssertTrue(address.found, "the lease's address:\n\(text(address.lines))")
    }

    /// ipxe.lkrn as a kernel (its code32_start is 0: the loader must put it at
    /// 1 MiB all the same), on the e1000, running its command line.
    func testIPXEAsAKernelRunsItsCommandLineOnTheE1000() throws {
        let kernel = try packaged("/usr/lib/ipxe/ipxe.lkrn", "ipxe")
        let guest = try WindowedGuest(["-m", "64", "-nic", "user,model=e1000", "-kernel", kernel,
                                       "-append", "dhcp && show net0/ip"], directory: directory)
        defer { guest.stop() }
        let address = try guest.waitForText(["net0.dhcp/ip:ipv4 = 10.0.2.15"], timeout: 120)
        XCTAssertTrue(address.found, "iPXE on the e1000:\n\(text(address.lines))")
    }

    /// memtest86+'s 32-bit build from its package's CD: tests 0 to 9 (every
    /// memory test of a pass) run over the 16 MiB with no error. Test 10, the
    /// bit-fade test, only waits 2 x 80 s for decay, so the run ends when it starts.
    func testMemtest86PlusIA32CDFindsNoErrors() throws {
        let cd = try packaged("/usr/lib/memtest86+/memtest86+ia32.iso", "memtest86+")
        let guest = try WindowedGuest(["-m", "16", "-nic", "none", "-cdrom", cd, "-boot", "d"], directory: directory)
        defer { guest.stop() }
        try checkMemtest { timeout, condition in try guest.waitForScreen(timeout: timeout, condition) }
    }

    /// The same binary as a bzImage (the way the package's GRUB entry loads
    /// memtest86+ia32.bin with linux16), with its screen also on COM1.
    func testMemtest86PlusIA32AsAKernelFindsNoErrors() throws {
        try checkMemtestKernel("/boot/memtest86+ia32.bin", options: [], build: "[LM]")
    }

    /// The 64-bit build (x64: its own long-mode page tables) on the default CPU.
    func testMemtest86PlusX64AsAKernelFindsNoErrors() throws {
        try checkMemtestKernel("/boot/memtest86+x64.bin", options: [], build: ".x64")
    }

    /// Runs a memtest86+ bzImage with its screen on COM1 until test 10, then checks the screen.
    /// `build`: text on the screen that names the build (ia32's PAE paging, x64's version suffix).
    func checkMemtestKernel(_ path: String, options: [String], build: String,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let kernel = try packaged(path, "memtest86+")
        let screendump = directory.appendingPathComponent("screen.ppm").path
        let machine = try ChildProcess(BuildProducts.pcemu, options + [
            "-m", "16", "-nic", "none", "-display", "none", "-serial", "stdio", "-screendump", screendump,
            "-kernel", kernel, "-append", "console=ttyS0,115200",
        ], inputPipe: true)
        defer { machine.stop() }
        // The serial console repeats the screen: test 10's title comes when tests 0-9 are done.
        XCTAssertTrue(machine.waitForOutput("#10 [Bit fade test", timeout: 180), String(machine.standardOutput.suffix(1500)),
                      file: file, line: line)
        machine.send("\u{01}x")
        XCTAssertEqual(machine.wait(timeout: 30), 0, file: file, line: line)
        let shot = try Screenshot(ppm: screendump)
        let lines = shot.text(cellWidth: 9, font: try VGAFont())
        try checkMemtest(build: build, file: file, line: line) { _, condition in (lines, condition(lines)) }
    }

    /// `build`: what the screen shows of the build and CPU: "[LM]" for the
    /// ia32 build on a CPU with long mode (the default qemu64), "[PAE]" on one
    /// without, ".x64" for the 64-bit build.
    func checkMemtest(build: String = "[LM]", file: StaticString = #filePath, line: UInt = #line,
                      _ waitForScreen: (TimeInterval, ([String]) -> Bool) throws -> (lines: [String], found: Bool)) throws {
        let running = try waitForScreen(180) { lines in lines.contains { $0.contains("Test #10 [Bit fade test") } }
        XCTAssertTrue(running.found, "memtest86+ reaching test 10:\n\(text(running.lines))", file: file, line: line)
        let lines = running.lines
        XCTAssertTrue(lines.contains { $0.contains("Memtest86+ v6.10") }, text(lines), file: file, line: line)
        XCTAssertTrue(lines.contains { $0.hasPrefix("Memory  :   16MB") }, text(lines), file: file, line: line)
        XCTAssertTrue(lines.contains { $0.contains(build) }, "the build (\(build)): \(text(lines))", file: file, line: line)
        let status = lines.first { $0.contains("Errors:") } ?? ""
        XCTAssertTrue(status.hasSuffix("Errors: 0"), "no memory errors: \(text(lines))", file: file, line: line)
    }

    /// MEMDISK as QEMU users start it, through -kernel (the firmware's Linux
    /// loader runs its real-mode start) with the floppy image as -initrd.
    func testMEMDISKAsAKernelBootsTheGRUBFloppyImage() throws {
        let memdisk = try packaged("/usr/lib/syslinux/memdisk", "syslinux-common")
        let floppy = try packaged("/usr/lib/grub-rescue/grub-rescue-floppy.img", "grub-rescue-pc")
        let guest = try WindowedGuest(["-m", "64", "-nic", "none", "-kernel", memdisk, "-initrd", floppy], directory: directory)
        defer { guest.stop() }
        try checkGRUB(guest)
    }

    /// MEMDISK (syslinux-common) loaded by isolinux from a CD, with GRUB's
    /// rescue floppy as its disk image: MEMDISK hooks INT 13h and boots the
    /// image as drive A:, and GRUB comes up from it.
    func testMEMDISKBootsTheGRUBFloppyImage() throws {
        let memdisk = try packaged("/usr/lib/syslinux/memdisk", "syslinux-common")
        let floppy = try packaged("/usr/lib/grub-rescue/grub-rescue-floppy.img", "grub-rescue-pc")
        let isolinux = try packaged("/usr/lib/ISOLINUX/isolinux.bin", "isolinux")
        let ldlinux = try packaged("/usr/lib/syslinux/modules/bios/ldlinux.c32", "syslinux-common")
        let tree = directory.appendingPathComponent("cd")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        for (source, name) in [(memdisk, "memdisk"), (floppy, "grub.img"), (isolinux, "isolinux.bin"), (ldlinux, "ldlinux.c32")] {
            try FileManager.default.copyItem(atPath: source, toPath: tree.appendingPathComponent(name).path)
        }
        try "default grub\nlabel grub\n  kernel /memdisk\n  initrd /grub.img\n  append floppy\n"
            .write(to: tree.appendingPathComponent("isolinux.cfg"), atomically: true, encoding: .utf8)
        let iso = directory.appendingPathComponent("memdisk.iso").path
        let made = try ChildProcess.run("/usr/bin/xorriso", [
            "-as", "mkisofs", "-quiet", "-o", iso, "-b", "isolinux.bin", "-c", "boot.cat",
            "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", tree.path,
        ])
        XCTAssertEqual(made.status, 0, made.stderr)
        let guest = try WindowedGuest(["-m", "64", "-nic", "none", "-cdrom", iso, "-boot", "d"], directory: directory)
        defer { guest.stop() }
        try checkGRUB(guest)
    }
}

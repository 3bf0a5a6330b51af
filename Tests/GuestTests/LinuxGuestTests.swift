import Foundation
import TestSupport
import XCTest

/// Whole-machine tests: the real pcemu boots the default guest on its serial
/// console, and the test types commands the way a user would.
final class LinuxGuestTests: XCTestCase {
    static let prompt = "pcemu:/root# "

    /// Starts pcemu on the default guest and waits for the shell.
    func bootDefaultGuest(_ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> ChildProcess {
        let guest = try DefaultGuest.paths()
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet", "-nographic",
        ] + extra, inputPipe: true)
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
        XCTAssertEqual(guestOutput, try hostProgramOutput("cpu-exerciser"))

        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0, "poweroff ends pcemu with status 0")
    }

    /// -kernel boots through SeaBIOS, whose MADT and HPET table put Linux on
    /// the local APIC timer, the I/O APIC and the TSC.
    func testKernelBootRunsOnTheLocalAPICTimerTheIOAPICAndTheTSC() throws {
        let pcemu = try bootDefaultGuest()
        defer { pcemu.stop() }
        XCTAssertEqual(runInShell("cat /sys/dev*/sys*/clockev*/*0/current_dev*", in: pcemu), "lapic")
        XCTAssertEqual(runInShell("cat /sys/dev*/sys*/clocks*/*0/current_cl*", in: pcemu), "tsc")
        let ioAPICLines = try XCTUnwrap(runInShell("grep -c IO-APIC /proc/interrupts", in: pcemu))
        XCTAssertGreaterThan(Int(ioAPICLines) ?? 0, 3, "the timer, serial port, keyboard and SCI at least")
        XCTAssertEqual(runInShell("grep -c XT-PIC /proc/interrupts", in: pcemu), "0")
        XCTAssertEqual(runInShell("dmesg | grep -c 'ACPI: HPET id: 0x8086a201'", in: pcemu), "1")
        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0)
    }

    /// -kernel with a disk: the firmware set up the IDE function as for any
    /// boot, so Linux's ata_piix drives it; the partition's bytes read back.
    func testKernelBootFindsTheIDEDiskAndReadsItsData() throws {
        let directory = try makeTemporaryDirectory("pcemu-kernel-disk")
        defer { try? FileManager.default.removeItem(at: directory) }
        // 2 MiB: an MBR with one Linux partition from sector 2048 to the end, filled with numbered bytes.
        let sectors = 4096, start = 2048
        var disk = [UInt8](repeating: 0, count: sectors * 512)
        let entry: [UInt8] = [0x00, 0xFE, 0xFF, 0xFF, 0x83, 0xFE, 0xFF, 0xFF]
            + (0..<4).map { UInt8(truncatingIfNeeded: start >> (8 * $0)) }
            + (0..<4).map { UInt8(truncatingIfNeeded: (sectors - start) >> (8 * $0)) }
        disk.replaceSubrange(0x1BE..<0x1CE, with: entry)
        disk[0x1FE] = 0x55
        disk[0x1FF] = 0xAA
        var seed: UInt32 = 12345
        for index in (start * 512)..<disk.count {
            seed = seed &* 1_103_515_245 &+ 12345
            disk[index] = UInt8(truncatingIfNeeded: seed >> 16)
        }
        let marker = Array("pcemu kernel-boot disk".utf8)
        disk.replaceSubrange((start * 512)..<(start * 512 + marker.count), with: marker)
        let image = directory.appendingPathComponent("disk.img")
        try Data(disk).write(to: image)
        let partition = directory.appendingPathComponent("partition.bin")
        try Data(disk[(start * 512)...]).write(to: partition)
        let expectedSum = try XCTUnwrap(try ChildProcess.run("/usr/bin/md5sum", [partition.path]).stdout.split(separator: " ").first)

        let pcemu = try bootDefaultGuest(["-hda", image.path])
        defer { pcemu.stop() }
        // Short commands: the shell wraps lines past 80 columns.
        XCTAssertEqual(runInShell("modprobe ata_piix", in: pcemu), "")
        XCTAssertEqual(runInShell("modprobe sd_mod", in: pcemu), "")
        var devices: String?
        for _ in 0..<20 {  // the SCSI layer may still be scanning
            devices = runInShell("echo /dev/sda*", in: pcemu)
            if devices == "/dev/sda /dev/sda1" { break }
            usleep(250_000)
        }
        XCTAssertEqual(devices, "/dev/sda /dev/sda1", "\(pcemu.standardOutput.suffix(2000))")
        XCTAssertEqual(runInShell("head -c \(marker.count) /dev/sda1; echo", in: pcemu), String(decoding: marker, as: UTF8.self))
        XCTAssertEqual(runInShell("md5sum < /dev/sda1", in: pcemu)?.split(separator: " ").first, expectedSum)
        XCTAssertEqual(runInShell("dmesg | grep -c \"can't enable device\"", in: pcemu), "0")
        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0)
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

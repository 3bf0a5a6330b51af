import Foundation
import TestSupport
import XCTest

/// Whole machines with disks: SeaBIOS booting the disk and the CD built by
/// scripts/build-disk-image.sh, a Debian guest whose root is on the IDE disk
/// (raw and a qcow2 overlay) keeping a file across power cycles, the CD-ROM
/// read in the guest, and sequential disk speed measured beside QEMU.
final class DiskGuestTests: XCTestCase {
    static let diskPrompt = "pcemu-disk:/root# "
    static let cdPrompt = "pcemu-cd:/root# "
    static let rootOnDisk = "console=ttyS0 root=/dev/sda2 quiet"

    var directory: URL!
    var media: (disk: String, cdrom: String, kernel: String, initrd: String)!

    override func setUpWithError() throws {
        let cache = DefaultGuest.repository.appendingPathComponent("guest-cache/disk")
        let script = DefaultGuest.repository.appendingPathComponent("scripts/build-disk-image.sh").path
        let result = try ChildProcess.run("/bin/bash", [script], timeout: 600, environment: ["DISK_IMAGE_DIR": cache.path])
        guard result.status == 0 else { throw TestSetupError("build-disk-image.sh failed: \(result.stderr.suffix(500))") }
        media = (cache.appendingPathComponent("disk.img").path, cache.appendingPathComponent("cdrom.iso").path,
                 cache.appendingPathComponent("vmlinuz").path, cache.appendingPathComponent("initrd.gz").path)
        directory = try makeTemporaryDirectory("pcemu-disk-guest")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A private copy of the built disk, for tests that write.
    func diskCopy(_ name: String = "disk.img") throws -> String {
        let path = directory.appendingPathComponent(name).path
        try FileManager.default.copyItem(atPath: media.disk, toPath: path)
        return path
    }

    // MARK: Driving a guest

    func start(_ arguments: [String], executable: String = BuildProducts.pcemu, prompt: String,
               file: StaticString = #filePath, line: UInt = #line) throws -> ChildProcess {
        let guest = try ChildProcess(executable, ["-m", "256", "-nographic"] + arguments, inputPipe: true)
        guard guest.waitForOutput(prompt, timeout: 300) else {
            XCTFail("no prompt; the console said:\n\(guest.standardOutput.suffix(3000))\n\(guest.standardError.suffix(1000))",
                    file: file, line: line)
            guest.stop()
            throw TestSetupError("the guest did not boot")
        }
        return guest
    }

    /// Types a command and returns what it printed before the next prompt.
    /// The shell wraps long command lines at 80 columns, so the echoed
    /// command is found in its lines joined, and the end marker the shell
    /// prints is computed by it (`$((N+1))`), so it never matches the echo.
    func run(_ command: String, in guest: ChildProcess, timeout: TimeInterval = 120) -> String? {
        let number = UInt32.random(in: 1000...1_000_000)
        let typedTail = "\(number)+1))_"
        let marker = "_M\(number + 1)_"
        let before = guest.standardOutput.count
        guest.send("\(command); echo _M$((\(number)+1))_\n")
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            let output = String(guest.standardOutput.dropFirst(before)).replacingOccurrences(of: "\r", with: "")
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            if let end = lines.lastIndex(where: { $0 == marker }) {
                var joined = ""
                for index in 0..<end {
                    joined += lines[index]
                    if joined.contains(typedTail) { return lines[(index + 1)..<end].joined(separator: "\n") }
                }
            }
            usleep(100_000)
        }
        return nil
    }

    func powerOff(_ guest: ChildProcess, file: StaticString = #filePath, line: UInt = #line) {
        guest.send("sync; poweroff -f\n")
        XCTAssertEqual(guest.wait(timeout: 60), 0, "power-off ends the emulator", file: file, line: line)
        guest.stop()
    }

    func bootFromDisk(_ drive: [String]) throws -> ChildProcess {
        try start(["-kernel", media.kernel, "-initrd", media.initrd, "-append", DiskGuestTests.rootOnDisk] + drive,
                  prompt: DiskGuestTests.diskPrompt)
    }

    // MARK: Tests

    /// SeaBIOS reads the MBR and syslinux from the IDE disk (ATA PIO through
    /// INT 13h) and isolinux from the CD (El Torito through ATAPI); each
    /// loader prints its banner, loads the kernel and initramfs, and Linux
    /// comes up to its shell on the serial console. With -snapshot the disk
    /// file is not written.
    func testSeaBIOSBootsTheDiskAndTheCDToAShell() throws {
        let before = try Data(contentsOf: URL(fileURLWithPath: media.disk))
        for (arguments, banner, prompt) in [(["-hda", media.disk, "-snapshot"], "SYSLINUX 6.04", Self.diskPrompt),
                                            (["-cdrom", media.cdrom, "-boot", "d"], "ISOLINUX 6.04", Self.cdPrompt)] {
            let machine = try ChildProcess(BuildProducts.pcemu, ["-m", "256", "-nographic"] + arguments, inputPipe: true)
            defer { machine.stop() }
            XCTAssertTrue(machine.waitForOutput(banner, timeout: 120),
                          "\(arguments): \(machine.standardOutput.suffix(2000)) \(machine.standardError.suffix(500))")
            XCTAssertTrue(machine.waitForOutput(prompt, timeout: 300),
                          "\(arguments): \(machine.standardOutput.suffix(2000)) \(machine.standardError.suffix(500))")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: media.disk)), before)
    }

    /// Booted through SeaBIOS, which builds its own ACPI tables (there is no
    /// etc/table-loader in fw_cfg): its MADT and HPET table name the local
    /// APIC, the I/O APIC with IRQ 0 on pin 2, and the HPET, and Linux runs
    /// on them: the local APIC timer as its clock event device, the TSC as
    /// its clocksource (watched against the HPET), ISA and ACPI interrupts
    /// through the I/O APIC.
    func testLinuxRunsOnTheLocalAPICTimerTheIOAPICAndTheTSC() throws {
        let guest = try start(["-hda", media.disk, "-snapshot"], prompt: Self.diskPrompt)
        defer { guest.stop() }
        let dmesg = try XCTUnwrap(run("dmesg | grep -E 'ACPI: (APIC|HPET|LAPIC)|IOAPIC\\[0\\]|unstable'", in: guest))
        XCTAssertTrue(dmesg.contains("ACPI: APIC "), dmesg)
        XCTAssertTrue(dmesg.contains("ACPI: LAPIC_NMI"), dmesg)
        XCTAssertTrue(dmesg.contains("IOAPIC[0]: apic_id 0, version 17, address 0xfec00000, GSI 0-23"), dmesg)
        XCTAssertTrue(dmesg.contains("ACPI: HPET id: 0x8086a201 base: 0xfed00000"), dmesg)
        XCTAssertFalse(dmesg.contains("unstable"), dmesg)
        XCTAssertEqual(run("cat /sys/devices/system/clockevents/clockevent0/current_device", in: guest), "lapic")
        XCTAssertEqual(run("cat /sys/devices/system/clocksource/clocksource0/current_clocksource", in: guest), "tsc")
        let interrupts = try XCTUnwrap(run("cat /proc/interrupts", in: guest))
        for line in ["IO-APIC   2-edge      timer", "IO-APIC   4-edge      ttyS0", "IO-APIC   9-fasteoi   acpi",
                     "IO-APIC  14-edge      ata_piix"] {
            XCTAssertTrue(interrupts.contains(line), "\(line) in\n\(interrupts)")
        }
        XCTAssertFalse(interrupts.contains("XT-PIC"), interrupts)
        // The local timer keeps ticking: its count grows over a second of sleep.
        func localTimerCount() -> Int? {
            run("grep LOC: /proc/interrupts", in: guest)?.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        let before = try XCTUnwrap(localTimerCount())
        _ = run("sleep 1", in: guest)
        let after = try XCTUnwrap(localTimerCount())
        XCTAssertGreaterThan(after - before, 100, "Debian's kernel ticks at 250 Hz")
        powerOff(guest)
    }

    func testAFileWrittenOnTheDiskSurvivesAPowerCycle() throws {
        let disk = try diskCopy()
        let first = try bootFromDisk(["-hda", disk])
        XCTAssertEqual(run("awk '$2 == \"/\" {print $1}' /proc/mounts", in: first), "/dev/sda2")
        XCTAssertEqual(run("cat /sys/class/ata_device/dev1.0/xfer_mode", in: first), "XFER_MW_DMA_2", "Linux uses DMA")
        _ = run("echo kept-across-boots > /root/note.txt", in: first)
        powerOff(first)

        let second = try bootFromDisk(["-drive", "file=\(disk),format=raw,if=ide,index=0"])
        XCTAssertEqual(run("cat /root/note.txt", in: second), "kept-across-boots")
        powerOff(second)

        // With -snapshot the guest writes, reads its write back, and the file stays as it was.
        let before = try Data(contentsOf: URL(fileURLWithPath: disk))
        let third = try bootFromDisk(["-hda", disk, "-snapshot"])
        XCTAssertEqual(run("echo only-in-the-overlay > /root/note.txt; sync; cat /root/note.txt", in: third), "only-in-the-overlay")
        powerOff(third)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: disk)), before, "-snapshot leaves the image alone")
    }

    func testAQcow2OverlayTakesTheWritesAndPassesQemuImgCheck() throws {
        let base = try diskCopy("base.img")
        let baseBefore = try Data(contentsOf: URL(fileURLWithPath: base))
        let overlay = directory.appendingPathComponent("overlay.qcow2").path
        let create = try ChildProcess.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", overlay])
        XCTAssertEqual(create.status, 0, create.stderr)
        let drive = ["-drive", "file=\(overlay),format=qcow2,if=ide,index=0"]

        let first = try bootFromDisk(drive)
        _ = run("dd if=/dev/urandom of=/root/blob bs=64k count=64 2>/dev/null; md5sum /root/blob > /root/blob.md5", in: first)
        let sum = run("cat /root/blob.md5", in: first)
        powerOff(first)

        let check = try ChildProcess.run("/usr/bin/qemu-img", ["check", overlay])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("No errors were found"), check.stdout)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: base)), baseBefore, "the backing file is never written")

        let second = try bootFromDisk(drive)
        XCTAssertEqual(run("md5sum /root/blob", in: second), sum)
        powerOff(second)
        XCTAssertEqual(try ChildProcess.run("/usr/bin/qemu-img", ["check", overlay]).status, 0)
    }

    func testTheGuestReadsTheCDROM() throws {
        let guest = try start(["-kernel", media.kernel, "-initrd", media.initrd, "-append", "console=ttyS0 quiet",
                               "-cdrom", media.cdrom], prompt: DiskGuestTests.cdPrompt)
        XCTAssertEqual(run("cut -c1-14 /cdrom/README.TXT", in: guest), "PCEmu CD image")
        XCTAssertEqual(run("md5sum /cdrom/vmlinuz | cut -c1-32", in: guest), try md5(of: media.kernel))
        powerOff(guest)
    }

    func md5(of path: String) throws -> String? {
        let result = try ChildProcess.run("/usr/bin/md5sum", [path])
        return result.stdout.split(separator: " ").first.map(String.init)
    }

    /// Sequential write (32 MiB into a file, then sync) and read (64 MiB
    /// from the raw disk, caches dropped) in the guest with busybox dd, timed
    /// by the guest's /proc/uptime, on PCEmu and on qemu-system-i386 with the
    /// same command line; the figures are printed for comparison.
    func testSequentialThroughputBesideQEMU() throws {
        var figures: [String] = []
        for (name, executable) in [("pcemu", BuildProducts.pcemu), ("qemu-system-i386", "/usr/bin/qemu-system-i386")] {
            let disk = try diskCopy("\(name).img")
            let guest = try start(["-kernel", media.kernel, "-initrd", media.initrd, "-append", DiskGuestTests.rootOnDisk,
                                   "-drive", "file=\(disk),format=raw,if=ide,index=0"],
                                  executable: executable, prompt: DiskGuestTests.diskPrompt)
            _ = run("t() { cut -d' ' -f1 /proc/uptime; }", in: guest)
            let write = run("t; dd if=/dev/zero of=big bs=1M count=32 2>/dev/null; sync; t", in: guest, timeout: 300)
            _ = run("echo 3 > /proc/sys/vm/drop_caches", in: guest)
            let read = run("t; dd if=/dev/sda of=/dev/null bs=1M count=64 2>/dev/null; t", in: guest, timeout: 300)
            powerOff(guest)
            func rate(_ times: String?, megabytes: Double) -> Double? {
                let values = (times ?? "").split(separator: "\n").compactMap { Double($0) }
                guard values.count == 2, values[1] > values[0] else { return nil }
                return megabytes / (values[1] - values[0])
            }
            let writeRate = try XCTUnwrap(rate(write, megabytes: 32), "\(name) write: \(write ?? "nothing")")
            let readRate = try XCTUnwrap(rate(read, megabytes: 64), "\(name) read: \(read ?? "nothing")")
            figures.append(String(format: "%@ write %.1f MB/s, read %.1f MB/s", name, writeRate, readRate))
        }
        print("disk throughput (busybox dd in the guest): " + figures.joined(separator: "; "))
    }
}

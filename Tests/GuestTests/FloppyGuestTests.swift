import Foundation
import TestSupport
import XCTest

/// Whole machines with a 1.44 MB floppy: SeaBIOS booting a boot sector that
/// reads a sector from the other side through INT 13h, and Linux's floppy
/// driver reading and writing the image through the controller and DMA.
final class FloppyGuestTests: XCTestCase {
    static let floppyBytes = 1_474_560
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-floppy-guest")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Reads cylinder 0, head 1, sector 3 (block 20) to 0x8000 with INT 13h
    /// from the boot drive, and prints the string there on COM1.
    static let bootSector = """
        bits 16
        org 0x7C00
            xor ax, ax
            mov ds, ax
            mov es, ax
            mov bx, 0x8000
            mov ax, 0x0201
            mov cx, 0x0003
            mov dh, 1
            int 0x13
            mov si, 0x8000
            jnc print
            mov si, failed
        print:
            lodsb
            test al, al
            jz halt
            mov dx, 0x3F8
            out dx, al
            jmp print
        halt:
            cli
            hlt
            jmp halt
        failed: db "INT 13h failed", 0
            times 510 - ($ - $$) db 0
            dw 0xAA55
        """

    func testSeaBIOSBootsFromTheFloppy() throws {
        let source = directory.appendingPathComponent("boot.asm").path
        let sector = directory.appendingPathComponent("boot.bin").path
        try FloppyGuestTests.bootSector.write(toFile: source, atomically: true, encoding: .utf8)
        let assembled = try ChildProcess.run("/usr/bin/nasm", ["-f", "bin", "-o", sector, source])
        XCTAssertEqual(assembled.status, 0, assembled.stderr)
        // 1.44 MB, 720 KiB (SeaBIOS finds its data rate by trying READ ID) and 2.88 MB.
        for (bytes, sectorsPerTrack) in [(FloppyGuestTests.floppyBytes, 18), (737_280, 9), (2_949_120, 36)] {
            var image = Data(count: bytes)
            image.replaceSubrange(0..<512, with: try Data(contentsOf: URL(fileURLWithPath: sector)))
            let message = Data("loaded-from-side-1 of \(bytes)\n\0".utf8)
            let block = sectorsPerTrack + 2
            image.replaceSubrange(block * 512..<block * 512 + message.count, with: message)
            let path = directory.appendingPathComponent("boot-\(bytes).img").path
            try image.write(to: URL(fileURLWithPath: path))

            let machine = try ChildProcess(BuildProducts.pcemu, ["-m", "64", "-nographic", "-fda", path, "-boot", "a"],
                                           inputPipe: true)
            defer { machine.stop() }
            XCTAssertTrue(machine.waitForOutput("loaded-from-side-1 of \(bytes)", timeout: 120),
                          "\(machine.standardOutput.suffix(2000)) \(machine.standardError.suffix(500))")
            XCTAssertTrue(machine.standardOutput.contains("Booting from Floppy"), String(machine.standardOutput.suffix(2000)))
        }
    }

    func testLinuxReadsAndWritesTheFloppy() throws {
        let path = directory.appendingPathComponent("data.img").path
        var bytes = [UInt8](repeating: 0, count: FloppyGuestTests.floppyBytes)
        var state: UInt32 = 12345
        for index in bytes.indices {
            state = state &* 1_103_515_245 &+ 12345
            bytes[index] = UInt8(truncatingIfNeeded: state >> 16)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let paths = try DefaultGuest.paths()
        let machine = try ChildProcess(BuildProducts.pcemu, ["-m", "256", "-nographic", "-kernel", paths.kernel, "-initrd", paths.initrd,
                                                             "-append", "console=ttyS0 quiet", "-fda", path], inputPipe: true)
        defer { machine.stop() }
        XCTAssertTrue(machine.waitForOutput("pcemu:/root# ", timeout: 300), String(machine.standardOutput.suffix(2000)))

        machine.send("modprobe floppy\n")
        machine.send("md5sum /dev/fd0 | sed 's/^/RE''AD=/'\n")
        let hostSum = try ChildProcess.run("/usr/bin/md5sum", [path]).stdout.prefix(32)
        XCTAssertTrue(machine.waitForOutput("READ=\(hostSum)", timeout: 120), String(machine.standardOutput.suffix(2000)))

        // 40 sectors from block 100 on: across tracks and sides.
        // Short lines: the shell redraws longer ones.
        machine.send("dd if=/dev/urandom of=b bs=512 count=40\n")
        machine.send("dd if=b of=/dev/fd0 bs=512 seek=100; sync\n")
        machine.send("md5sum b | sed 's/^/WRO''TE=/'\n")
        // The echoed command line spells the marker with quotes; only the output has it whole.
        var written = ""
        let deadline = Date(timeIntervalSinceNow: 120)
        while written.count < 32 && Date() < deadline {
            usleep(100_000)
            let output = machine.standardOutput
            if let marker = output.range(of: "WROTE=") {
                written = String(output[marker.upperBound...].prefix(while: \.isHexDigit))
            }
        }
        XCTAssertEqual(written.count, 32, String(machine.standardOutput.suffix(2000)))
        machine.send("poweroff -f\n")
        XCTAssertEqual(machine.wait(timeout: 60), 0)
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        let region = directory.appendingPathComponent("region.bin").path
        try after[100 * 512..<140 * 512].write(to: URL(fileURLWithPath: region))
        XCTAssertEqual(String(try ChildProcess.run("/usr/bin/md5sum", [region]).stdout.prefix(32)), written)
        XCTAssertEqual(after[0..<100 * 512], Data(bytes[0..<100 * 512]), "the rest is untouched")
    }

    /// A read-only A: refuses writes; B: under -snapshot takes them in the
    /// overlay, reads them back, and leaves its file alone.
    func testReadOnlyAndSnapshotFloppiesLeaveTheirFilesAlone() throws {
        var files: [String] = []
        for name in ["a.img", "b.img"] {
            let path = directory.appendingPathComponent(name).path
            try Data(repeating: name == "a.img" ? 0x5A : 0xA5, count: FloppyGuestTests.floppyBytes).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let paths = try DefaultGuest.paths()
        let machine = try ChildProcess(BuildProducts.pcemu, ["-m", "256", "-nographic", "-kernel", paths.kernel, "-initrd", paths.initrd,
                                                             "-append", "console=ttyS0 quiet", "-snapshot",
                                                             "-drive", "file=\(files[0]),format=raw,if=floppy,readonly=on",
                                                             "-fdb", files[1]], inputPipe: true)
        defer { machine.stop() }
        XCTAssertTrue(machine.waitForOutput("pcemu:/root# ", timeout: 300), String(machine.standardOutput.suffix(2000)))
        machine.send("modprobe floppy\n")
        machine.send("dd if=/dev/zero of=/dev/fd0 count=1 && echo A''OK || echo A''REFUSED\n")
        XCTAssertTrue(machine.waitForOutput("AREFUSED", timeout: 120), String(machine.standardOutput.suffix(2000)))
        machine.send("dd if=/dev/zero of=/dev/fd1 count=1 && sync\n")
        machine.send("echo 3 > /proc/sys/vm/drop_caches\n")
        machine.send("dd if=/dev/fd1 count=1 2>/dev/null | md5sum | sed 's/^/B''SUM=/'\n")
        // The md5 of 512 zero bytes.
        XCTAssertTrue(machine.waitForOutput("BSUM=bf619eac0cdf3f68d496ea9344137e8b", timeout: 120),
                      String(machine.standardOutput.suffix(2000)))
        machine.send("poweroff -f\n")
        XCTAssertEqual(machine.wait(timeout: 60), 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: files[0])), Data(repeating: 0x5A, count: FloppyGuestTests.floppyBytes))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: files[1])), Data(repeating: 0xA5, count: FloppyGuestTests.floppyBytes))
    }
}

import Foundation
import TestSupport
import XCTest

/// Floppies changed and ejected while Linux runs, through the monitor's
/// `change`/`eject` and QMP's blockdev-change-medium/eject: Linux's floppy
/// driver sees the disk-change line, reads the new disk (a 720 KB one too,
/// in the 1.44 MB drive), writes to a writable one, is refused by a
/// read-only one, and finds no disk after an eject.
final class FloppyChangeGuestTests: XCTestCase {
    private typealias Answer = [String: Any]
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-floppy-change")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// An image of `bytes` pseudo-random bytes from `seed`, and its md5.
    func makeImage(_ name: String, bytes count: Int, seed: UInt32) throws -> (path: String, md5: String) {
        var bytes = [UInt8](repeating: 0, count: count)
        var state = seed
        for index in bytes.indices {
            state = state &* 1_103_515_245 &+ 12345
            bytes[index] = UInt8(truncatingIfNeeded: state >> 16)
        }
        let path = directory.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, try md5(path))
    }

    func md5(_ path: String) throws -> String { String(try ChildProcess.run("/usr/bin/md5sum", [path]).stdout.prefix(32)) }

    /// What the guest reads from the whole of /dev/fd0: its md5, or the error.
    func guestRead(_ pcemu: ChildProcess) -> String {
        let output = runInShell("md5sum /dev/fd0 2>&1", in: pcemu) ?? "(no answer)"
        // The md5 alone, or the whole output (the error, and any kernel messages).
        return output.split(separator: "\n").last { $0.hasSuffix("  /dev/fd0") }.map { String($0.prefix(32)) } ?? output
    }

    /// The same after a change: Linux 6.1 fails the first read after the
    /// disk-change line went up (it does so under QEMU 7.2 too), and reads
    /// the new disk from then on.
    func guestReadAfterChange(_ pcemu: ChildProcess) -> String {
        _ = guestRead(pcemu)
        return guestRead(pcemu)
    }

    func testChangeAndEjectFloppiesWhileLinuxRuns() throws {
        let first = try makeImage("first.img", bytes: 1_474_560, seed: 1)
        let second = try makeImage("second.img", bytes: 1_474_560, seed: 2)
        let small = try makeImage("small.img", bytes: 737_280, seed: 3)
        let huge = try makeImage("huge.img", bytes: 3_000_000, seed: 4)
        let qmpPath = directory.appendingPathComponent("qmp.sock").path
        let guest = try MonitoredGuest(directory: directory, arguments: ["-nic", "none", "-fda", first.path, "-qmp", "unix:\(qmpPath),server,nowait"])
        let pcemu = guest.pcemu, monitor = guest.monitor
        defer { pcemu.stop() }
        let qmp = QMPTestClient(socketPath: qmpPath)
        XCTAssertNotNil(runInShell("modprobe floppy", in: pcemu))
        XCTAssertEqual(guestRead(pcemu), first.md5)

        // The monitor's change: the guest reads the other disk.
        XCTAssertEqual(monitor.command("change floppy0 \(second.path) raw"), "")
        XCTAssertEqual(guestReadAfterChange(pcemu), second.md5, String(pcemu.standardOutput.suffix(1000)))
        // An image no 1.44 MB drive reads is refused, and the disk stays.
        let refused = try XCTUnwrap(monitor.command("change floppy0 \(huge.path)"))
        XCTAssertTrue(refused.contains("a 1.44 MB drive cannot take an image of 3000000 bytes"), refused)
        XCTAssertTrue(try XCTUnwrap(monitor.command("info block")).contains("floppy0: \(second.path) (raw)"))
        XCTAssertEqual(guestRead(pcemu), second.md5)

        // QMP's blockdev-change-medium: a 720 KB disk, which the guest reads and writes.
        var answer = try qmp.run([
            ["execute": "blockdev-change-medium", "arguments": ["device": "floppy0", "filename": small.path, "format": "raw"]],
            ["execute": "query-block"],
        ])
        XCTAssertEqual(QMPTestClient.result(answer, 0)["return"] as? NSDictionary, [:])
        let drives = try XCTUnwrap(QMPTestClient.result(answer, 1)["return"] as? [Answer])
        let floppy = try XCTUnwrap(drives.first { $0["device"] as? String == "floppy0" }?["inserted"] as? Answer)
        XCTAssertEqual(floppy["file"] as? String, small.path)
        XCTAssertEqual(floppy["ro"] as? Bool, false)
        XCTAssertEqual(guestReadAfterChange(pcemu), small.md5)
        XCTAssertNotNil(runInShell("printf NEWDATA > s; dd if=s of=/dev/fd0 seek=10 2>/dev/null; sync", in: pcemu))
        let written = try Data(contentsOf: URL(fileURLWithPath: small.path))
        XCTAssertEqual(String(decoding: written[5120..<5127], as: UTF8.self), "NEWDATA")

        // Read-only: the guest's write is refused and the file stays as it was.
        answer = try qmp.run([["execute": "blockdev-change-medium",
                               "arguments": ["device": "floppy0", "filename": first.path, "read-only-mode": "read-only"]]])
        XCTAssertEqual(QMPTestClient.result(answer, 0)["return"] as? NSDictionary, [:])
        XCTAssertEqual(guestReadAfterChange(pcemu), first.md5)
        // Short: the shell wraps lines at 80 columns.
        let write = runInShell("dd if=s of=/dev/fd0 2>/dev/null||echo W''NO", in: pcemu)
        XCTAssertEqual(write, "WNO", String(pcemu.standardOutput.suffix(3000)))
        XCTAssertEqual(try md5(first.path), first.md5)

        // Ejected through QMP, then through the monitor: no disk to read.
        answer = try qmp.run([["execute": "eject", "arguments": ["device": "floppy0"]], ["execute": "query-block"]])
        XCTAssertEqual(QMPTestClient.result(answer, 0)["return"] as? NSDictionary, [:])
        let ejected = try XCTUnwrap(QMPTestClient.result(answer, 1)["return"] as? [Answer])
        XCTAssertNil(ejected.first { $0["device"] as? String == "floppy0" }?["inserted"])
        let empty = guestReadAfterChange(pcemu)
        XCTAssertTrue(empty.contains("md5sum: can't open '/dev/fd0': No such device"), empty)
        XCTAssertEqual(monitor.command("change floppy0 \(second.path)"), "")
        XCTAssertEqual(guestReadAfterChange(pcemu), second.md5)
        XCTAssertEqual(monitor.command("eject floppy0"), "")
        XCTAssertTrue(try XCTUnwrap(monitor.command("info block")).contains("floppy0: [not inserted]"))
        let gone = guestReadAfterChange(pcemu)
        XCTAssertTrue(gone.contains("md5sum: can't open '/dev/fd0': No such device"), gone)
    }
}

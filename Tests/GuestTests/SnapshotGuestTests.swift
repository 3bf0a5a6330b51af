import Foundation
import Glibc
import TestSupport
import XCTest

/// savevm/loadvm/delvm and migrate with a real guest, as a user drives them
/// from the monitor: a shell loop computing a checksum is saved mid-run and
/// comes back, in the same process and in new ones (-loadvm, -incoming), to
/// print the result an uninterrupted run prints; the disk and the screen go
/// back with it, and qemu-img agrees with the image afterwards.
final class SnapshotGuestTests: XCTestCase {
    typealias MonitorClient = MonitorGuestTests.MonitorClient

    static let iterations = 200_000
    /// The loop, on one line: a checksum over `iterations` steps of shell arithmetic.
    static let loop = "s=0;i=0;while [ $i -lt \(iterations) ];do s=$(((s*31+i)%1000003));i=$((i+1));done;echo SUM=$s"

    static var expectedSum: Int {
        var sum = 0
        for step in 0..<iterations { sum = (sum * 31 + step) % 1_000_003 }
        return sum
    }

    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-snapshots")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    @discardableResult
    func qemuImg(_ arguments: [String]) throws -> String {
        let result = try ChildProcess.run("/usr/bin/qemu-img", arguments)
        XCTAssertEqual(result.status, 0, "qemu-img \(arguments.joined(separator: " ")): \(result.stdout) \(result.stderr)")
        return result.stdout + result.stderr
    }

    func startGuest(_ extra: [String], memory: String = "256", network: [String] = ["-nic", "none"]) throws -> ChildProcess {
        let guest = try DefaultGuest.paths()
        return try ChildProcess(BuildProducts.pcemu, [
            "-m", memory, "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet", "-nographic",
            "-hda", path("disk.qcow2"),
        ] + network + extra, inputPipe: true)
    }

    /// The checksums the guest printed so far.
    func sums(_ guest: ChildProcess) -> [String] {
        guest.standardOutput.components(separatedBy: "SUM=").dropFirst().compactMap { part in
            let digits = part.prefix { $0.isNumber }
            return digits.isEmpty ? nil : String(digits)
        }
    }

    func waitForSums(_ guest: ChildProcess, count: Int, timeout: TimeInterval = 240) -> [String] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while sums(guest).count < count && Date() < deadline && guest.isRunning { usleep(200_000) }
        return sums(guest)
    }

    /// The disk's first six bytes as the guest reads them from the drive, not its page cache.
    func diskStart(_ guest: ChildProcess) -> String? {
        _ = runInShell("echo 3 > /proc/sys/vm/drop_caches", in: guest)
        return runInShell("head -c6 /dev/sda; echo", in: guest)
    }

    func testSavedMidRunTheGuestComesBackInThisProcessAndInNewOnes() throws {
        try qemuImg(["create", "-q", "-f", "qcow2", path("disk.qcow2"), "64M"])
        let expected = String(SnapshotGuestTests.expectedSum)
        let socket = path("monitor.sock")
        let guest = try startGuest(["-monitor", "unix:\(socket),server,nowait"])
        defer { guest.stop() }
        XCTAssertTrue(guest.waitForOutput(LinuxGuestTests.prompt, timeout: 300), "no shell prompt:\n\(guest.standardOutput.suffix(2000))")
        let monitor = try MonitorClient(path: socket)
        _ = monitor.readToPrompt()
        XCTAssertEqual(monitor.command("info snapshots"), "There is no snapshot available.\n")
        // Short lines: the shell wraps a line at 80 columns, and the marker search needs it whole.
        XCTAssertNotNil(runInShell("modprobe ata_piix; sleep 2", in: guest))
        XCTAssertNotNil(runInShell("printf BEFORE > /dev/sda; sync", in: guest))

        // Saved a second into the loop, which then runs to its end.
        guest.send(SnapshotGuestTests.loop + "\n")
        sleep(1)
        XCTAssertEqual(monitor.command("savevm mid"), "")
        XCTAssertEqual(waitForSums(guest, count: 1), [expected], "the uninterrupted run")
        let list = try XCTUnwrap(monitor.command("info snapshots"))
        XCTAssertTrue(list.contains("--        mid "), list)
        _ = runInShell("printf AFTER_ > /dev/sda; sync", in: guest)

        // Back to the middle of the loop: it prints its result again, and the disk is as it was.
        XCTAssertEqual(monitor.command("loadvm mid"), "")
        XCTAssertEqual(waitForSums(guest, count: 2), [expected, expected], "the run restored mid-way")
        XCTAssertEqual(diskStart(guest), "BEFORE")
        XCTAssertTrue(try XCTUnwrap(monitor.command("loadvm nothing")).hasPrefix("Error: "))

        // The screen: what a stopped guest showed comes back with the snapshot.
        XCTAssertEqual(monitor.command("stop"), "")
        XCTAssertEqual(monitor.command("screendump \(path("saved.ppm"))"), "")
        XCTAssertEqual(monitor.command("savevm screen"), "")
        XCTAssertEqual(monitor.command("cont"), "")
        XCTAssertNotNil(runInShell("echo CHANGED > /dev/tty0; sleep 1", in: guest))
        XCTAssertEqual(monitor.command("stop"), "")
        XCTAssertEqual(monitor.command("screendump \(path("changed.ppm"))"), "")
        XCTAssertEqual(monitor.command("loadvm screen"), "")
        XCTAssertEqual(monitor.command("screendump \(path("loaded.ppm"))"), "")
        let saved = try Data(contentsOf: URL(fileURLWithPath: path("saved.ppm")))
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: path("changed.ppm"))), saved, "the guest did not draw")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("loaded.ppm"))), saved)
        XCTAssertEqual(monitor.command("info status"), "VM status: paused\n", "loadvm keeps a stopped guest stopped")
        XCTAssertEqual(monitor.command("delvm screen"), "")
        XCTAssertEqual(monitor.command("cont"), "")

        // migrate: to a file and through a command, mid-run again; the guest stops.
        XCTAssertNotNil(runInShell("printf MIGRAT > /dev/sda; sync", in: guest))
        guest.send(SnapshotGuestTests.loop + "\n")
        sleep(1)
        XCTAssertEqual(monitor.command("migrate file:\(path("state.bin"))"), "")
        XCTAssertEqual(monitor.command("info status"), "VM status: paused\n")
        XCTAssertEqual(monitor.command("migrate -d \"exec:cat > \(path("state-exec.bin"))\""), "")
        XCTAssertNil(monitor.command("quit"))
        XCTAssertEqual(guest.wait(timeout: 30), 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("state-exec.bin"))),
                       try Data(contentsOf: URL(fileURLWithPath: path("state.bin"))))

        let listing = try qemuImg(["snapshot", "-l", path("disk.qcow2")])
        XCTAssertTrue(listing.contains(" mid ") && !listing.contains(" screen "), listing)
        try qemuImg(["check", path("disk.qcow2")])

        // New processes: -incoming from the file and from a command (a
        // migration keeps the disk as it is), then -loadvm (which reverts it).
        for start in [["-incoming", "file:\(path("state.bin"))"], ["-incoming", "exec:cat \(path("state-exec.bin"))"], ["-loadvm", "mid"]] {
            let restored = try startGuest(start)
            defer { restored.stop() }
            XCTAssertEqual(waitForSums(restored, count: 1), [expected], "\(start): \(restored.standardOutput.suffix(500))")
            XCTAssertEqual(diskStart(restored), start[0] == "-loadvm" ? "BEFORE" : "MIGRAT", "\(start)")
            restored.send("poweroff -f\n")
            XCTAssertEqual(restored.wait(timeout: 60), 0)
        }
        try qemuImg(["check", path("disk.qcow2")])
    }

    /// The network carries on: a TCP connection from the host through
    /// hostfwd to the guest's NE2000, open across savevm and loadvm, still
    /// delivers what the host sends after the load.
    func testATCPConnectionThroughHostForwardSurvivesSavevmAndLoadvm() throws {
        try qemuImg(["create", "-q", "-f", "qcow2", path("disk.qcow2"), "64M"])
        let socket = path("monitor.sock")
        let port = try TestSockets.freeLoopbackPort()
        let guest = try startGuest(["-monitor", "unix:\(socket),server,nowait"],
                                   network: ["-nic", "user,model=ne2k_pci,hostfwd=tcp:127.0.0.1:\(port)-:8080"])
        defer { guest.stop() }
        XCTAssertTrue(guest.waitForOutput(LinuxGuestTests.prompt, timeout: 300), "no shell prompt:\n\(guest.standardOutput.suffix(2000))")
        let monitor = try MonitorClient(path: socket)
        _ = monitor.readToPrompt()
        XCTAssertNotNil(runInShell("modprobe ne2k-pci", in: guest))
        XCTAssertNotNil(runInShell("ifconfig eth0 10.0.2.15 up", in: guest))
        guest.send("nc -l -p 8080 > /tmp/received; echo NC-ENDED\n")
        sleep(2)
        let connection = try XCTUnwrap(TestSockets.connectLoopback(port: port), "nothing listens on 127.0.0.1:\(port)")
        defer { close(connection) }
        func send(_ text: String) { _ = Array(text.utf8).withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, 0) } }
        send("before the snapshot\n")
        sleep(1)
        XCTAssertEqual(monitor.command("savevm net"), "")
        XCTAssertEqual(monitor.command("loadvm net"), "")
        send("after the load\n")
        sleep(1)
        shutdown(connection, Int32(SHUT_WR))
        XCTAssertTrue(guest.waitForOutput("\nNC-ENDED", timeout: 60), String(guest.standardOutput.suffix(1000)))
        XCTAssertEqual(runInShell("cat /tmp/received", in: guest), "before the snapshot\nafter the load")
    }

    /// A snapshot or a state saved by another configuration is refused with
    /// a clear error before anything changes; so is a damaged state.
    func testOtherConfigurationsAndDamagedStatesAreRefused() throws {
        try qemuImg(["create", "-q", "-f", "qcow2", path("disk.qcow2"), "64M"])
        let socket = path("monitor.sock")
        let guest = try startGuest(["-monitor", "unix:\(socket),server,nowait", "-S"])
        defer { guest.stop() }
        let monitor = try MonitorClient(path: socket)
        _ = monitor.readToPrompt()
        XCTAssertEqual(monitor.command("savevm first"), "")
        XCTAssertEqual(monitor.command("migrate file:\(path("state.bin"))"), "")
        XCTAssertNil(monitor.command("quit"))
        XCTAssertEqual(guest.wait(timeout: 30), 0)
        let image = try Data(contentsOf: URL(fileURLWithPath: path("disk.qcow2")))

        var damaged = try Data(contentsOf: URL(fileURLWithPath: path("state.bin")))
        damaged[damaged.count / 2] ^= 0xFF
        try damaged.write(to: URL(fileURLWithPath: path("damaged.bin")))
        let cases: [([String], String, String)] = [
            (["-loadvm", "first"], "512", "MiB of RAM"),
            (["-incoming", "file:\(path("state.bin"))"], "512", "MiB of RAM"),
            (["-incoming", "file:\(path("damaged.bin"))"], "256", "damaged"),
            (["-incoming", "file:\(path("missing.bin"))"], "256", "missing.bin"),
            (["-loadvm", "nothing"], "256", "no snapshot"),
            (["-incoming", "tcp:127.0.0.1:4444"], "256", "file:PATH or exec:COMMAND"),
        ]
        for (options, memory, message) in cases {
            let refused = try startGuest(options, memory: memory)
            XCTAssertEqual(refused.wait(timeout: 60), 1, "\(options)")
            XCTAssertTrue(refused.standardError.contains(message), "\(options): \(refused.standardError)")
            XCTAssertEqual(refused.standardError.split(separator: "\n").count, 1, refused.standardError)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("disk.qcow2"))), image, "a refused load changed the disk")

        // A raw disk cannot hold a snapshot: savevm says which drive.
        FileManager.default.createFile(atPath: path("raw.img"), contents: Data(count: 1 << 20))
        let rawGuest = try ChildProcess(BuildProducts.pcemu, [
            "-m", "32", "-nic", "none", "-nographic", "-S", "-hda", path("raw.img"), "-monitor", "unix:\(socket)2,server,nowait",
        ], inputPipe: true)
        defer { rawGuest.stop() }
        let rawMonitor = try MonitorClient(path: socket + "2")
        _ = rawMonitor.readToPrompt()
        let answer = try XCTUnwrap(rawMonitor.command("savevm x"))
        XCTAssertTrue(answer.contains("ide0-hd0") && answer.contains("raw"), answer)
    }
}

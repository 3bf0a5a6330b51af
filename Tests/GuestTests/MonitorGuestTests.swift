import Foundation
import Glibc
import TestSupport
import XCTest

/// The human monitor on a Unix socket, driven as a user's script drives
/// QEMU's: connect, wait for the "(qemu) " prompt, type commands.
final class MonitorGuestTests: XCTestCase {
    /// One monitor connection: sends a line, returns what came before the next prompt.
    final class MonitorClient {
        let descriptor: Int32

        init(path: String, timeout: TimeInterval = 30) throws {
            descriptor = try TestSockets.waitForConnection(timeout: timeout, to: "the monitor's \(path)") {
                TestSockets.connectUnix(path: path)
            }
        }

        deinit { close(descriptor) }

        /// Everything up to the next prompt (without it); nil if the connection ended first.
        func readToPrompt() -> String? {
            var received = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !received.suffix(7).elementsEqual("(qemu) ".utf8) {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { return nil }
                received += buffer[0..<count]
            }
            return String(decoding: received.dropLast(7), as: UTF8.self)
        }

        func command(_ line: String) -> String? {
            _ = Array((line + "\n").utf8).withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            return readToPrompt()
        }
    }

    /// `-S`: the firmware does not start until the monitor's `cont`; `log`
    /// turns -d items on and off while it runs.
    func testStartStoppedWaitsForContAndLogFollowsTheMonitor() throws {
        let directory = try makeTemporaryDirectory("pcemu-monitor-S")
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("monitor.sock").path
        let logPath = directory.appendingPathComponent("pcemu.log").path
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "32", "-nic", "none", "-nographic", "-S", "-D", logPath, "-monitor", "unix:\(socketPath),server,nowait",
        ], inputPipe: true)
        defer { pcemu.stop() }
        let monitor = try MonitorClient(path: socketPath)
        _ = monitor.readToPrompt()
        XCTAssertEqual(monitor.command("info status"), "VM status: paused (prelaunch)\n")
        XCTAssertEqual(monitor.command("info network"), "")
        sleep(2)
        XCTAssertFalse(pcemu.standardOutput.contains("SeaBIOS"), "the firmware ran before cont")
        XCTAssertTrue(try XCTUnwrap(monitor.command("info registers")).contains("EIP=0000fff0"), "still at the reset vector")
        XCTAssertEqual(monitor.command("log bogus"), "log: unknown log category 'bogus' (try -d help)\n")
        XCTAssertEqual(monitor.command("log int"), "")
        XCTAssertEqual(monitor.command("cont"), "")
        XCTAssertTrue(pcemu.waitForOutput("SeaBIOS", timeout: 60))
        XCTAssertEqual(monitor.command("log none"), "")
        let logged = try String(contentsOfFile: logPath, encoding: .utf8)
        XCTAssertTrue(logged.contains("external interrupt vector"), "interrupts logged after 'log int': \(logged.prefix(300))")
        XCTAssertNil(monitor.command("quit"))
        XCTAssertEqual(pcemu.wait(timeout: 30), 0)
    }

    /// `change` and `eject` on a CD drive, and the guest reading each disc.
    func testChangeAndEjectReachTheGuestsCDDrive() throws {
        let directory = try makeTemporaryDirectory("pcemu-monitor-cd")
        defer { try? FileManager.default.removeItem(at: directory) }
        var discs: [String] = []
        for name in ["PCEMU-DISC1", "PCEMU-DISC2"] {
            let path = directory.appendingPathComponent("\(name).img").path
            var bytes = Array(name.utf8)
            bytes += [UInt8](repeating: 0, count: 2048 * 16 - bytes.count)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            discs.append(path)
        }
        let guest = try MonitoredGuest(directory: directory, arguments: ["-drive", "if=ide,index=2,media=cdrom", "-nic", "user,model=e1000"])
        let pcemu = guest.pcemu, monitor = guest.monitor
        defer { pcemu.stop() }
        XCTAssertEqual(monitor.command("info block"), "ide1-cd0: [not inserted]\n    Removable device: not locked, tray closed\n"
                       + "floppy0: [not inserted]\n    Removable device: not locked, tray closed\n"
                       + "floppy1: [not inserted]\n    Removable device: not locked, tray closed\n")
        XCTAssertEqual(monitor.command("info network"), "e1000.0: index=0,type=nic,model=e1000,macaddr=52:54:00:12:34:56\n"
                       + " \\ user.0: index=0,type=user,net=10.0.2.0\n")
        _ = runInShell("modprobe ata_piix; modprobe sr_mod; sleep 3", in: pcemu)
        let read = "head -c11 /dev/sr0 2>&1;echo"
        for disc in discs {
            XCTAssertEqual(monitor.command("change ide1-cd0 \(disc)"), "")
            let block = try XCTUnwrap(monitor.command("info block"))
            XCTAssertTrue(block.hasPrefix("ide1-cd0: \(disc) (raw, read-only)"), block)
            // The first open after a change sees UNIT ATTENTION; the disc is read on the next.
            _ = runInShell(read, in: pcemu)
            XCTAssertEqual(runInShell(read, in: pcemu), URL(fileURLWithPath: disc).deletingPathExtension().lastPathComponent)
        }
        XCTAssertEqual(monitor.command("eject ide1-cd0"), "")
        XCTAssertTrue(try XCTUnwrap(monitor.command("info block")).hasPrefix("ide1-cd0: [not inserted]"))
        let empty = try XCTUnwrap(runInShell("head -c1 /dev/sr0 2>&1", in: pcemu))
        XCTAssertTrue(empty.contains("No medium found"), empty)
        XCTAssertTrue(try XCTUnwrap(monitor.command("change ide1-cd0 /nonexistent.iso")).contains("No such file"))
        XCTAssertTrue(try XCTUnwrap(monitor.command("change ide0-hd0 \(discs[0])")).contains("no such drive"))
        // A floppy drive empty at power-on takes a short image as the 1.44 MB disk holding it.
        XCTAssertEqual(monitor.command("change floppy0 \(discs[0]) raw"), "")
        XCTAssertTrue(try XCTUnwrap(monitor.command("info block")).contains("floppy0: \(discs[0]) (raw)"))
    }

    func testMonitorStopsAndContinuesReadsMemoryAndRegistersSendsKeysAndQuits() throws {
        let directory = try makeTemporaryDirectory("pcemu-monitor")
        defer { try? FileManager.default.removeItem(at: directory) }
        let guest = try MonitoredGuest(directory: directory, arguments: [])
        let pcemu = guest.pcemu, monitor = guest.monitor
        defer { pcemu.stop() }
        let banner = try XCTUnwrap(guest.greeting)
        XCTAssertTrue(banner.contains("monitor - type 'help' for more information"), banner)
        XCTAssertEqual(monitor.command("info status"), "VM status: running\n")

        // A guest that prints every 100 ms prints nothing while stopped.
        pcemu.send("while true; do echo tick; sleep 0.1; done\n")
        XCTAssertTrue(pcemu.waitForOutput("tick\r\ntick", timeout: 60))
        XCTAssertEqual(monitor.command("stop"), "")
        XCTAssertEqual(monitor.command("info status"), "VM status: paused\n")
        usleep(300_000)
        let stoppedAt = pcemu.standardOutput.count
        sleep(1)
        XCTAssertEqual(pcemu.standardOutput.count, stoppedAt, "the guest ran while stopped")
        let registers = try XCTUnwrap(monitor.command("info registers"))
        XCTAssertTrue(registers.hasPrefix("EAX="), registers)
        XCTAssertTrue(registers.contains("CR0=8"), "paging is on: \(registers)")
        XCTAssertEqual(monitor.command("cont"), "")
        let continuedAt = pcemu.standardOutput.count
        XCTAssertTrue(pcemu.waitForOutput("tick", timeout: 30))
        sleep(1)
        XCTAssertGreaterThan(pcemu.standardOutput.count, continuedAt, "the guest runs again")
        pcemu.send("\u{03}")  // Ctrl-C ends the loop

        // xp reads the BIOS's last 16 bytes where the ROM ends, at 4 GiB.
        let bios = try Data(contentsOf: URL(fileURLWithPath: "/usr/share/seabios/bios-256k.bin"))
        let expected = bios[(bios.count - 16)..<(bios.count - 8)].map { "0x" + String(format: "%02x", $0) }.joined(separator: " ")
        XCTAssertEqual(monitor.command("xp /8xb 0xfffffff0"), "00000000fffffff0: \(expected)\n")
        XCTAssertEqual(monitor.command("xp /2xw 0xfffffff8"),
                       "00000000fffffff8: " + stride(from: bios.count - 8, to: bios.count, by: 4).map { offset in
                           "0x" + String(format: "%08x", bios.subdata(in: offset..<offset + 4).withUnsafeBytes { $0.load(as: UInt32.self) })
                       }.joined(separator: " ") + "\n")
        // x walks the guest's page tables: Linux maps physical memory at 0xC0000000.
        let physical = try XCTUnwrap(monitor.command("xp /4xw 0x1000000"))
        XCTAssertEqual(monitor.command("x /4xw 0xc1000000"), "c1000000:" + physical.drop { $0 != ":" }.dropFirst())
        XCTAssertEqual(monitor.command("x /1xw 0x10"), "Cannot access memory at 0x00000010\n", "page 0 is not mapped")
        let pci = try XCTUnwrap(monitor.command("info pci"))
        XCTAssertTrue(pci.contains("  Bus  0, device   0, function 0:\n    Host bridge: PCI device 8086:1237"), pci)
        XCTAssertTrue(pci.contains("IDE controller: PCI device 8086:7010"), pci)
        let tree = try XCTUnwrap(monitor.command("info mtree"))
        XCTAssertTrue(tree.contains("00000000fee00000-00000000fee00fff (prio 0, i/o): local-apic"), tree)
        XCTAssertTrue(tree.contains("00000000fffc0000-00000000ffffffff (prio 0, rom): bios"), tree)
        XCTAssertEqual(monitor.command("frobnicate"), "unknown command: 'frobnicate'\n")
        XCTAssertEqual(monitor.command("sendkey ctrl-alt-nokey"), "invalid parameter value: nokey\n")

        // The screen as the user sees it, and Ctrl+Alt+Delete reaching busybox init.
        let dump = directory.appendingPathComponent("screen.ppm").path
        XCTAssertEqual(monitor.command("screendump \(dump)"), "")
        XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: dump)).starts(with: Array("P6\n".utf8)))
        XCTAssertEqual(monitor.command("sendkey ctrl-alt-delete"), "")
        XCTAssertTrue(pcemu.waitForOutput("reboot: Restarting system", timeout: 60), "\(pcemu.standardOutput.suffix(1500))")

        XCTAssertNil(monitor.command("quit"), "the connection ends with PCEmu")
        XCTAssertEqual(pcemu.wait(timeout: 30), 0)
    }
}

import Foundation
import Glibc
import TestSupport
import XCTest

/// The gdb stub driven by Debian's real gdb (/usr/bin/gdb) in batch mode,
/// and by a raw protocol client where gdb cannot be made to do a thing
/// (Ctrl-C at a chosen moment, malformed packets).
final class GDBStubGuestTests: XCTestCase {
    static let gdb = "/usr/bin/gdb"

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: GDBStubGuestTests.gdb) else {
            throw TestSetupError("gdb is not installed (scripts/setup.sh installs it)")
        }
    }

    /// Runs gdb in batch mode on the stub with these commands; its output.
    /// Its standard input is a pipe kept open: gdb quits when it reads the
    /// end of its input while the target runs.
    static func runGDB(port: UInt16, architecture: String, _ commands: [String], timeout: TimeInterval = 120,
                       emulator: ChildProcess? = nil) throws -> String {
        var arguments = ["-nx", "-batch", "-ex", "set architecture \(architecture)", "-ex", "set pagination off",
                         "-ex", "target remote 127.0.0.1:\(port)"]
        for command in commands { arguments += ["-ex", command] }
        let gdb = try ChildProcess(GDBStubGuestTests.gdb, arguments, inputPipe: true)
        defer { gdb.stop() }
        guard gdb.wait(timeout: timeout) != nil else {
            throw TestSetupError("gdb did not finish in \(Int(timeout)) s:\n\(gdb.standardOutput.suffix(1500))\n\(gdb.standardError.suffix(800))"
                                 + "\npcemu's output:\n\(emulator?.standardOutput.suffix(1500) ?? "")\n\(emulator?.standardError.suffix(800) ?? "")")
        }
        return gdb.standardOutput + gdb.standardError
    }

    /// A 1 MiB disk whose boot sector stores AX at 0:0600 and loops:
    /// xor ax,ax; mov ds,ax; mov ax,1234h; mov [600h],ax; jmp $.
    static func makeBootDisk(in directory: URL) throws -> String {
        var image = [UInt8](repeating: 0, count: 1 << 20)
        let code: [UInt8] = [0x31, 0xC0, 0x8E, 0xD8, 0xB8, 0x34, 0x12, 0xA3, 0x00, 0x06, 0xEB, 0xFE]
        image.replaceSubrange(0..<code.count, with: code)
        image[510] = 0x55
        image[511] = 0xAA
        let path = directory.appendingPathComponent("boot.img").path
        try Data(image).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// From the reset vector to the boot sector: registers at reset, a
    /// breakpoint reached before its instruction runs, memory, one step, a
    /// register written and then stored by the guest, a write watchpoint
    /// stopping after the store with the address; then a second client
    /// attaching to the running guest and `kill` ending pcemu.
    func testBreakpointStepWatchpointAndRegistersFromTheResetVector() throws {
        let directory = try makeTemporaryDirectory("pcemu-gdb")
        defer { try? FileManager.default.removeItem(at: directory) }
        let disk = try GDBStubGuestTests.makeBootDisk(in: directory)
        let port = try TestSockets.freeLoopbackPort()
        let pcemu = try ChildProcess(BuildProducts.pcemu, ["-m", "32", "-nic", "none", "-nographic", "-S",
                                                          "-gdb", "tcp::\(port)", "-hda", disk])
        defer { pcemu.stop() }
        usleep(500_000)
        let output = try GDBStubGuestTests.runGDB(port: port, architecture: "i8086", [
            "info registers", "p $eax",
            "break *0x7c00", "continue", "p/x $pc", "x/2xb 0x7dfe",
            "stepi", "p/x $pc", "p/x $ds",
            "break *0x7c07", "continue", "set $eax=0xbeef",
            "watch *(short*)0x600", "continue", "p/x $pc", "x/1xh 0x600",
            "delete", "detach",
        ], emulator: pcemu)
        func expect(_ text: String) { XCTAssertTrue(output.contains(text), "missing '\(text)' in:\n\(output)") }
        expect("eip            0xfff0")
        expect("cs             0xf000")
        expect("edx            0x60fb1")  // the default qemu64 model's CPUID signature
        expect("$1 = 0")
        expect("Breakpoint 1, 0x00007c00 in ?? ()")
        expect("$2 = 0x7c00")
        expect("0x7dfe:\t0x55\t0xaa")
        expect("$3 = 0x7c02")  // xor ax,ax is two bytes
        expect("Breakpoint 2, 0x00007c07 in ?? ()")
        expect("Hardware watchpoint 3: *(short*)0x600")
        expect("Old value = 0")
        expect("New value = -16657")  // 0xbeef: the register gdb wrote, stored by the guest
        expect("$5 = 0x7c0a")  // stopped after the store, before the jmp
        expect("0x600:\t0xbeef")
        expect("[Inferior 1 (Remote target) detached]")
        XCTAssertTrue(pcemu.isRunning)

        // A new client: the guest ran on after the detach (it loops at 7C0Ah) and stops for it.
        let second = try GDBStubGuestTests.runGDB(port: port, architecture: "i8086", ["p/x $pc", "kill"])
        XCTAssertTrue(second.contains("= 0x7c0a"), second)
        XCTAssertEqual(pcemu.wait(timeout: 30), 0, "kill ends pcemu with status 0")
    }

    /// A running Linux guest: a client arriving stops it (its console falls
    /// silent), Ctrl-C stops it again after `c`, kernel virtual addresses are
    /// read through its page tables (Linux maps physical memory at
    /// 0xC0000000: the words must be the monitor's `xp` of the physical
    /// address), an unmapped page is an error, and after `detach` the guest runs on.
    func testInterruptAndReadKernelMemoryOfALinuxGuest() throws {
        let directory = try makeTemporaryDirectory("pcemu-gdb-linux")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try TestSockets.freeLoopbackPort()
        let guest = try MonitoredGuest(directory: directory, arguments: ["-nic", "none", "-gdb", "tcp::\(port)"])
        let pcemu = guest.pcemu, monitor = guest.monitor
        defer { pcemu.stop() }
        // The kernel's first code bytes (placed by KASLR: _text from kallsyms), which do not change.
        // (A short command: the shell wraps long lines at 80 columns.)
        let symbol = try XCTUnwrap(runInShell("grep -w _text /proc/kallsyms", in: pcemu))
        let text = String(symbol.prefix(8))
        let virtual = try XCTUnwrap(UInt32(text, radix: 16), "_text: \(text)")
        XCTAssertGreaterThanOrEqual(virtual, 0xC100_0000)
        let physical = try XCTUnwrap(monitor.command("xp /4xw 0x\(String(virtual - 0xC000_0000, radix: 16))"))
        let words = physical.split(separator: ":").last.map { $0.split(separator: " ").map(String.init) } ?? []
        XCTAssertEqual(words.count, 4, physical)

        pcemu.send("while true; do echo tick; sleep 0.1; done\n")
        XCTAssertTrue(pcemu.waitForOutput("tick\r\ntick", timeout: 60))

        // Ctrl-C from a raw client: attach (stops), continue, interrupt.
        let client = try GDBRawClient(port: port)
        XCTAssertEqual(client.exchange("?"), "T05thread:01;")
        sleep(1)
        let quiet = pcemu.standardOutput.count
        sleep(1)
        XCTAssertEqual(pcemu.standardOutput.count, quiet, "the guest ran while a client was attached")
        client.sendPacket("c")
        XCTAssertEqual(client.readAck(), "+")
        let resumed = pcemu.standardOutput.count
        XCTAssertTrue(pcemu.waitForOutput("tick", timeout: 30))
        usleep(500_000)
        XCTAssertGreaterThan(pcemu.standardOutput.count, resumed, "the guest runs after c")
        client.sendRaw([0x03])
        XCTAssertEqual(client.readPacket(), "T02thread:01;")
        let stoppedAt = pcemu.standardOutput.count
        sleep(1)
        XCTAssertEqual(pcemu.standardOutput.count, stoppedAt, "the guest ran after Ctrl-C")
        let bytes = try XCTUnwrap(client.exchange("m\(text),4"))
        XCTAssertEqual("0x" + stride(from: 6, through: 0, by: -2).map { String(Array(bytes)[$0..<$0 + 2]) }.joined(), words.first,
                       "the first word through paging, little-endian")
        XCTAssertEqual(client.exchange("mfffff000,4"), "E14", "the top page is never mapped in 32-bit Linux")
        client.close()

        // Real gdb attaches to the running guest, reads the banner through the
        // page tables and the kernel's code segment, and detaches.
        let output = try GDBStubGuestTests.runGDB(port: port, architecture: "i386", [
            "x/4xw 0x\(text)", "x/xw 0xfffff000", "p/x $cs", "detach",
        ])
        XCTAssertTrue(output.contains("0x\(text):\t" + words.joined(separator: "\t")), "\(physical)\n\(output)")
        XCTAssertTrue(output.contains("Cannot access memory at address 0xfffff000"), output)
        XCTAssertTrue(output.contains("[Inferior 1 (Remote target) detached]"), output)

        // The guest runs on: the loop prints again, then the shell answers.
        let detachedAt = pcemu.standardOutput.count
        XCTAssertTrue(pcemu.waitForOutput("tick", timeout: 30))
        sleep(1)
        XCTAssertGreaterThan(pcemu.standardOutput.count, detachedAt, "the guest ran on after detach")
        pcemu.send("\u{03}")
        XCTAssertEqual(runInShell("echo alive", in: pcemu), "alive")
    }

    /// The monitor's `gdbserver` starts a stub on a running machine; gdb's
    /// `qSupported` and the target description come back whole.
    func testMonitorStartsAStub() throws {
        let directory = try makeTemporaryDirectory("pcemu-gdbserver")
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("monitor.sock").path
        let port = try TestSockets.freeLoopbackPort()
        let pcemu = try ChildProcess(BuildProducts.pcemu, ["-m", "32", "-nic", "none", "-nographic",
                                                          "-monitor", "unix:\(socketPath),server,nowait"])
        defer { pcemu.stop() }
        let monitor = try MonitorGuestTests.MonitorClient(path: socketPath)
        _ = monitor.readToPrompt()
        XCTAssertEqual(monitor.command("gdbserver tcp::\(port)"), "Waiting for gdb connection on device 'tcp::\(port)'\n")
        XCTAssertEqual(monitor.command("gdbserver tcp::0"), "gdbserver: 'tcp::0' is not tcp::PORT, tcp:HOST:PORT or unix:PATH\n")
        let client = try GDBRawClient(port: port)
        XCTAssertEqual(client.exchange("qSupported:multiprocess+;swbreak+"), "PacketSize=4000;qXfer:features:read+;QStartNoAckMode+")
        var description = ""
        while true {
            let part = try XCTUnwrap(client.exchange("qXfer:features:read:target.xml:\(String(description.utf8.count, radix: 16)),200"))
            description += part.dropFirst()
            if part.hasPrefix("l") { break }
            XCTAssertTrue(part.hasPrefix("m"), part)
        }
        XCTAssertTrue(description.hasPrefix("<?xml"), description)
        XCTAssertTrue(description.contains("<reg name=\"fop\" bitsize=\"32\""), description)
        XCTAssertTrue(description.hasSuffix("</target>\n"), description)
        XCTAssertEqual(monitor.command("info status"), "VM status: paused\n", "a client stops the guest")
        client.close()
        usleep(500_000)
        XCTAssertEqual(monitor.command("info status"), "VM status: running\n", "and lets it run when it leaves")
    }

    /// Malformed packets, bad checksums, absurd lengths and addresses past
    /// 4 GiB get error replies or `-`; pcemu answers properly afterwards.
    func testMalformedPacketsGetErrorsNotACrash() throws {
        let port = try TestSockets.freeLoopbackPort()
        let pcemu = try ChildProcess(BuildProducts.pcemu, ["-m", "32", "-nic", "none", "-nographic", "-S", "-gdb", "tcp::\(port)"])
        defer { pcemu.stop() }
        let client = try GDBRawClient(port: port)
        let registers = try XCTUnwrap(client.exchange("g"))
        XCTAssertEqual(registers.count, 176 * 2, "the i386 core registers, x87 included")

        client.sendRaw(Array("$g#00".utf8))
        XCTAssertEqual(client.readAck(), "-", "a bad checksum is refused")
        let cases: [(String, String)] = [
            ("m0,ffffffff", "E22"), ("m100000000,4", "E22"), ("m,", "E22"), ("mzz,4", "E22"), ("m0", "E22"),
            ("M0,4:zz", "E22"), ("M0,2:001122", "E22"), ("X0,2:}", "E22"), ("X1ffffffff,1:a", "E22"),
            ("p99", "E01"), ("pzz", "E01"), ("P8=12", "E01"), ("P9999=00000000", "E22"), ("Gabc", "E22"), ("G00", "E22"),
            ("Z0,100000000,1", "E22"), ("Z2,0,0", "E22"), ("Z2,0,ffffffff", "E22"), ("Z9,0,1", ""), ("Z0", "E22"),
            ("qXfer:features:read:other.xml:0,10", "E00"), ("qXfer:features:read:target.xml:ffffff,10", "E22"),
            ("qXfer:features:read:target.xml", "E22"), ("vCont;x", "E22"), ("cxyz", "E22"), ("bogus", ""), ("vMustReplyEmpty", ""),
        ]
        for (packet, reply) in cases {
            XCTAssertEqual(client.exchange(packet), reply, "reply to \(packet)")
        }
        // Random bytes, random packets with valid checksums, an overlong packet.
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            if round % 3 == 0 {
                client.sendRaw((0..<Int.random(in: 1...200, using: &generator)).map { _ in
                    let byte = UInt8.random(in: 0...255, using: &generator)
                    // Not Ctrl-C, a packet start, or `-` (which asks for the last reply again).
                    return byte == 0x03 || byte == UInt8(ascii: "$") || byte == UInt8(ascii: "-") ? 0x20 : byte
                } + Array("#00".utf8))
            } else {
                let letters = Array("mMXgGpPZzqQvHTc?0123456789abcdef,:;=".utf8)
                let payload = (0..<Int.random(in: 1...40, using: &generator)).map { _ in letters.randomElement(using: &generator)! }
                // c and vCont would let the guest run: the round stops it again.
                client.sendPacket(String(decoding: payload, as: UTF8.self))
            }
            // The stub stays in step: a g afterwards is answered (after whatever came before it).
            if round % 50 == 49 { XCTAssertTrue(client.resynchronise(), "round \(round)") }
        }
        client.sendPacket(String(repeating: "a", count: 0x5000))
        XCTAssertTrue(client.resynchronise())
        // (Memory may be unmapped by now: the random rounds ran the guest on random registers.)
        XCTAssertEqual(client.exchange("g")?.count, 176 * 2)
        XCTAssertEqual(client.exchange("qAttached"), "1")
        XCTAssertTrue(pcemu.isRunning)
    }
}

/// gdb's protocol by hand: packets out, acks and replies in.
final class GDBRawClient {
    let descriptor: Int32
    private var pending: [UInt8] = []

    init(port: UInt16, timeout: TimeInterval = 30) throws {
        descriptor = try TestSockets.waitForConnection(timeout: timeout, to: "the gdb stub's port \(port)") {
            TestSockets.connectLoopback(port: port)
        }
    }

    deinit { Glibc.close(descriptor) }

    func close() { shutdown(descriptor, Int32(SHUT_RDWR)) }

    func sendRaw(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func sendPacket(_ payload: String) {
        var sum: UInt8 = 0
        for byte in payload.utf8 { sum &+= byte }
        let hex = String(sum, radix: 16)
        sendRaw(Array("$\(payload)#\(hex.count == 1 ? "0" : "")\(hex)".utf8))
    }

    private func nextByte() -> UInt8? {
        if pending.isEmpty {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            pending = Array(buffer[0..<count])
        }
        return pending.removeFirst()
    }

    /// The next `+` or `-`.
    func readAck() -> String? {
        while let byte = nextByte() {
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { return String(UnicodeScalar(byte)) }
        }
        return nil
    }

    /// The next packet's payload (acknowledged); nil on time-out or a bad checksum.
    func readPacket() -> String? {
        while let byte = nextByte(), byte != UInt8(ascii: "$") {}
        var payload: [UInt8] = []
        while let byte = nextByte() {
            if byte == UInt8(ascii: "#") {
                guard let high = nextByte(), let low = nextByte() else { return nil }
                var sum: UInt8 = 0
                for value in payload { sum &+= value }
                guard UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) == sum else { return nil }
                sendRaw([UInt8(ascii: "+")])
                return String(decoding: payload, as: UTF8.self)
            }
            payload.append(byte)
        }
        return nil
    }

    /// Sends a packet and returns the reply.
    func exchange(_ payload: String) -> String? {
        sendPacket(payload)
        guard readAck() == "+" else { return nil }
        return readPacket()
    }

    /// After a burst of anything: interrupts a guest the burst let run, then
    /// reads replies until the answer to a marker packet arrives.
    func resynchronise() -> Bool {
        sendRaw([0x03])
        sendPacket("qC")
        for _ in 0..<2000 {
            guard let reply = readPacket() else { return false }
            if reply == "QC01" { return true }
        }
        return false
    }
}

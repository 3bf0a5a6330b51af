import Foundation
import TestSupport
import XCTest

/// QMP driven by QEMU's own client library (qemu.qmp) against pcemu running
/// the default guest, one client connection after another, as scripts and
/// libvirt drive QEMU.
final class QMPGuestTests: XCTestCase {
    private typealias Answer = [String: Any]

    private func result(_ answer: Answer, _ index: Int) -> Answer { QMPTestClient.result(answer, index) }

    private func events(_ answer: Answer) -> [Answer] { (answer["events"] as? [Answer]) ?? [] }

    /// Waits for `text` in what pcemu printed after `offset` (its serial console).
    private func waitForOutput(_ pcemu: ChildProcess, _ text: String, after offset: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if pcemu.standardOutput.dropFirst(offset).contains(text) { return true }
            usleep(100_000)
        }
        return false
    }

    func testQueriesStopContScreendumpKeysMouseResetAndPowerdownThroughQEMUsClient() throws {
        let directory = try makeTemporaryDirectory("pcemu-qmp")
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("qmp.sock").path
        let disc = directory.appendingPathComponent("disc.iso").path
        try Data(count: 2048 * 16).write(to: URL(fileURLWithPath: disc))
        let guest = try DefaultGuest.paths()
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet", "-nographic",
            "-nic", "none", "-name", "qmp-guest", "-drive", "if=ide,index=2,media=cdrom",
            "-qmp", "unix:\(socketPath),server,nowait",
        ], inputPipe: true)
        defer { pcemu.stop() }
        XCTAssertTrue(pcemu.waitForOutput(LinuxGuestTests.prompt, timeout: 300), "no shell prompt:\n\(pcemu.standardOutput.suffix(2000))")
        let client = QMPTestClient(socketPath: socketPath)

        // Queries, the CD drive, errors, and stop/cont with their events.
        let ppm = directory.appendingPathComponent("screen.ppm").path
        let png = directory.appendingPathComponent("screen.png").path
        var answer = try client.run([
            ["execute": "query-status"], ["execute": "query-version"], ["execute": "query-name"], ["execute": "query-block"],
            ["execute": "blockdev-change-medium", "arguments": ["id": "ide1-cd0", "filename": disc, "format": "raw"]],
            ["execute": "query-block"],
            ["execute": "eject", "arguments": ["device": "ide1-cd0"]],
            ["execute": "query-block"],
            ["execute": "blockdev-change-medium", "arguments": ["device": "ide1-cd0", "filename": "/nonexistent.iso"]],
            ["execute": "frobnicate"],
            ["execute": "screendump", "arguments": [:]],
            ["execute": "stop"], ["event": "STOP"], ["execute": "query-status"],
            ["execute": "human-monitor-command", "arguments": ["command-line": "info registers"]],
            ["execute": "screendump", "arguments": ["filename": ppm]],
            ["execute": "screendump", "arguments": ["filename": png, "format": "png"]],
            ["execute": "cont"], ["event": "RESUME"], ["execute": "query-status"],
        ])
        let greeting = try XCTUnwrap((answer["greeting"] as? Answer)?["QMP"] as? Answer)
        XCTAssertEqual(((greeting["version"] as? Answer)?["qemu"] as? Answer)?["major"] as? Int, 7, "\(greeting)")
        XCTAssertEqual(result(answer, 0)["return"] as? NSDictionary, ["running": true, "singlestep": false, "status": "running"])
        XCTAssertEqual((result(answer, 1)["return"] as? Answer)?["package"] as? String, "PCEmu 0.1.0")
        XCTAssertEqual(result(answer, 2)["return"] as? NSDictionary, ["name": "qmp-guest"])
        let drives = try XCTUnwrap(result(answer, 3)["return"] as? [Answer])
        XCTAssertEqual(drives.map { $0["device"] as? String }, ["ide1-cd0", "floppy0", "floppy1"])
        XCTAssertEqual(drives[0]["removable"] as? Bool, true)
        XCTAssertNil(drives[0]["inserted"], "an empty drive")
        XCTAssertEqual(result(answer, 4)["return"] as? NSDictionary, [:])
        let inserted = try XCTUnwrap((result(answer, 5)["return"] as? [Answer])?.first?["inserted"] as? Answer)
        XCTAssertEqual(inserted["file"] as? String, disc)
        XCTAssertEqual(inserted["ro"] as? Bool, true)
        XCTAssertEqual(inserted["drv"] as? String, "raw")
        XCTAssertNil((result(answer, 7)["return"] as? [Answer])?.first?["inserted"], "ejected")
        XCTAssertEqual((result(answer, 8)["error"] as? Answer)?["class"] as? String, "GenericError")
        XCTAssertTrue(((result(answer, 8)["error"] as? Answer)?["desc"] as? String ?? "").contains("No such file"), "\(result(answer, 8))")
        XCTAssertEqual(result(answer, 9)["error"] as? NSDictionary, ["class": "CommandNotFound", "desc": "The command frobnicate has not been found"])
        XCTAssertEqual(result(answer, 10)["error"] as? NSDictionary, ["class": "GenericError", "desc": "Parameter 'filename' is missing"])
        XCTAssertNotNil(result(answer, 12)["timestamp"], "STOP: \(result(answer, 12))")
        XCTAssertEqual(result(answer, 13)["return"] as? NSDictionary, ["running": false, "singlestep": false, "status": "paused"])
        let registers = try XCTUnwrap(result(answer, 14)["return"] as? String)
        XCTAssertTrue(registers.hasPrefix("EAX=") && registers.contains("CR0=8") && registers.hasSuffix("\r\n"), registers)
        XCTAssertNotNil(result(answer, 18)["timestamp"], "RESUME: \(result(answer, 18))")
        XCTAssertEqual((result(answer, 19)["return"] as? Answer)?["status"] as? String, "running")
        XCTAssertEqual(events(answer).map { $0["event"] as? String }, ["STOP", "RESUME"])
        let screen = try Screenshot(ppm: ppm)
        XCTAssertEqual(screen.width, 720, "the 80x25 text console")
        let decoded = try Screenshot(png: png)
        XCTAssertEqual(decoded.width, screen.width)
        XCTAssertEqual(decoded.height, screen.height)

        // Keys typed through QMP reach the guest's keyboard: a line read from the VGA console's tty.
        pcemu.send("read -r line </dev/tty1; echo \"got[$line]$((6*7))\"\n")
        XCTAssertTrue(pcemu.waitForOutput("$((6*7))\"", timeout: 60), "the shell took the line")
        sleep(1)
        answer = try client.run([
            ["type": "Hello QMP-1 >"],
            ["execute": "input-send-event", "arguments": ["events": [
                ["type": "key", "data": ["down": true, "key": ["type": "qcode", "data": "ret"]]],
                ["type": "key", "data": ["down": false, "key": ["type": "qcode", "data": "ret"]]],
            ]]],
            ["execute": "send-key", "arguments": ["keys": [["type": "qcode", "data": "nokey"]]]],
        ])
        XCTAssertTrue(pcemu.waitForOutput("got[Hello QMP-1 >]42", timeout: 60), "\(pcemu.standardOutput.suffix(500))")
        XCTAssertEqual(result(answer, 2)["error"] as? NSDictionary, ["class": "GenericError", "desc": "Parameter 'data' does not accept value 'nokey'"])

        // Relative motion and a button through the PS/2 mouse, as the guest's mousedev reports them.
        XCTAssertNotNil(runInShell("modprobe psmouse; sleep 1", in: pcemu))
        let beforeMouse = pcemu.standardOutput.count
        pcemu.send("od -An -tx1 -N6 /dev/input/mice\n")
        XCTAssertTrue(waitForOutput(pcemu, "/dev/input/mice", after: beforeMouse, timeout: 60), "the shell took the line")
        sleep(1)
        _ = try client.run([
            ["execute": "input-send-event", "arguments": ["events": [
                ["type": "rel", "data": ["axis": "x", "value": 10]], ["type": "rel", "data": ["axis": "y", "value": 5]],
            ]]],
            ["execute": "input-send-event", "arguments": ["events": [["type": "btn", "data": ["button": "left", "down": true]]]]],
            ["execute": "input-send-event", "arguments": ["events": [["type": "btn", "data": ["button": "left", "down": false]]]]],
        ])
        // 0x28: y negative (PS/2 counts up the screen); then the left button alone.
        XCTAssertTrue(waitForOutput(pcemu, "28 0a fb 09 00 00", after: beforeMouse, timeout: 30), "\(pcemu.standardOutput.suffix(300))")

        // system_reset: RESET by the host; Ctrl+Alt+Delete sent as keys: RESET by the guest.
        var offset = pcemu.standardOutput.count
        answer = try client.run([["execute": "system_reset"], ["event": "RESET"]])
        XCTAssertEqual(result(answer, 1)["data"] as? NSDictionary, ["guest": false, "reason": "host-qmp-system-reset"])
        XCTAssertTrue(waitForOutput(pcemu, LinuxGuestTests.prompt, after: offset, timeout: 300), "no prompt after system_reset")
        offset = pcemu.standardOutput.count
        answer = try client.run([
            ["execute": "send-key", "arguments": ["keys": [["type": "qcode", "data": "ctrl"], ["type": "qcode", "data": "alt"],
                                                           ["type": "qcode", "data": "delete"]]]],
            ["event": "RESET", "timeout": 60],
        ])
        XCTAssertEqual(result(answer, 1)["data"] as? NSDictionary, ["guest": true, "reason": "guest-reset"])
        XCTAssertTrue(waitForOutput(pcemu, LinuxGuestTests.prompt, after: offset, timeout: 300), "no prompt after Ctrl+Alt+Delete")

        // system_powerdown: POWERDOWN, then the guest sees the ACPI power button
        // (PWRBTN_STS in its PM1 status register; the default guest has no
        // button driver, so a shell loop polls it) and powers off: SHUTDOWN.
        XCTAssertNotNil(runInShell("""
            base=$(sed -n 's/^ *\\([0-9a-f]*\\)-.*PM1a_EVT_BLK/\\1/p' /proc/ioports); \
            (while :; do s=$(dd if=/dev/port bs=1 skip=$((0x$base + 1)) count=1 2>/dev/null | od -An -tu1); \
            [ $((s & 1)) = 1 ] && poweroff -f; sleep 0.2; done) >/dev/null 2>&1 & true
            """, in: pcemu))
        answer = try client.run([["execute": "system_powerdown"], ["event": "POWERDOWN"], ["event": "SHUTDOWN", "timeout": 60]])
        XCTAssertNotNil(result(answer, 1)["timestamp"])
        XCTAssertEqual(result(answer, 2)["data"] as? NSDictionary, ["guest": true, "reason": "guest-shutdown"])
        XCTAssertEqual(pcemu.wait(timeout: 30), 0)
    }

    /// QEMU's long spelling (-chardev, -mon mode=control) with -S: the
    /// protocol's refusals and errors on a raw connection that goes on after
    /// each, then a second client (qemu.qmp) that quits PCEmu.
    func testNegotiationErrorsAndGarbageOnARawConnectionThenQuitFromTheNextClient() throws {
        let directory = try makeTemporaryDirectory("pcemu-qmp-raw")
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("qmp.sock").path
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "32", "-nic", "none", "-display", "none", "-S",
            "-chardev", "socket,id=qmp0,path=\(socketPath),server=on,wait=off", "-mon", "chardev=qmp0,mode=control",
        ])
        defer { pcemu.stop() }
        let raw = try MonitorGuestTests.MonitorClient(path: socketPath)
        let lines = SocketLines(descriptor: raw.descriptor)
        func line() -> String? { lines.next() }
        func exchange(_ text: String) -> String? { lines.exchange(text) }
        XCTAssertEqual(line(), #"{"QMP":{"capabilities":[],"version":{"package":"PCEmu 0.1.0","qemu":{"major":7,"micro":0,"minor":2}}}}"#)
        XCTAssertEqual(exchange(#"{"execute":"query-status","id":1}"#),
                       #"{"error":{"class":"CommandNotFound","desc":"Expecting capabilities negotiation with 'qmp_capabilities'"},"id":1}"#)
        XCTAssertTrue(exchange("garbage, not JSON\n")?.hasPrefix(#"{"error":{"class":"GenericError","desc":"JSON parse error"#) == true)
        XCTAssertEqual(exchange("[1, 2]"), #"{"error":{"class":"GenericError","desc":"QMP input must be a JSON object"}}"#)
        XCTAssertEqual(exchange(#"{"execute": 5, "id": "x"}"#),
                       #"{"error":{"class":"GenericError","desc":"QMP input member 'execute' must be a string"},"id":"x"}"#)
        // qemu.qmp ends no message with a newline: the braces end it.
        XCTAssertEqual(exchange(#"{"execute":"qmp_capabilities","id":{"n":[1,"}"]}}"#), #"{"id":{"n":[1,"}"]},"return":{}}"#)
        XCTAssertEqual(exchange(#"{"execute":"qmp_capabilities"}"#),
                       #"{"error":{"class":"CommandNotFound","desc":"Capabilities negotiation is already complete, command ignored"}}"#)
        XCTAssertEqual(exchange(#"{"execute":"query-status","arguments":{"verbose":true}}"#),
                       #"{"error":{"class":"GenericError","desc":"Parameter 'verbose' is unexpected"}}"#)
        XCTAssertEqual(exchange("\n\n{\"execute\":\"query-status\"}\n"), #"{"return":{"running":false,"singlestep":false,"status":"prelaunch"}}"#)
        // -S's cont: the RESUME event comes before cont's reply, as in QEMU.
        let resume = try XCTUnwrap(exchange(#"{"execute":"cont","id":7}"#))
        XCTAssertTrue(resume.hasPrefix(#"{"event":"RESUME","timestamp":{"microseconds":"#), resume)
        XCTAssertEqual(line(), #"{"id":7,"return":{}}"#)
        XCTAssertTrue(pcemu.isRunning)
        close(raw.descriptor)

        let answer = try QMPTestClient(socketPath: socketPath).run([
            ["execute": "query-status"], ["execute": "quit"], ["event": "SHUTDOWN"],
        ])
        XCTAssertEqual((result(answer, 0)["return"] as? Answer)?["status"] as? String, "running")
        XCTAssertEqual(result(answer, 1)["return"] as? NSDictionary, [:])
        XCTAssertEqual(result(answer, 2)["data"] as? NSDictionary, ["guest": false, "reason": "host-qmp-quit"])
        XCTAssertEqual(pcemu.wait(timeout: 30), 0)
    }

    /// `-qmp stdio`: the protocol on pcemu's own standard input and output.
    func testQMPOnStandardInputAndOutput() throws {
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "32", "-nic", "none", "-display", "none", "-serial", "none", "-S", "-qmp", "stdio",
        ], inputPipe: true)
        defer { pcemu.stop() }
        XCTAssertTrue(pcemu.waitForOutput(#"{"QMP":{"#, timeout: 30))
        pcemu.send(#"{"execute":"qmp_capabilities"}{"execute":"query-status"}"# + "\n" + #"{"execute":"stop"}{"execute":"quit"}"#)
        XCTAssertEqual(pcemu.wait(timeout: 30), 0, pcemu.standardError)
        let lines = pcemu.standardOutput.split(separator: "\r\n").map(String.init)
        XCTAssertEqual(lines.count, 6, "\(lines)")
        XCTAssertEqual(Array(lines.dropFirst().prefix(2)), [#"{"return":{}}"#, #"{"return":{"running":false,"singlestep":false,"status":"prelaunch"}}"#])
        // Stopping a guest that never ran is no STOP: only stop's reply, quit's, and SHUTDOWN.
        XCTAssertEqual(lines[3], #"{"return":{}}"#)
        XCTAssertEqual(lines[4], #"{"return":{}}"#)
        XCTAssertTrue(lines[5].hasPrefix(#"{"data":{"guest":false,"reason":"host-qmp-quit"},"event":"SHUTDOWN","#), lines[5])
    }
}


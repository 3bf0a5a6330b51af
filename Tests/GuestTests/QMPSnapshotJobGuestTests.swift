import Foundation
import TestSupport
import XCTest

/// QMP's job-style snapshot commands (snapshot-save, snapshot-load,
/// snapshot-delete, query-jobs, job-dismiss) driven by qemu.qmp against the
/// default guest with a qcow2 disk. The event orders checked are the ones
/// QEMU 7.2 gives for the same commands (recorded with qemu-system-i386 and
/// qemu.qmp on a qcow2 disk).
final class QMPSnapshotJobGuestTests: XCTestCase {
    private typealias Answer = [String: Any]

    private func result(_ answer: Answer, _ index: Int) -> Answer { QMPTestClient.result(answer, index) }

    /// The JOB_STATUS_CHANGE statuses of job `id`, in order, and where STOP/RESUME came among them.
    private func jobEvents(_ answer: Answer, _ id: String, runState: Bool = true) -> [String] {
        ((answer["events"] as? [Answer]) ?? []).compactMap { event in
            let name = event["event"] as? String
            if name == "STOP" || name == "RESUME" { return runState ? name : nil }
            guard name == "JOB_STATUS_CHANGE", let data = event["data"] as? Answer, data["id"] as? String == id else { return nil }
            return data["status"] as? String
        }
    }

    /// Steps that run `command` and wait for its job's `count` status events.
    private func job(_ command: String, _ arguments: Answer, events count: Int) -> [Answer] {
        [["execute": command, "arguments": arguments]] + Array(repeating: ["event": "JOB_STATUS_CHANGE", "timeout": 120], count: count)
    }

    func testSnapshotJobsSaveLoadAndDeleteWithQEMUsEventsAndErrors() throws {
        let directory = try makeTemporaryDirectory("pcemu-qmp-jobs")
        defer { try? FileManager.default.removeItem(at: directory) }
        let disk = directory.appendingPathComponent("disk.qcow2").path
        let created = try ChildProcess.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", disk, "64M"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let socketPath = directory.appendingPathComponent("qmp.sock").path
        let guest = try DefaultGuest.paths()
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet", "-nographic",
            "-nic", "none", "-hda", disk, "-qmp", "unix:\(socketPath),server,nowait",
        ], inputPipe: true)
        defer { pcemu.stop() }
        XCTAssertTrue(pcemu.waitForOutput(LinuxGuestTests.prompt, timeout: 300), "no shell prompt:\n\(pcemu.standardOutput.suffix(2000))")
        let client = QMPTestClient(socketPath: socketPath)
        XCTAssertEqual(runInShell("echo SAVED > /root/mark; cat /root/mark", in: pcemu), "SAVED")

        // Saved while running: STOP and RESUME come inside the job, as QEMU's do.
        let place: Answer = ["vmstate": "ide0-hd0", "devices": ["ide0-hd0"]]
        var answer = try client.run(
            [["execute": "query-commands"]]
                + job("snapshot-save", place.merging(["job-id": "save1", "tag": "one"]) { $1 }, events: 5)
                + [["execute": "query-jobs"], ["execute": "job-dismiss", "arguments": ["id": "save1"]],
                   ["event": "JOB_STATUS_CHANGE"], ["execute": "query-jobs"]])
        let commands = Set(((result(answer, 0)["return"] as? [Answer]) ?? []).compactMap { $0["name"] as? String })
        XCTAssertTrue(commands.isSuperset(of: ["snapshot-save", "snapshot-load", "snapshot-delete", "query-jobs", "job-dismiss"]), "\(commands)")
        XCTAssertEqual(result(answer, 1)["return"] as? NSDictionary, [:])
        XCTAssertEqual(jobEvents(answer, "save1"), ["created", "running", "STOP", "RESUME", "waiting", "pending", "concluded", "null"])
        XCTAssertEqual(result(answer, 7)["return"] as? NSArray, [[
            "id": "save1", "type": "snapshot-save", "status": "concluded", "current-progress": 1, "total-progress": 1,
        ]])
        XCTAssertEqual(result(answer, 8)["return"] as? NSDictionary, [:])
        XCTAssertEqual(result(answer, 10)["return"] as? NSArray, [])

        // The file changes; loading the snapshot brings the saved one back.
        XCTAssertEqual(runInShell("echo CHANGED > /root/mark; cat /root/mark", in: pcemu), "CHANGED")
        answer = try client.run(job("snapshot-load", place.merging(["job-id": "load1", "tag": "one"]) { $1 }, events: 5)
                                + [["execute": "query-jobs"], ["execute": "job-dismiss", "arguments": ["id": "load1"]]])
        XCTAssertEqual(jobEvents(answer, "load1"), ["created", "running", "STOP", "RESUME", "waiting", "pending", "concluded", "null"])
        XCTAssertEqual(((result(answer, 6)["return"] as? [Answer])?.first)?["error"] as? String, nil)
        XCTAssertEqual(runInShell("cat /root/mark", in: pcemu), "SAVED")

        // Failures conclude the job with QEMU's error; a failed load leaves the guest stopped, as QEMU does.
        answer = try client.run(
            job("snapshot-load", place.merging(["job-id": "bad-tag", "tag": "nope"]) { $1 }, events: 4)
                + job("snapshot-save", ["job-id": "no-devices", "tag": "x", "vmstate": "ide0-hd0", "devices": [String]()], events: 4)
                + job("snapshot-save", ["job-id": "unknown", "tag": "x", "vmstate": "ide0-hd0", "devices": ["ide0-hd0", "hd9"]], events: 4)
                + job("snapshot-save", ["job-id": "vmstate", "tag": "x", "vmstate": "ide1-cd0", "devices": ["ide0-hd0"]], events: 4)
                + [["execute": "query-jobs"], ["execute": "query-status"],
                   ["execute": "snapshot-save", "arguments": place.merging(["job-id": "bad-tag", "tag": "x"]) { $1 }],
                   ["execute": "job-dismiss", "arguments": ["id": "missing"]],
                   ["execute": "snapshot-save", "arguments": place.merging(["job-id": "9lives", "tag": "x"]) { $1 }],
                   ["execute": "snapshot-save", "arguments": place.merging(["tag": "x"]) { $1 }],
                   ["execute": "cont"]])
        // The RESUME is the closing cont's.
        XCTAssertEqual(jobEvents(answer, "bad-tag"), ["created", "running", "STOP", "aborting", "concluded", "RESUME"])
        XCTAssertEqual(jobEvents(answer, "no-devices", runState: false), ["created", "running", "aborting", "concluded"])
        let jobs = try XCTUnwrap(result(answer, 20)["return"] as? [Answer])
        XCTAssertEqual(jobs.map { $0["id"] as? String }, ["vmstate", "unknown", "no-devices", "bad-tag"], "newest first")
        XCTAssertEqual(jobs.map { $0["status"] as? String }, ["concluded", "concluded", "concluded", "concluded"])
        XCTAssertEqual(jobs.map { $0["error"] as? String }, [
            "vmstate block device 'ide1-cd0' does not exist", "No block device node 'hd9'",
            "At least one device is required for snapshot", "Snapshot 'nope' does not exist in one or more devices",
        ])
        XCTAssertEqual((result(answer, 21)["return"] as? Answer)?["status"] as? String, "paused")
        XCTAssertEqual(result(answer, 22)["error"] as? NSDictionary, ["class": "GenericError", "desc": "Job ID 'bad-tag' already in use"])
        XCTAssertEqual(result(answer, 23)["error"] as? NSDictionary, ["class": "GenericError", "desc": "Job not found"])
        XCTAssertEqual(result(answer, 24)["error"] as? NSDictionary, ["class": "GenericError", "desc": "Invalid job ID '9lives'"])
        XCTAssertEqual(result(answer, 25)["error"] as? NSDictionary, ["class": "GenericError", "desc": "Parameter 'job-id' is missing"])
        XCTAssertEqual(result(answer, 26)["return"] as? NSDictionary, [:])

        // Delete: the snapshot is gone from the disk; deleting it again is no error, as in QEMU.
        answer = try client.run(
            job("snapshot-delete", ["job-id": "del1", "tag": "one", "devices": ["ide0-hd0"]], events: 5)
                + job("snapshot-delete", ["job-id": "del2", "tag": "one", "devices": ["ide0-hd0"]], events: 5)
                + [["execute": "query-jobs"],
                   ["execute": "human-monitor-command", "arguments": ["command-line": "info snapshots"]]])
        XCTAssertEqual(jobEvents(answer, "del1"), ["created", "running", "waiting", "pending", "concluded"])
        XCTAssertEqual(jobEvents(answer, "del2"), ["created", "running", "waiting", "pending", "concluded"])
        let deletes = try XCTUnwrap(result(answer, 12)["return"] as? [Answer])
        XCTAssertEqual(deletes.prefix(2).map { $0["type"] as? String }, ["snapshot-delete", "snapshot-delete"])
        XCTAssertEqual(deletes.prefix(2).map { $0["error"] as? String }, [nil, nil])
        XCTAssertEqual(result(answer, 13)["return"] as? String, "There is no snapshot available.\r\n")
        XCTAssertEqual(runInShell("cat /root/mark", in: pcemu), "SAVED", "the guest runs on")
    }
}

import Dispatch
import Foundation
import Machine

/// QMP's job-style snapshot commands (QEMU 6.0+): snapshot-save,
/// snapshot-load and snapshot-delete reply `{}` at once and do their work
/// as a job, one after another on a queue of their own, through
/// MachineControl's snapshot operations (the same ones savevm, loadvm and
/// delvm use). Each status change is a JOB_STATUS_CHANGE event, in QEMU's
/// order: created, running, then waiting, pending, concluded on success or
/// aborting, concluded on failure; `job-dismiss` ends it (status null).
/// `query-jobs` lists the jobs not yet dismissed, newest first.
///
/// `devices` and `vmstate` name drives as query-block reports them
/// (ide0-hd0, floppy0). QEMU snapshots just the nodes listed; a PCEmu
/// snapshot is always one of every writable disk with the machine's state in
/// the first (as savevm's is), because loading a machine's memory with a
/// disk left as it is would hand the guest a file system its cache does
/// not match. So a list that leaves out a writable disk, or a `vmstate`
/// other than the first writable disk, fails the job with a message saying
/// so, where QEMU would go on.
final class QMPSnapshotJobs {
    enum Kind: String {
        case save = "snapshot-save"
        case load = "snapshot-load"
        case delete = "snapshot-delete"
    }

    /// One job as query-jobs shows it.
    private final class Job {
        let id: String
        let kind: Kind
        var status = "created"
        var currentProgress = 0
        var totalProgress = 0
        var error: String?

        init(id: String, kind: Kind) {
            self.id = id
            self.kind = kind
        }
    }

    private let control: MachineControl
    private let lock = NSLock()
    /// Newest first, as QEMU lists them.
    private var jobs: [Job] = []
    private let queue = DispatchQueue(label: "pcemu-snapshot-jobs")

    init(control: MachineControl) { self.control = control }

    var commands: [QMPCommand] {
        let empty = [String: Any]()
        return [
            QMPCommand(name: Kind.save.rawValue, parameters: ["job-id", "tag", "vmstate", "devices"]) { [unowned self] arguments throws(QMPError) in
                let (tag, vmstate, devices) = (try arguments.string("tag"), try arguments.string("vmstate"), try QMPSnapshotJobs.names(arguments))
                try start(.save, id: try arguments.string("job-id")) { () throws(MonitorError) in
                    try self.save(tag: tag, vmstate: vmstate, devices: devices)
                }
                return empty
            },
            QMPCommand(name: Kind.load.rawValue, parameters: ["job-id", "tag", "vmstate", "devices"]) { [unowned self] arguments throws(QMPError) in
                let (tag, vmstate, devices) = (try arguments.string("tag"), try arguments.string("vmstate"), try QMPSnapshotJobs.names(arguments))
                try start(.load, id: try arguments.string("job-id")) { () throws(MonitorError) in
                    try self.load(tag: tag, vmstate: vmstate, devices: devices)
                }
                return empty
            },
            QMPCommand(name: Kind.delete.rawValue, parameters: ["job-id", "tag", "devices"]) { [unowned self] arguments throws(QMPError) in
                let (tag, devices) = (try arguments.string("tag"), try QMPSnapshotJobs.names(arguments))
                try start(.delete, id: try arguments.string("job-id")) { () throws(MonitorError) in
                    try self.delete(tag: tag, devices: devices)
                }
                return empty
            },
            QMPCommand(name: "query-jobs", parameters: []) { [unowned self] _ in queryJobs() },
            QMPCommand(name: "job-dismiss", parameters: ["id"]) { [unowned self] arguments throws(QMPError) in
                try dismiss(try arguments.string("id"))
                return empty
            },
        ]
    }

    // MARK: The jobs' lives

    /// Creates job `id` and queues `work`; the created and running events
    /// are out before the command's reply, as in QEMU.
    private func start(_ kind: Kind, id: String, work: @escaping () throws(MonitorError) -> Void) throws(QMPError) {
        guard QMPSnapshotJobs.isWellFormed(id) else { throw .generic("Invalid job ID '\(id)'") }
        let job = Job(id: id, kind: kind)
        lock.lock()
        guard !jobs.contains(where: { $0.id == id }) else {
            lock.unlock()
            throw .generic("Job ID '\(id)' already in use")
        }
        jobs.insert(job, at: 0)
        lock.unlock()
        fire(job)
        set(job, "running") { $0.totalProgress = 1 }
        queue.async { [self] in
            do throws(MonitorError) {
                try work()
                set(job, "waiting") { $0.currentProgress = 1 }
                set(job, "pending")
                set(job, "concluded")
            } catch {
                set(job, "aborting") {
                    $0.currentProgress = 1
                    $0.error = error.message
                }
                set(job, "concluded")
            }
        }
    }

    /// Changes `job`'s status (and what `change` sets with it), then tells the clients.
    private func set(_ job: Job, _ status: String, _ change: (Job) -> Void = { _ in }) {
        lock.lock()
        job.status = status
        change(job)
        lock.unlock()
        fire(job)
    }

    private func fire(_ job: Job) {
        lock.lock()
        let status = job.status
        lock.unlock()
        control.machine.loop.events.fire(.jobStatusChange(id: job.id, status: status))
    }

    private func queryJobs() -> [[String: Any]] {
        lock.lock()
        defer { lock.unlock() }
        return jobs.map { job in
            var entry: [String: Any] = ["id": job.id, "type": job.kind.rawValue, "status": job.status,
                                        "current-progress": job.currentProgress, "total-progress": job.totalProgress]
            if let error = job.error { entry["error"] = error }
            return entry
        }
    }

    /// job-dismiss: a concluded job leaves the list (status null).
    private func dismiss(_ id: String) throws(QMPError) {
        lock.lock()
        guard let index = jobs.firstIndex(where: { $0.id == id }) else {
            lock.unlock()
            throw .generic("Job not found")
        }
        let job = jobs[index]
        guard job.status == "concluded" else {
            lock.unlock()
            throw .generic("Job '\(id)' in state '\(job.status)' cannot accept command verb 'dismiss'")
        }
        jobs.remove(at: index)
        job.status = "null"
        lock.unlock()
        fire(job)
    }

    // MARK: The work, on the jobs' queue

    /// As QEMU's snapshot-save: the arguments are checked first; a running
    /// guest is stopped for the save (STOP) and goes on after it (RESUME).
    private func save(tag: String, vmstate: String, devices: [String]) throws(MonitorError) {
        try check(devices: devices, vmstate: vmstate)
        let wasRunning = control.machine.loop.runState == .running
        if wasRunning { control.stop() }
        defer { if wasRunning { control.cont() } }
        try control.saveSnapshot(tag)
    }

    /// As QEMU's snapshot-load: a running guest is stopped first and goes on
    /// only if the load worked (QEMU leaves it stopped after a failure).
    private func load(tag: String, vmstate: String, devices: [String]) throws(MonitorError) {
        let wasRunning = control.machine.loop.runState == .running
        if wasRunning { control.stop() }
        try check(devices: devices, vmstate: vmstate)
        guard try control.snapshotList().contains(where: { $0.tag == tag }) else {
            throw MonitorError("Snapshot '\(tag)' does not exist in one or more devices")
        }
        try control.loadSnapshot(tag)
        if wasRunning { control.cont() }
    }

    /// As QEMU's snapshot-delete: a tag no disk holds is no error.
    private func delete(tag: String, devices: [String]) throws(MonitorError) {
        try check(devices: devices, vmstate: nil)
        let listed = try control.snapshotList().contains { $0.tag == tag }
        do {
            try control.deleteSnapshot(tag)
        } catch where listed {
            throw error
        } catch {
            // Nothing to delete (or only a disk-only snapshot that could not be).
        }
    }

    /// The drives named must exist; every writable one must be named and
    /// able to hold snapshots; `vmstate`, if given, must be the first one.
    private func check(devices: [String], vmstate: String?) throws(MonitorError) {
        guard !devices.isEmpty else { throw MonitorError("At least one device is required for snapshot") }
        let drives = try control.blockDevices()
        for name in devices where !drives.contains(where: { $0.name == name }) {
            throw MonitorError("No block device node '\(name)'")
        }
        let writable = drives.filter { $0.path != nil && !$0.readOnly }
        for drive in writable where devices.contains(drive.name) && drive.format != "qcow2" {
            throw MonitorError("Device '\(drive.name)' is writable but does not support snapshots")
        }
        for drive in writable where !devices.contains(drive.name) {
            throw MonitorError("Device '\(drive.name)' is writable and must be in 'devices': PCEmu snapshots every writable disk together")
        }
        guard let vmstate else { return }
        guard devices.contains(vmstate) else { throw MonitorError("vmstate block device '\(vmstate)' does not exist") }
        guard let first = writable.first else { throw MonitorError("No block device can accept snapshots") }
        guard vmstate == first.name else {
            throw MonitorError("vmstate block device '\(vmstate)' cannot hold the machine state: PCEmu keeps it in '\(first.name)', the first writable disk")
        }
    }

    /// `devices`: an array of drive names.
    private static func names(_ arguments: QMPArguments) throws(QMPError) -> [String] {
        var names: [String] = []
        for value in try arguments.array("devices") {
            guard let name = value as? String else { throw QMPArguments.wrongType("devices", "string") }
            names.append(name)
        }
        return names
    }

    /// QEMU's rule for IDs: a letter, then letters, digits, '-', '.' or '_'.
    static func isWellFormed(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, first.isASCII, CharacterSet.letters.contains(first) else { return false }
        return id.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._".unicodeScalars.contains($0)) }
    }
}

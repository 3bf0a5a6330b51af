import Configuration
import Machine

/// Snapshots and migration for HMP and QMP alike. A snapshot of a large
/// guest takes seconds, so these wait longer for the CPU thread's answer.
extension MachineControl {
    static let snapshotTimeout = 300

    func saveSnapshot(_ tag: String) throws(MonitorError) {
        try perform(timeout: MachineControl.snapshotTimeout) { try self.machine.saveSnapshot(tag: tag) }
    }

    func loadSnapshot(_ tag: String) throws(MonitorError) {
        try perform(timeout: MachineControl.snapshotTimeout) { try self.machine.loadSnapshot(tag: tag) }
    }

    func deleteSnapshot(_ tag: String) throws(MonitorError) {
        try perform(timeout: MachineControl.snapshotTimeout) { try self.machine.deleteSnapshot(tag: tag) }
    }

    func migrate(to endpoint: MigrationEndpoint) throws(MonitorError) {
        try perform(timeout: MachineControl.snapshotTimeout) { try self.machine.migrate(to: endpoint) }
    }

    func snapshotList() throws(MonitorError) -> [SnapshotInfo] {
        let result: Result<[SnapshotInfo], MonitorError>? = onCPUThread {
            do { return .success(try self.machine.snapshotList()) } catch { return .failure(MonitorError("\(error)")) }
        }
        guard let result else { throw MonitorError(MachineControl.noAnswer) }
        return try result.get()
    }
}

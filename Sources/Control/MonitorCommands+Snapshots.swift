import Configuration
import Foundation
import Machine

/// savevm, loadvm, delvm, migrate and `info snapshots`, with QEMU's words,
/// through `MachineControl`.
extension MonitorCommands {
    func snapshotCommand(_ command: String, _ arguments: [Substring], line: String) -> String {
        let tag = arguments.first.map(String.init)
        do throws(MonitorError) {
            switch command {
            case "savevm":
                try control.saveSnapshot(tag ?? MonitorCommands.defaultSnapshotName(Date()))
            case "loadvm":
                guard let tag else { return "loadvm: which snapshot?" }
                try control.loadSnapshot(tag)
            case "delvm":
                guard let tag else { return "delvm: which snapshot?" }
                try control.deleteSnapshot(tag)
            default:
                guard let uri = MonitorCommands.migrationURI(line) else { return "migrate: where to? (file:PATH or exec:CMD)" }
                let endpoint: MigrationEndpoint
                do { endpoint = try MigrationEndpoint(uri, option: "migrate") } catch { return "\(error)" }
                try control.migrate(to: endpoint)
            }
            return ""
        } catch {
            return "Error: \(error.message)"
        }
    }

    /// The URI of `migrate [-d] URI`: the rest of the line, since a command
    /// has spaces (`migrate "exec:gzip -c > vm.gz"`), without its quotes.
    /// -d (do not wait) changes nothing: the state is written at once.
    static func migrationURI(_ line: String) -> String? {
        var rest = line.drop { $0 == " " }.dropFirst("migrate".count).drop { $0 == " " }
        if rest.hasPrefix("-d ") { rest = rest.dropFirst(3).drop { $0 == " " } }
        var uri = rest.trimmingCharacters(in: .whitespaces)
        if uri.count >= 2, uri.hasPrefix("\""), uri.hasSuffix("\"") { uri = String(uri.dropFirst().dropLast()) }
        return uri.isEmpty ? nil : uri
    }

    /// QEMU's name for a snapshot saved without one.
    static func defaultSnapshotName(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "'vm-'yyyyMMddHHmmss"
        return formatter.string(from: date)
    }

    func snapshotList() -> String {
        let list: [SnapshotInfo]
        do throws(MonitorError) { list = try control.snapshotList() } catch { return "Error: \(error.message)" }
        guard !list.isEmpty else { return "There is no snapshot available." }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        var lines = ["List of snapshots present on all disks:",
                     "ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT"]
        for snapshot in list {
            let clock = snapshot.vmClockNanoseconds
            let seconds = clock / 1_000_000_000
            let vmClock = String(format: "%02llu:%02llu:%02llu.%03llu", seconds / 3600, seconds / 60 % 60, seconds % 60,
                                 clock / 1_000_000 % 1000)
            lines.append("--".padding(toLength: 10, withPad: " ", startingAt: 0)
                         + snapshot.tag.padding(toLength: max(17, snapshot.tag.count + 1), withPad: " ", startingAt: 0)
                         + MonitorCommands.size(snapshot.vmStateSize).leftPadded(to: 8) + " "
                         + formatter.string(from: snapshot.date) + " " + vmClock)
        }
        return lines.joined(separator: "\n")
    }

    /// A size as QEMU prints it: three significant digits and a binary unit.
    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
        return String(format: "%.\(digits)f \(units[unit])", value)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

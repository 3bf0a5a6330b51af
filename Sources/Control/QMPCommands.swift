import Configuration
import Foundation
import Machine
import Storage

/// One QMP command: its name, the arguments it takes, what it does, and
/// what it does once its reply is on the wire (quit ends PCEmu only then).
struct QMPCommand {
    let name: String
    let parameters: Set<String>
    let run: (QMPArguments) throws(QMPError) -> Any
    var afterReply: (() -> Void)?
}

/// The QMP commands PCEmu answers, with QEMU's names, arguments and reply
/// shapes. Adding a command is adding an entry to `table`.
final class QMPCommands {
    let control: MachineControl
    let hmp: MonitorCommands
    private let input: QMPInput
    private let jobs: QMPSnapshotJobs
    private(set) var table: [String: QMPCommand] = [:]

    init(control: MachineControl) {
        self.control = control
        hmp = MonitorCommands(control: control)
        input = QMPInput(control: control)
        jobs = QMPSnapshotJobs(control: control)
        let machine = control.machine
        let empty = [String: Any]()
        for command in [
            QMPCommand(name: "query-commands", parameters: []) { [unowned self] _ in
                (["qmp_capabilities"] + table.keys).sorted().map { ["name": $0] }
            },
            QMPCommand(name: "query-status", parameters: []) { _ in
                let state = machine.loop.runState
                return ["running": state == .running, "singlestep": false, "status": state.rawValue] as [String: Any]
            },
            QMPCommand(name: "query-version", parameters: []) { _ in
                let version = QMPMessage.qemuVersion
                return ["qemu": ["major": version.major, "minor": version.minor, "micro": version.micro],
                        "package": "PCEmu \(HelpText.version)"] as [String: Any]
            },
            QMPCommand(name: "query-name", parameters: []) { _ in
                machine.configuration.name.map { ["name": $0] } ?? empty
            },
            QMPCommand(name: "query-block", parameters: []) { [unowned self] _ throws(QMPError) in
                do throws(MonitorError) {
                    return try control.blockDevices().map(QMPCommands.blockInfo)
                } catch {
                    throw .generic(error.message)
                }
            },
            QMPCommand(name: "stop", parameters: []) { [unowned self] _ in control.stop(); return empty },
            QMPCommand(name: "cont", parameters: []) { [unowned self] _ in control.cont(); return empty },
            QMPCommand(name: "system_reset", parameters: []) { [unowned self] _ in control.systemReset(); return empty },
            QMPCommand(name: "system_powerdown", parameters: []) { [unowned self] _ in control.powerDown(); return empty },
            QMPCommand(name: "quit", parameters: [], run: { _ in empty }, afterReply: { [unowned self] in control.quit() }),
            QMPCommand(name: "screendump", parameters: ["filename", "format", "device", "head"]) { [unowned self] arguments throws(QMPError) in
                try screenDump(arguments)
            },
            QMPCommand(name: "human-monitor-command", parameters: ["command-line", "cpu-index"]) { [unowned self] arguments throws(QMPError) in
                let output = hmp.execute(try arguments.string("command-line")).output
                // The monitor's text as QEMU returns it: CR LF line ends.
                return output.isEmpty ? "" : output.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"
            },
            QMPCommand(name: "migrate", parameters: ["uri", "blk", "inc", "detach", "resume"]) { [unowned self] arguments throws(QMPError) in
                try migrate(arguments)
                return empty
            },
            QMPCommand(name: "query-migrate", parameters: []) { [unowned self] _ in
                // QEMU's shape: nothing before the first migration, then its status.
                migrationStatus.map { ["status": $0] as [String: Any] } ?? empty
            },
            QMPCommand(name: "send-key", parameters: ["keys", "hold-time"]) { [unowned self] arguments throws(QMPError) in
                try input.sendKey(arguments)
                return empty
            },
            QMPCommand(name: "input-send-event", parameters: ["device", "head", "events"]) { [unowned self] arguments throws(QMPError) in
                try input.sendEvents(arguments)
                return empty
            },
            QMPCommand(name: "blockdev-change-medium", parameters: ["device", "id", "filename", "format", "force", "read-only-mode"]) {
                [unowned self] arguments throws(QMPError) in
                var format: DiskImage.Format?
                if let name = try arguments.optionalString("format") {
                    guard let known = DiskImage.Format(rawValue: name) else { throw .generic("Unknown driver '\(name)'") }
                    format = known
                }
                // The tray has no lock to force; CD drives refuse read-write.
                var readOnly: Bool?
                switch try arguments.optionalString("read-only-mode") {
                case nil, "retain": readOnly = nil
                case "read-only": readOnly = true
                case "read-write": readOnly = false
                case let mode?: throw .generic("Parameter 'read-only-mode' does not accept value '\(mode)'")
                }
                _ = try arguments.optionalBool("force")
                try changeMedium(arguments, path: try arguments.string("filename"), format: format, readOnly: readOnly)
                return empty
            },
            QMPCommand(name: "eject", parameters: ["device", "id", "force"]) { [unowned self] arguments throws(QMPError) in
                // force changes nothing: no guest can lock a tray yet.
                _ = try arguments.optionalBool("force")
                try changeMedium(arguments, path: nil, format: nil)
                return empty
            },
        ] + jobs.commands {
            table[command.name] = command
        }
    }

    /// Runs a negotiated client's command: its reply value, or the error to send.
    func execute(_ request: QMPRequest) -> Result<(value: Any, afterReply: (() -> Void)?), QMPError> {
        guard let command = table[request.command] else {
            return .failure(QMPError(errorClass: .commandNotFound, desc: "The command \(request.command) has not been found"))
        }
        let arguments = QMPArguments(values: request.arguments)
        do throws(QMPError) {
            try arguments.allowOnly(command.parameters)
            return .success((try command.run(arguments), command.afterReply))
        } catch {
            return .failure(error)
        }
    }

    /// query-block's entry for one drive, in QEMU's shape.
    static func blockInfo(_ device: BlockDeviceInfo) -> [String: Any] {
        var entry: [String: Any] = ["device": device.name, "locked": false, "removable": device.removable]
        if device.removable { entry["tray_open"] = false }
        if let path = device.path {
            let format = device.format ?? "raw"
            entry["inserted"] = [
                "file": path, "ro": device.readOnly, "drv": format, "backing_file_depth": 0, "encrypted": false,
                "image": ["filename": path, "format": format] as [String: Any],
            ] as [String: Any]
        }
        return entry
    }

    private func screenDump(_ arguments: QMPArguments) throws(QMPError) -> Any {
        let path = try arguments.string("filename")
        var png = false
        switch try arguments.optionalString("format") {
        case nil, "ppm": png = false
        case "png": png = true
        case let other?: throw .generic("Parameter 'format' does not accept value '\(other)'")
        }
        if let device = try arguments.optionalString("device"), device != "vga" {
            throw .generic("Device '\(device)' not found (the only display is 'vga')")
        }
        if let head = try arguments.optionalInt("head"), head != 0 { throw .generic("Head '\(head)' does not exist") }
        do {
            try control.screenDump(to: path, png: png)
        } catch {
            throw .generic(error.message)
        }
        return [String: Any]()
    }

    /// blockdev-change-medium and eject: the drive by `device` or `id`.
    /// The last migration's end, for query-migrate.
    private var migrationStatus: String?

    /// migrate {uri}: the state is written before the reply, so a client
    /// sees "completed" at once (or the error).
    private func migrate(_ arguments: QMPArguments) throws(QMPError) {
        let endpoint: MigrationEndpoint
        do { endpoint = try MigrationEndpoint(try arguments.string("uri"), option: "migrate") } catch let error as QMPError {
            throw error
        } catch {
            throw .generic("\(error)")
        }
        do {
            try control.migrate(to: endpoint)
            migrationStatus = "completed"
        } catch {
            migrationStatus = "failed"
            throw .generic(error.message)
        }
    }

    private func changeMedium(_ arguments: QMPArguments, path: String?, format: DiskImage.Format?, readOnly: Bool? = nil) throws(QMPError) {
        let byDevice = try arguments.optionalString("device")
        let byID = try arguments.optionalString("id")
        guard let device = byDevice ?? byID else {
            throw .generic("Need exactly one of 'device' and 'id'")
        }
        do {
            try control.changeMedium(device: device, path: path, format: format, readOnly: readOnly)
        } catch {
            throw .generic(error.message)
        }
    }
}

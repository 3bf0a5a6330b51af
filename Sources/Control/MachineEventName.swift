import Machine

/// A machine event as QMP names it, with its data (QEMU's shapes).
struct MachineEventName {
    let name: String
    let data: [String: Any]?

    init(_ event: MachineEvent) {
        switch event {
        case .stop: (name, data) = ("STOP", nil)
        case .resume: (name, data) = ("RESUME", nil)
        case .powerdown: (name, data) = ("POWERDOWN", nil)
        case let .reset(cause): (name, data) = ("RESET", ["guest": cause.byGuest, "reason": cause.rawValue])
        case let .shutdown(cause): (name, data) = ("SHUTDOWN", ["guest": cause.byGuest, "reason": cause.rawValue])
        case let .jobStatusChange(id, status): (name, data) = ("JOB_STATUS_CHANGE", ["id": id, "status": status])
        }
    }
}

/// Every device of one machine under the name it was wired as ("pic", "com1",
/// "ne2k_pci.0"), in the order the machine built them. The machine's reset is
/// a reset of each in that order; snapshots save and load through it; `info`
/// lists it.
public final class DeviceRegistry {
    public struct Entry {
        public let name: String
        public let device: MachineDevice
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    /// Adds `device` as `name`. A name is used once (a second would make a
    /// snapshot ambiguous), and so is a device.
    public func register(_ device: MachineDevice, as name: String) {
        precondition(!entries.contains { $0.name == name }, "device name \(name) registered twice")
        precondition(!entries.contains { $0.device === device }, "device \(name) registered twice")
        entries.append(Entry(name: name, device: device))
    }

    public func device(named name: String) -> MachineDevice? {
        entries.first { $0.name == name }?.device
    }

    /// Resets every device in the order they were registered.
    public func resetAll() {
        for entry in entries { entry.device.reset() }
    }

    /// One line per device: its name, and its type (for `info`).
    public var listing: [String] {
        entries.map { "\($0.name): \(String(describing: type(of: $0.device)))" }
    }

    /// Whether `part` (a port or MMIO handler) belongs to a registered device.
    public func owns(_ part: AnyObject) -> Bool {
        entries.contains { entry in entry.device.busParts.contains { $0 === part } }
    }

    /// The devices whose state cannot be saved yet.
    public var devicesWithoutState: [String] {
        entries.flatMap { entry -> [String] in
            guard let stateful = entry.device as? StatefulDevice else { return [entry.name] }
            return stateful.partsWithoutState.map { "\(entry.name)/\($0)" }
        }
    }

    // MARK: Saving and loading

    public static let machineRecordName = "machine"
    public static let machineRecordVersion: UInt32 = 1

    /// The whole machine's state: one record per device, under its name.
    /// Refuses while some registered device cannot save its state.
    public func save() throws -> StateRecord {
        let missing = devicesWithoutState
        guard missing.isEmpty else {
            throw StateRecordError.damaged("cannot save the state of: \(missing.joined(separator: ", "))")
        }
        var machine = StateRecord(name: DeviceRegistry.machineRecordName, version: DeviceRegistry.machineRecordVersion)
        for entry in entries {
            machine.put(entry.name, (entry.device as! StatefulDevice).savedState())
        }
        return machine
    }

    /// Loads a machine record saved by `save()`. The record must name exactly
    /// the devices registered here (another configuration is refused); when a
    /// device refuses its part, every device gets back the state it had
    /// before, so a failed load changes nothing.
    public func load(_ machine: StateRecord) throws {
        try machine.expect(DeviceRegistry.machineRecordName, version: DeviceRegistry.machineRecordVersion)
        let saved = Set(machine.fields.map(\.name)), here = Set(entries.map(\.name))
        if let extra = saved.subtracting(here).sorted().first {
            throw StateRecordError.wrongRecord(expected: "a device of this machine", found: extra)
        }
        if let missing = here.subtracting(saved).sorted().first {
            throw StateRecordError.missingField(record: DeviceRegistry.machineRecordName, field: missing)
        }
        // Copied: RAM lends its pages, and the load is about to change them.
        let before = try save().materialized()
        do {
            for entry in entries {
                try (entry.device as! StatefulDevice).loadState(try machine.record(entry.name))
            }
        } catch {
            for entry in entries {
                try? (entry.device as! StatefulDevice).loadState(try before.record(entry.name))
            }
            throw error
        }
    }
}

/// One part of the machine's state, as the machine's `DeviceRegistry` sees it:
/// each chip, the CPU, RAM, the clock. Reset puts it in its power-on state.
public protocol MachineDevice: AnyObject {
    /// Back to the power-on state (what a machine reset does to this part).
    func reset()
    /// The objects this device attached to the port bus or the address space
    /// (itself and any port windows of its own), so the machine can check that
    /// nothing on a bus is missing from the registry.
    var busParts: [AnyObject] { get }
}

extension MachineDevice {
    public var busParts: [AnyObject] { [self] }
}

/// A device whose state can be saved and loaded: the registers the guest can
/// see, its buffers and its armed timers (as time left on the virtual clock,
/// see `StateRecord.putTimer`).
public protocol StatefulDevice: MachineDevice {
    /// The layout's version; bumped whenever fields change meaning or go away.
    static var stateVersion: UInt32 { get }
    /// The record's name for this kind of device (the registry names the instance).
    static var stateName: String { get }
    func save(into record: inout StateRecord)
    /// Takes the state from `record`, which must be this device's at
    /// `stateVersion`. On an error the device may be left half-loaded: the
    /// registry restores what it saved before (see `DeviceRegistry.load`).
    func load(from record: StateRecord) throws
    /// Parts inside this device whose state cannot be saved yet (a bus names
    /// its functions), so the registry refuses to save an incomplete machine.
    var partsWithoutState: [String] { get }
}

extension StatefulDevice {
    public var partsWithoutState: [String] { [] }

    /// A fresh record for this device's state.
    public func makeRecord() -> StateRecord {
        StateRecord(name: Self.stateName, version: Self.stateVersion)
    }

    /// The device's state as one record.
    public func savedState() -> StateRecord {
        var record = makeRecord()
        save(into: &record)
        return record
    }

    /// Checks the record's name and version, then loads it.
    public func loadState(_ record: StateRecord) throws {
        try record.expect(Self.stateName, version: Self.stateVersion)
        try load(from: record)
    }
}

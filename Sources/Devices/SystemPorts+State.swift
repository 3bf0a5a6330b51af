import Lifecycle

// Saved state of the small system ports: one register each, or none.

/// Port 0x92's last value. A20 itself is the CPU's (its address mask).
extension SystemControlPortA: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "port-92"

    public func save(into record: inout StateRecord) { record.put("value", state.value) }
    public func load(from record: StateRecord) throws { state.value = try record.unsigned("value") }
}

/// Port 0xCF9's stored bits.
extension ResetControlRegister: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "reset-control"

    public func save(into record: inout StateRecord) { record.put("value", state.value) }
    public func load(from record: StateRecord) throws { state.value = try record.unsigned("value") }
}

/// Port 0x61's written bits (counter 2's gate is also saved by the PIT).
extension SystemControlPortB: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "port-61"

    public func save(into record: inout StateRecord) { record.put("control", state.control) }

    public func load(from record: StateRecord) throws {
        let control: UInt8 = try record.unsigned("control")
        let wasOn = speakerEnabled
        state.control = control & Bit.writable
        if speakerEnabled != wasOn { speakerChanged(speakerEnabled) }
    }
}

/// FERR#'s latch on IRQ 13.
extension CoprocessorErrorPort: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "fpu-error"

    public func save(into record: inout StateRecord) { record.put("irq13", irq13.level) }
    public func load(from record: StateRecord) throws { irq13.set(try record.bool("irq13")) }
}

/// GPE0's status and enable words.
extension ACPIGPEBlock: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "acpi-gpe0"

    public func save(into record: inout StateRecord) {
        record.put("status", status)
        record.put("enable", enable)
    }

    public func load(from record: StateRecord) throws {
        let loadedStatus: UInt16 = try record.unsigned("status"), loadedEnable: UInt16 = try record.unsigned("enable")
        status = loadedStatus
        enable = loadedEnable
    }
}

/// The debug console has no register: its state is empty, its back end is configuration.
extension DebugConsole: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "debugcon"

    public func save(into record: inout StateRecord) {}
    public func load(from record: StateRecord) throws {}
}

/// No slot or CPU ever comes or goes: nothing to save.
extension HotplugStatusPorts: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "acpi-hotplug"

    public func save(into record: inout StateRecord) {}
    public func load(from record: StateRecord) throws {}
}

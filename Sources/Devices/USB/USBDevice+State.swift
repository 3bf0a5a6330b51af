import Lifecycle

/// A USB device's state is saved by the controller it is plugged into, in
/// the record of the port it sits on: the controller's record then holds
/// everything behind its ports, and a device is known by its port and its
/// name ("usb-tablet"), which stay the same from one run to the next.
public protocol USBDeviceState: USBDevice {
    static var deviceStateVersion: UInt32 { get }
    func saveDevice(into record: inout StateRecord)
    /// Checks `record` whole, changing nothing; the closure returned takes it.
    func prepareDeviceLoad(_ record: StateRecord) throws -> () -> Void
}

extension USBDevice {
    static let portStateName = "usb-port"
    /// More than any reply of the control pipe (a descriptor of wLength).
    static let maximumControlBuffer = 0xFFFF

    /// Each port's record: whether a device is there and, if so, its state.
    static func savedPorts(_ devices: [USBDevice?]) -> [StateRecord] {
        devices.map { device in
            var port = StateRecord(name: portStateName, version: 1)
            port.put("device", device?.name ?? "")
            if let stateful = device as? USBDeviceState {
                var saved = StateRecord(name: stateful.name, version: type(of: stateful).deviceStateVersion)
                stateful.saveDevice(into: &saved)
                port.put("state", saved)
            }
            return port
        }
    }

    /// The devices' loads, checked: another device (or none) on a port is another configuration.
    static func preparePortsLoad(_ devices: [USBDevice?], _ records: [StateRecord], controller: String) throws -> [() -> Void] {
        guard records.count == devices.count else {
            throw StateRecordError.configurationMismatch(record: controller, reason: "saved with \(records.count) ports, not \(devices.count)")
        }
        return try zip(devices, records).enumerated().compactMap { index, pair in
            let (device, port) = pair
            try port.expect(portStateName, version: 1)
            guard try port.string("device") == device?.name ?? "" else {
                throw StateRecordError.configurationMismatch(record: controller, reason: "port \(index + 1) held another USB device")
            }
            guard let device else { return nil }
            guard let stateful = device as? USBDeviceState else {
                throw StateRecordError.damaged("cannot load the state of USB device \(device.name)")
            }
            let saved = try port.record("state")
            try saved.expect(device.name, version: type(of: stateful).deviceStateVersion)
            return try stateful.prepareDeviceLoad(saved)
        }
    }

    /// What every device has: its address, configuration, halted endpoints
    /// and the control pipe's transfer under way.
    func saveBusState(into record: inout StateRecord) {
        record.put("address", address)
        record.put("configuration", configuration)
        record.put("haltedEndpoints", haltedEndpoints)
        let (code, expected): (UInt8, Int) = switch stage {
        case .idle: (0, 0)
        case .dataIn: (1, 0)
        case let .dataOut(count): (2, count)
        case .statusIn: (3, 0)
        case .stalled: (4, 0)
        }
        record.put("stage", code)
        record.put("expected", expected)
        record.put("setup", setup.bytes)
        record.put("controlBuffer", controlBuffer)
        record.put("controlOffset", controlOffset)
        record.put("hasPendingAddress", pendingAddress != nil)
        record.put("pendingAddress", pendingAddress ?? 0)
    }

    func prepareBusStateLoad(_ record: StateRecord) throws -> () -> Void {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: record.name, field: field) }
        let loadedAddress: UInt8 = try record.unsigned("address")
        guard loadedAddress < 128 else { throw refuse("address") }
        let loadedConfiguration: UInt8 = try record.unsigned("configuration")
        guard loadedConfiguration == 0 || loadedConfiguration == descriptors.configurationValue else { throw refuse("configuration") }
        let halted: UInt16 = try record.unsigned("haltedEndpoints")
        let expected = try record.int("expected", in: 0...USBDevice.maximumControlBuffer)
        let loadedStage: ControlStage
        switch try record.unsigned("stage", as: UInt8.self) {
        case 0: loadedStage = .idle
        case 1: loadedStage = .dataIn
        case 2: loadedStage = .dataOut(expected: expected)
        case 3: loadedStage = .statusIn
        case 4: loadedStage = .stalled
        default: throw refuse("stage")
        }
        let setupBytes = try record.bytes("setup", count: 8)
        let buffer = try record.bytes("controlBuffer")
        guard buffer.count <= USBDevice.maximumControlBuffer else { throw refuse("controlBuffer") }
        let offset = try record.int("controlOffset", in: 0...buffer.count)
        let pending: UInt8 = try record.unsigned("pendingAddress")
        guard pending < 128 else { throw refuse("pendingAddress") }
        let hasPending = try record.bool("hasPendingAddress")
        return { [unowned self] in
            address = loadedAddress
            configuration = loadedConfiguration
            haltedEndpoints = halted
            stage = loadedStage
            setup = setupBytes.withUnsafeBytes { USBSetup($0) }
            controlBuffer = buffer
            controlOffset = offset
            pendingAddress = hasPending ? pending : nil
        }
    }
}

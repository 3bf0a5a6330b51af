import Lifecycle

/// The address register and each function's record under its place on the
/// bus ("01.3"). A loaded function's BARs are mapped where its saved
/// configuration says. The interrupt router is loaded last, so its own
/// saved counts of asserted PIRQs are what it keeps.
extension PCIBus: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "pci-bus"

    static func place(_ slot: Int, _ function: Int) -> String {
        (slot < 10 ? "0" : "") + "\(slot).\(function)"
    }

    public var partsWithoutState: [String] {
        pluggedFunctions.filter { !($0.device is PCIFunctionState) }.map(\.device.name)
    }

    public func save(into record: inout StateRecord) {
        record.put("address", state.address)
        for (slot, function, device) in pluggedFunctions {
            guard let stateful = device as? PCIFunctionState else { continue }
            var saved = StateRecord(name: device.name, version: type(of: stateful).functionStateVersion)
            stateful.saveFunction(into: &saved)
            record.put(PCIBus.place(slot, function), saved)
        }
    }

    public func load(from record: StateRecord) throws {
        let address: UInt32 = try record.unsigned("address")
        guard address & ~Address.writable == 0 else { throw StateRecordError.outOfRange(record: PCIBus.stateName, field: "address") }
        let places = Set(pluggedFunctions.map { PCIBus.place($0.slot, $0.function) })
        if let extra = record.fields.map(\.name).first(where: { $0 != "address" && !places.contains($0) }) {
            throw StateRecordError.wrongRecord(expected: "a PCI function of this machine", found: extra)
        }
        var appliers: [() -> Void] = [], routerApplier: (() -> Void)?
        for (slot, function, device) in pluggedFunctions {
            guard let stateful = device as? PCIFunctionState else {
                throw StateRecordError.damaged("cannot load the state of PCI function \(device.name)")
            }
            let saved = try record.record(PCIBus.place(slot, function))
            try saved.expect(device.name, version: type(of: stateful).functionStateVersion)
            let apply = try stateful.prepareFunctionLoad(saved)
            if device === interruptRouter { routerApplier = apply } else { appliers.append(apply) }
        }
        state.address = address
        for apply in appliers { apply() }
        routerApplier?()
    }
}

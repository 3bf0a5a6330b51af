import Lifecycle

/// The IDE function: its configuration space (BAR4 maps the bus master
/// ports again on load), both channels with their devices, both bus masters.
/// Both kinds of device (`ATADrive`, `ATAPIDrive`) save their state.
extension PIIX3IDE: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1

    public func saveFunction(into record: inout StateRecord) {
        saveConfigSpace(into: &record)
        record.put("channels", channels.map { $0.save() })
        record.put("busMasters", busMasters.map { $0.save() })
    }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        let config = try checkedConfigSpace(record)
        let savedChannels = try record.records("channels", count: channels.count)
        let savedMasters = try record.records("busMasters", count: busMasters.count)
        let appliers = try zip(channels, savedChannels).map { try $0.prepareLoad($1) }
            + zip(busMasters, savedMasters).map { try $0.prepareLoad($1) }
        return { [unowned self] in
            apply(config)
            for apply in appliers { apply() }
        }
    }
}

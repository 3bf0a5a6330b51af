import Lifecycle

/// The RTL8029's configuration space (BAR 0 moves the ports where it says)
/// and its DP8390.
extension NE2000PCI: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1

    public func saveFunction(into record: inout StateRecord) {
        saveConfigSpace(into: &record)
        record.put("chip", chip.savedChip())
    }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        let saved = try checkedConfigSpace(record)
        let loadChip = try chip.prepareChipLoad(try record.record("chip"))
        return { [unowned self] in
            apply(saved)
            // The chip last: its interrupt level is what INTA# carries.
            loadChip()
        }
    }
}

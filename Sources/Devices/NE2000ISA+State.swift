import Lifecycle

/// The ISA board is its DP8390; its port base and IRQ are jumpers (the
/// configuration), so the record holds the chip alone.
extension NE2000ISA: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "ne2k_isa"

    public func save(into record: inout StateRecord) {
        record.put("chip", chip.savedChip())
    }

    public func load(from record: StateRecord) throws {
        try chip.prepareChipLoad(try record.record("chip"))()
    }
}

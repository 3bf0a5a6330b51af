import Timing

/// The virtual clock as a device: its state is the guest time. Loading sets
/// `now` to the saved time; in host mode the clock then runs on from there.
extension VirtualClock: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "clock"

    /// The clock keeps running across a machine reset, as wall time does.
    public func reset() {}

    public var busParts: [AnyObject] { [] }

    public func save(into record: inout StateRecord) {
        record.put("now", now)
    }

    public func load(from record: StateRecord) throws {
        set(now: try record.signed("now"))
    }
}

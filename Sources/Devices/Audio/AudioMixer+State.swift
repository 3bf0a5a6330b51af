import Lifecycle

/// The mixer holds nothing the guest set: what it has made so far and its
/// buffers are the host's side of the sound. It is a device so that a load
/// moves its pacing to the loaded clock: its next period is armed from the
/// loaded now, not from a time of the timeline before the load.
extension AudioMixer: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "audio-mixer"

    /// Mixing goes on across a machine reset.
    public func reset() {}
    public var busParts: [AnyObject] { [] }

    public func save(into record: inout StateRecord) {}

    /// An idle mixer starts again too: a source loaded playing may not have
    /// woken it (the devices load in any order), and with nothing playing it
    /// rests again after its quiet periods.
    public func load(from record: StateRecord) throws {
        if isIdle {
            wake()
        } else if timer.isPending {
            start()
        }
    }
}

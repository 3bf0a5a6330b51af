import Devices
import Lifecycle

/// The shadow areas' mapping is a function of the i440FX's PAM registers,
/// which the PCI bus's record holds; loading those remaps every area. The
/// RAM under the areas is RAM's. So this record has no fields of its own.
extension ShadowMemory: StatefulDevice {
    static let stateVersion: UInt32 = 1
    static let stateName = "pam-shadow"

    func save(into record: inout StateRecord) {}
    func load(from record: StateRecord) throws {}
}

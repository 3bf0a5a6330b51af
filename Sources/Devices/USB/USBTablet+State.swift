import Lifecycle

/// The tablet: the HID state and the absolute position and buttons last reported.
extension USBTablet: USBDeviceState {
    public static let deviceStateVersion: UInt32 = 1

    public func saveDevice(into record: inout StateRecord) {
        saveHIDState(into: &record)
        record.put("x", x)
        record.put("y", y)
        record.put("buttons", buttons.rawValue)
    }

    public func prepareDeviceLoad(_ record: StateRecord) throws -> () -> Void {
        let loadHID = try prepareHIDStateLoad(record)
        let loadedX = try record.int("x", in: 0...USBTablet.maximumCoordinate)
        let loadedY = try record.int("y", in: 0...USBTablet.maximumCoordinate)
        let held = try USBPointerButtons.loaded(record, "buttons")
        return { [unowned self] in
            loadHID()
            x = loadedX
            y = loadedY
            buttons = held
        }
    }
}

import Lifecycle

/// The keyboard: the HID state, the LEDs the host set, and the modifiers
/// and keys held (at most six, the rest roll over).
extension USBKeyboard: USBDeviceState {
    public static let deviceStateVersion: UInt32 = 1

    public func saveDevice(into record: inout StateRecord) {
        saveHIDState(into: &record)
        record.put("leds", leds)
        record.put("modifiers", modifiers)
        record.put("keys", keys)
    }

    public func prepareDeviceLoad(_ record: StateRecord) throws -> () -> Void {
        let loadHID = try prepareHIDStateLoad(record)
        let loadedLEDs: UInt8 = try record.unsigned("leds")
        guard loadedLEDs & ~0x1F == 0 else { throw StateRecordError.outOfRange(record: record.name, field: "leds") }
        let loadedModifiers: UInt8 = try record.unsigned("modifiers")
        let loadedKeys = try record.bytes("keys")
        guard loadedKeys.count <= USBKeyboard.maximumKeys else { throw StateRecordError.outOfRange(record: record.name, field: "keys") }
        return { [unowned self] in
            loadHID()
            leds = loadedLEDs
            modifiers = loadedModifiers
            keys = loadedKeys
        }
    }
}

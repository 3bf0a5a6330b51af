import Lifecycle

/// The mouse: the HID state, motion and wheel not yet reported, the
/// buttons held and as last reported, and whether the host polls it.
extension USBMouse: USBDeviceState {
    public static let deviceStateVersion: UInt32 = 1
    static let motionLimit = 1 << 20

    public func saveDevice(into record: inout StateRecord) {
        saveHIDState(into: &record)
        record.put("dx", dx)
        record.put("dy", dy)
        record.put("wheel", wheel)
        record.put("buttons", buttons.rawValue)
        record.put("reportedButtons", reportedButtons.rawValue)
        record.put("polled", polled)
    }

    public func prepareDeviceLoad(_ record: StateRecord) throws -> () -> Void {
        let loadHID = try prepareHIDStateLoad(record)
        let limit = -USBMouse.motionLimit...USBMouse.motionLimit
        let motion = (try record.int("dx", in: limit), try record.int("dy", in: limit), try record.int("wheel", in: limit))
        let held = try USBPointerButtons.loaded(record, "buttons"), reported = try USBPointerButtons.loaded(record, "reportedButtons")
        let loadedPolled = try record.bool("polled")
        return { [unowned self] in
            loadHID()
            (dx, dy, wheel) = motion
            buttons = held
            reportedButtons = reported
            polled = loadedPolled
        }
    }
}

extension USBPointerButtons {
    /// Three buttons: another bit is out of range.
    static func loaded(_ record: StateRecord, _ field: String) throws -> USBPointerButtons {
        let raw: UInt8 = try record.unsigned(field)
        guard raw & ~7 == 0 else { throw StateRecordError.outOfRange(record: record.name, field: field) }
        return USBPointerButtons(rawValue: raw)
    }
}

import Lifecycle

/// What every HID device adds to the bus state: the protocol (boot or
/// report), the idle rate and the reports queued for the interrupt endpoint.
extension USBHIDDevice {
    /// No report of these devices is longer.
    static let maximumReportBytes = 64

    func saveHIDState(into record: inout StateRecord) {
        saveBusState(into: &record)
        record.put("protocolMode", enumValue: protocolMode)
        record.put("idleRate", idleRate)
        record.put("queue", queue.map { report in
            var saved = StateRecord(name: "hid-report", version: 1)
            saved.put("bytes", report)
            return saved
        })
    }

    func prepareHIDStateLoad(_ record: StateRecord) throws -> () -> Void {
        let loadBus = try prepareBusStateLoad(record)
        let mode = try record.enumValue("protocolMode", as: ProtocolMode.self)
        let rate: UInt8 = try record.unsigned("idleRate")
        let saved = try record.records("queue")
        guard saved.count <= USBHIDDevice.queueCapacity else { throw StateRecordError.outOfRange(record: record.name, field: "queue") }
        let reports = try saved.map { report in
            try report.expect("hid-report", version: 1)
            let bytes = try report.bytes("bytes")
            guard bytes.count <= USBHIDDevice.maximumReportBytes else { throw StateRecordError.outOfRange(record: "hid-report", field: "bytes") }
            return bytes
        }
        return { [unowned self] in
            loadBus()
            protocolMode = mode
            idleRate = rate
            queue = reports
        }
    }
}

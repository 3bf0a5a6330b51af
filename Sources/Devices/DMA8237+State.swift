import Lifecycle

/// Both controllers (each channel's base and current address and count and
/// its mode; command, status, requests, masks, the byte flip-flop) and the
/// page registers.
extension DMA8237: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "i8237-pair"

    public func save(into record: inout StateRecord) {
        record.put("slave", DMA8237.save(slave))
        record.put("master", DMA8237.save(master))
        record.put("pages", pages.bytes)
    }

    public func load(from record: StateRecord) throws {
        let slaveRecord = try record.record("slave"), masterRecord = try record.record("master")
        let pageBytes = try record.bytes("pages", count: DMAPageRegisters.portCount)
        // Check both before changing either.
        _ = try DMA8237.decode(slaveRecord, name: slave.name)
        _ = try DMA8237.decode(masterRecord, name: master.name)
        try DMA8237.decode(slaveRecord, name: slave.name)(slave)
        try DMA8237.decode(masterRecord, name: master.name)(master)
        pages.bytes = pageBytes
    }

    static func save(_ controller: Controller) -> StateRecord {
        var record = StateRecord(name: controller.name, version: 1)
        record.put("channels", controller.channels.map { channel in
            var saved = StateRecord(name: "channel", version: 1)
            saved.put("baseAddress", channel.baseAddress)
            saved.put("baseCount", channel.baseCount)
            saved.put("currentAddress", channel.currentAddress)
            saved.put("currentCount", channel.currentCount)
            saved.put("mode", channel.mode)
            return saved
        })
        record.put("command", controller.command)
        record.put("status", controller.status)
        record.put("request", controller.request)
        record.put("mask", controller.mask)
        record.put("temporary", controller.temporary)
        record.put("flipFlop", controller.flipFlop)
        return record
    }

    /// Reads a controller's record completely, then returns what applies it.
    static func decode(_ record: StateRecord, name: String) throws -> (Controller) -> Void {
        try record.expect(name, version: 1)
        let channels = try record.records("channels", count: 4).map { saved in
            try saved.expect("channel", version: 1)
            var channel = Channel()
            channel.baseAddress = try saved.unsigned("baseAddress")
            channel.baseCount = try saved.unsigned("baseCount")
            channel.currentAddress = try saved.unsigned("currentAddress")
            channel.currentCount = try saved.unsigned("currentCount")
            channel.mode = try saved.unsigned("mode")
            return channel
        }
        let command: UInt8 = try record.unsigned("command"), status: UInt8 = try record.unsigned("status")
        let request: UInt8 = try record.unsigned("request"), mask: UInt8 = try record.unsigned("mask")
        let temporary: UInt8 = try record.unsigned("temporary"), flipFlop = try record.bool("flipFlop")
        return { controller in
            controller.channels = channels
            controller.command = command
            controller.status = status
            controller.request = request
            controller.mask = mask & 0x0F
            controller.temporary = temporary
            controller.flipFlop = flipFlop
        }
    }
}

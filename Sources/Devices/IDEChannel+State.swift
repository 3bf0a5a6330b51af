import Lifecycle

/// The device control register, the pending interrupt, the channel's own
/// task file (device select) and each connected device's record.
extension IDEChannel {
    func save() -> StateRecord {
        var record = StateRecord(name: name, version: 1)
        record.put("control", control)
        record.put("interruptPending", interruptPending)
        record.put("taskFile", taskFile.savedBytes)
        for (index, device) in devices.enumerated() {
            if let device = device as? IDEDeviceState { record.put("device\(index)", device.save()) }
        }
        return record
    }

    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect(name, version: 1)
        let newControl: UInt8 = try record.unsigned("control")
        let pending = try record.bool("interruptPending")
        let file = try record.bytes("taskFile", count: 11)
        var appliers: [() -> Void] = []
        for (index, device) in devices.enumerated() {
            let field = "device\(index)"
            guard let device else {
                // No device here: the record must not name one.
                if record.contains(field) { throw StateRecordError.wrongRecord(expected: "no device at \(name) \(index)", found: field) }
                continue
            }
            guard let stateful = device as? IDEDeviceState else {
                throw StateRecordError.damaged("cannot load the state of \(type(of: device)) on \(name)")
            }
            let saved = try record.record(field)
            guard saved.name == stateful.stateName else {
                throw StateRecordError.wrongRecord(expected: stateful.stateName, found: saved.name)
            }
            appliers.append(try stateful.prepareLoad(saved))
        }
        return { [unowned self] in
            control = newControl
            interruptPending = pending
            taskFile.restore(file)
            for apply in appliers { apply() }
            updateInterruptLine()
        }
    }
}

/// The bus master's registers and where its walk through the PRD table stands.
extension BusMasterChannel {
    func save() -> StateRecord {
        var record = StateRecord(name: "bus-master", version: 1)
        record.put("command", command)
        record.put("status", status)
        record.put("prdTable", prdTable)
        record.put("prdIndex", prdIndex)
        record.put("segmentAddress", segmentAddress)
        record.put("segmentRemaining", segmentRemaining)
        record.put("tableEnded", tableEnded)
        return record
    }

    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect("bus-master", version: 1)
        let newCommand: UInt8 = try record.unsigned("command"), newStatus: UInt8 = try record.unsigned("status")
        let table: UInt32 = try record.unsigned("prdTable")
        let index = try record.int("prdIndex", in: 0...BusMasterChannel.maximumPRDs)
        let address: UInt32 = try record.unsigned("segmentAddress")
        // A PRD's byte count is at most 64 KiB.
        let remaining = try record.int("segmentRemaining", in: 0...0x10000)
        let ended = try record.bool("tableEnded")
        return { [unowned self] in
            (command, status, prdTable) = (newCommand, newStatus, table)
            (prdIndex, segmentAddress, segmentRemaining, tableEnded) = (index, address, remaining, ended)
        }
    }
}

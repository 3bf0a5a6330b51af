import Lifecycle

/// The CD-ROM drive's registers, its sense data and medium-changed flag, DMA
/// modes, a packet being received, and the reply under way (small replies
/// as bytes, medium reads as an offset into the disc). The disc is the
/// block back-end's; whether one is in is saved and must match.
extension ATAPIDrive: IDEDeviceState {
    var stateName: String { "atapi-cdrom" }

    func save() -> StateRecord {
        var record = StateRecord(name: stateName, version: 1)
        saveCommon(into: &record)
        record.put("hasMedium", medium != nil)
        record.put("senseKey", sense.key)
        record.put("senseCode", sense.code)
        record.put("mediumChanged", mediumChanged)
        record.put("multiwordDMAMode", multiwordDMAMode ?? -1)
        record.put("ultraDMAMode", ultraDMAMode ?? -1)
        record.put("awaitingPacket", awaitingPacket)
        record.put("replyBytes", reply.bytes)
        record.put("replyMediumOffset", reply.mediumOffset.map { Int64(bitPattern: $0) } ?? -1)
        record.put("replyTotal", reply.total)
        record.put("replyProduced", reply.produced)
        record.put("replyByteCountLimit", reply.byteCountLimit)
        record.put("replyUseDMA", reply.useDMA)
        return record
    }

    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect(stateName, version: 1)
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: record.name, field: field) }
        let common = try checkedCommon(record)
        guard try record.bool("hasMedium") == (medium != nil) else {
            throw StateRecordError.configurationMismatch(record: record.name, reason: medium == nil ? "a disc was in, none is here" : "no disc was in, one is here")
        }
        let senseKey: UInt8 = try record.unsigned("senseKey"), senseCode: UInt8 = try record.unsigned("senseCode")
        let changed = try record.bool("mediumChanged")
        let multiword = try IDEDevice.checkedMode(record, "multiwordDMAMode")
        let ultra = try IDEDevice.checkedMode(record, "ultraDMAMode")
        let awaiting = try record.bool("awaitingPacket")
        var loaded = Reply()
        loaded.bytes = try record.bytes("replyBytes")
        guard loaded.bytes.count <= IDEDevice.maximumSavedBuffer else { throw refuse("replyBytes") }
        let offset = try record.signed("replyMediumOffset")
        loaded.total = try record.int("replyTotal", in: 0...Int(Int32.max))
        loaded.produced = try record.int("replyProduced", in: 0...loaded.total)
        if offset >= 0 {
            // A read of the disc stays inside it.
            guard let medium, UInt64(offset) <= medium.byteCount, UInt64(loaded.total) <= medium.byteCount - UInt64(offset) else {
                throw refuse("replyMediumOffset")
            }
            loaded.mediumOffset = UInt64(offset)
        } else {
            guard offset == -1, loaded.total <= loaded.bytes.count else { throw refuse("replyMediumOffset") }
        }
        loaded.byteCountLimit = try record.int("replyByteCountLimit", in: 0...0xFFFE)
        loaded.useDMA = try record.bool("replyUseDMA")
        return { [unowned self] in
            restore(common)
            sense = (senseKey, senseCode)
            mediumChanged = changed
            multiwordDMAMode = multiword
            ultraDMAMode = ultra
            awaitingPacket = awaiting
            reply = loaded
        }
    }
}

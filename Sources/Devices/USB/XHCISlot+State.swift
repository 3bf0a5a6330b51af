import Lifecycle

/// A device slot and its 32 endpoints: each endpoint's state, type, packet
/// size, place on its transfer ring (dequeue pointer, cycle) and the TD
/// under way, as columns of one record. The contexts themselves are in
/// guest RAM, saved with it.
extension XHCISlot {
    static let stateName = "xhci-slot"

    var savedState: StateRecord {
        var record = StateRecord(name: XHCISlot.stateName, version: 1)
        record.put("enabled", enabled)
        record.put("state", state)
        record.put("port", port)
        record.put("context", context)
        record.put("endpointStates", words: endpoints.map(\.state))
        record.put("endpointTypes", words: endpoints.map(\.type))
        record.put("maxPackets", words: endpoints.map { UInt32(truncatingIfNeeded: $0.maxPacket) })
        record.put("dequeues", words: endpoints.map(\.ring.dequeue))
        record.put("cycles", flags: endpoints.map(\.ring.cycle))
        record.put("waitingForData", flags: endpoints.map(\.waitingForData))
        record.put("controlIn", flags: endpoints.map(\.controlIn))
        record.put("transferred", words: endpoints.map { UInt64(truncatingIfNeeded: $0.transferred) })
        record.put("skippingToEndOfTD", flags: endpoints.map(\.skippingToEndOfTD))
        return record
    }

    static func loaded(from record: StateRecord) throws -> XHCISlot {
        try record.expect(stateName, version: 1)
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: stateName, field: field) }
        var slot = XHCISlot()
        slot.enabled = try record.bool("enabled")
        slot.state = try record.unsigned("state")
        guard slot.state <= 3 else { throw refuse("state") }
        slot.port = try record.int("port", in: -1...(XHCI.portCount - 1))
        slot.context = try record.unsigned("context")
        let count = endpointCount
        let states = try record.words("endpointStates", count: count, as: UInt32.self)
        let types = try record.words("endpointTypes", count: count, as: UInt32.self)
        let packets = try record.words("maxPackets", count: count, as: UInt32.self)
        let dequeues = try record.words("dequeues", count: count, as: UInt64.self)
        let cycles = try record.flags("cycles", count: count)
        let waiting = try record.flags("waitingForData", count: count)
        let controlIn = try record.flags("controlIn", count: count)
        let transferred = try record.words("transferred", count: count, as: UInt64.self)
        let skipping = try record.flags("skippingToEndOfTD", count: count)
        guard states.allSatisfy({ $0 <= 4 }) else { throw refuse("endpointStates") }
        guard types.allSatisfy({ $0 <= 7 }) else { throw refuse("endpointTypes") }
        guard packets.allSatisfy({ $0 <= 0xFFFF }) else { throw refuse("maxPackets") }
        guard transferred.allSatisfy({ $0 <= UInt64(UInt32.max) }) else { throw refuse("transferred") }
        for index in 0..<count {
            slot.endpoints[index] = XHCIEndpoint(state: states[index], type: types[index], maxPacket: Int(packets[index]),
                                                 ring: XHCIRingCursor(dequeue: dequeues[index], cycle: cycles[index]),
                                                 waitingForData: waiting[index], controlIn: controlIn[index],
                                                 transferred: Int(transferred[index]), skippingToEndOfTD: skipping[index])
        }
        return slot
    }
}

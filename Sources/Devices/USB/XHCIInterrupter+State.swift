import Lifecycle

/// An interrupter's registers (IMAN, IMOD, ERSTSZ, ERSTBA, ERDP) and the
/// producer's place on its event ring (segment, enqueue pointer, cycle),
/// whether events wait for the interrupt, and when IMOD lets the next one go.
extension XHCIInterrupter {
    static let stateName = "xhci-interrupter"

    var savedState: StateRecord {
        var record = StateRecord(name: XHCIInterrupter.stateName, version: 1)
        record.put("registers", words: [management, moderation, tableSize])
        record.put("addresses", words: [tableBase, dequeue, segmentBase, enqueue])
        record.put("ringReady", ringReady)
        record.put("segment", segment)
        record.put("segmentTRBs", segmentTRBs)
        record.put("indexInSegment", indexInSegment)
        record.put("cycle", cycle)
        record.put("eventsPending", eventsPending)
        record.put("moderationEnd", moderationEnd)
        return record
    }

    /// `now` bounds IMOD's end: no interval is longer than 0xFFFF units.
    static func loaded(from record: StateRecord, now: Int64) throws -> XHCIInterrupter {
        try record.expect(stateName, version: 1)
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: stateName, field: field) }
        let registers = try record.words("registers", count: 3, as: UInt32.self)
        let addresses = try record.words("addresses", count: 4, as: UInt64.self)
        var loaded = XHCIInterrupter()
        (loaded.management, loaded.moderation, loaded.tableSize) = (registers[0], registers[1], registers[2])
        guard loaded.tableSize <= 1 << XHCI.segmentTableMaxExponent else { throw refuse("registers") }
        (loaded.tableBase, loaded.dequeue, loaded.segmentBase, loaded.enqueue) = (addresses[0], addresses[1], addresses[2], addresses[3])
        loaded.ringReady = try record.bool("ringReady")
        loaded.segment = try record.unsigned("segment")
        loaded.segmentTRBs = try record.unsigned("segmentTRBs")
        loaded.indexInSegment = try record.unsigned("indexInSegment")
        guard !loaded.ringReady || loaded.segment < max(loaded.tableSize, 1) else { throw refuse("segment") }
        guard !loaded.ringReady || loaded.indexInSegment < loaded.segmentTRBs else { throw refuse("indexInSegment") }
        loaded.cycle = try record.bool("cycle")
        loaded.eventsPending = try record.bool("eventsPending")
        loaded.moderationEnd = try record.signed("moderationEnd")
        guard loaded.moderationEnd <= now &+ 0xFFFF * nanosecondsPerModerationUnit else { throw refuse("moderationEnd") }
        return loaded
    }
}

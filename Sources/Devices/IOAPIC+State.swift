import Lifecycle

/// The index register, the ID, the 24 redirection entries (remote IRR
/// included) and the inputs' levels. Loading sends no message: what was in
/// flight is in the local APIC's saved IRR.
extension IOAPIC: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "ioapic"

    public func save(into record: inout StateRecord) {
        record.put("select", UInt8(select))
        record.put("id", id)
        record.put("entries", words: entries)
        record.put("levels", flags: levels)
    }

    public func load(from record: StateRecord) throws {
        let newSelect: UInt8 = try record.unsigned("select")
        let newID: UInt32 = try record.unsigned("id")
        guard newID & ~0x0F00_0000 == 0 else { throw StateRecordError.outOfRange(record: IOAPIC.stateName, field: "id") }
        let newEntries = try record.words("entries", count: IOAPIC.pinCount, as: UInt64.self)
        // Only what software writes, plus remote IRR (delivery status is never set).
        guard newEntries.allSatisfy({ $0 & ~(EntryBit.writable | EntryBit.remoteIRR) == 0 }) else {
            throw StateRecordError.outOfRange(record: IOAPIC.stateName, field: "entries")
        }
        let newLevels = try record.flags("levels", count: IOAPIC.pinCount)
        select = UInt32(newSelect)
        id = newID
        entries = newEntries
        levels = newLevels
    }
}

import Lifecycle

/// What every PS/2 device saves besides its own settings: both output queues
/// (oldest byte first) and the last byte sent, for the resend command.
extension PS2Device {
    struct SavedQueues {
        let responses: PS2ByteQueue
        let events: PS2ByteQueue
        let lastSent: UInt8
    }

    func saveQueues(into record: inout StateRecord) {
        record.put("responses", responses.contents)
        record.put("events", events.contents)
        record.put("lastSent", lastSent)
    }

    /// The queues in `record`, checked against this device's capacities.
    func savedQueues(_ record: StateRecord) throws -> SavedQueues {
        guard let responses = PS2ByteQueue(capacity: responses.capacity, contents: try record.bytes("responses")) else {
            throw StateRecordError.outOfRange(record: record.name, field: "responses")
        }
        guard let events = PS2ByteQueue(capacity: events.capacity, contents: try record.bytes("events")) else {
            throw StateRecordError.outOfRange(record: record.name, field: "events")
        }
        return SavedQueues(responses: responses, events: events, lastSent: try record.unsigned("lastSent"))
    }

    func restore(_ queues: SavedQueues) {
        responses = queues.responses
        events = queues.events
        lastSent = queues.lastSent
    }
}

extension StateRecord {
    /// An optional byte (a command waiting for its argument) as 0 or 1 bytes.
    mutating func put(_ field: String, optional byte: UInt8?) { put(field, byte.map { [$0] } ?? []) }

    func optionalByte(_ field: String) throws -> UInt8? {
        let bytes = try bytes(field)
        guard bytes.count <= 1 else { throw StateRecordError.outOfRange(record: name, field: field) }
        return bytes.first
    }
}

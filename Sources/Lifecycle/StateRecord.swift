/// A device's saved state: its name, the version of its layout, and named,
/// typed fields in the order they were put. Records nest, so a machine's state
/// is one tree. Readers look fields up by name and type; anything missing or
/// of another type is a `StateRecordError`, never a guess.
public struct StateRecord: Equatable, Sendable {
    public let name: String
    public let version: UInt32
    public private(set) var fields: [(name: String, value: StateValue)] = []

    public init(name: String, version: UInt32) {
        self.name = name
        self.version = version
    }

    public static func == (a: StateRecord, b: StateRecord) -> Bool {
        a.name == b.name && a.version == b.version && a.fields.count == b.fields.count
            && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    // MARK: Writing

    /// Adds `value` as `field`, replacing an earlier value of that name.
    public mutating func put(_ field: String, _ value: StateValue) {
        if let index = fields.firstIndex(where: { $0.name == field }) {
            fields[index].value = value
        } else {
            fields.append((field, value))
        }
    }

    public mutating func put<T: FixedWidthInteger & UnsignedInteger>(_ field: String, _ value: T) {
        put(field, .unsigned(UInt64(value)))
    }

    public mutating func put(_ field: String, _ value: Int64) { put(field, .signed(value)) }
    public mutating func put(_ field: String, _ value: Int) { put(field, .signed(Int64(value))) }
    public mutating func put(_ field: String, _ value: Bool) { put(field, .bool(value)) }
    public mutating func put(_ field: String, _ value: [UInt8]) { put(field, .bytes(value)) }
    public mutating func put(_ field: String, _ value: String) { put(field, .string(value)) }
    public mutating func put(_ field: String, _ value: StateRecord) { put(field, .record(value)) }
    public mutating func put(_ field: String, _ value: [StateRecord]) { put(field, .records(value)) }

    // MARK: Reading

    /// Throws unless this is `name`'s record at `version`.
    public func expect(_ name: String, version: UInt32) throws {
        guard self.name == name else { throw StateRecordError.wrongRecord(expected: name, found: self.name) }
        guard self.version == version else {
            throw StateRecordError.wrongVersion(record: name, expected: version, found: self.version)
        }
    }

    public func contains(_ field: String) -> Bool { fields.contains { $0.name == field } }

    public func value(_ field: String) throws -> StateValue {
        guard let found = fields.first(where: { $0.name == field }) else {
            throw StateRecordError.missingField(record: name, field: field)
        }
        return found.value
    }

    /// An unsigned field that must fit `T` (a byte register refuses 0x100).
    public func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ field: String, as type: T.Type = T.self) throws -> T {
        let found = try value(field)
        guard case let .unsigned(raw) = found else { throw mismatch(field, "unsigned", found) }
        guard let narrowed = T(exactly: raw) else { throw StateRecordError.outOfRange(record: name, field: field) }
        return narrowed
    }

    public func signed(_ field: String) throws -> Int64 {
        let found = try value(field)
        guard case let .signed(raw) = found else { throw mismatch(field, "signed", found) }
        return raw
    }

    /// A signed field that must lie in `range` (an index, a count).
    public func int(_ field: String, in range: ClosedRange<Int>) throws -> Int {
        let raw = try signed(field)
        guard let narrowed = Int(exactly: raw), range.contains(narrowed) else {
            throw StateRecordError.outOfRange(record: name, field: field)
        }
        return narrowed
    }

    public func bool(_ field: String) throws -> Bool {
        let found = try value(field)
        guard case let .bool(raw) = found else { throw mismatch(field, "bool", found) }
        return raw
    }

    /// A byte field, of exactly `count` bytes when given.
    public func bytes(_ field: String, count: Int? = nil) throws -> [UInt8] {
        let found = try value(field)
        guard let raw = found.ownedBytes else { throw mismatch(field, "bytes", found) }
        if let count, raw.count != count { throw StateRecordError.outOfRange(record: name, field: field) }
        return raw
    }

    public func string(_ field: String) throws -> String {
        let found = try value(field)
        guard case let .string(raw) = found else { throw mismatch(field, "string", found) }
        return raw
    }

    public func record(_ field: String) throws -> StateRecord {
        let found = try value(field)
        guard case let .record(raw) = found else { throw mismatch(field, "record", found) }
        return raw
    }

    /// A list of records, of exactly `count` when given.
    public func records(_ field: String, count: Int? = nil) throws -> [StateRecord] {
        let found = try value(field)
        guard case let .records(raw) = found else { throw mismatch(field, "records", found) }
        if let count, raw.count != count { throw StateRecordError.outOfRange(record: name, field: field) }
        return raw
    }

    /// This record with every lent bytes field copied, to keep past the
    /// moment the lender changes its memory.
    public func materialized() -> StateRecord {
        var copy = StateRecord(name: name, version: version)
        for field in fields {
            switch field.value {
            case let .borrowed(value): copy.put(field.name, .bytes(value.copied()))
            case let .record(value): copy.put(field.name, .record(value.materialized()))
            case let .records(values): copy.put(field.name, .records(values.map { $0.materialized() }))
            default: copy.put(field.name, field.value)
            }
        }
        return copy
    }

    private func mismatch(_ field: String, _ expected: String, _ found: StateValue) -> StateRecordError {
        .wrongType(record: name, field: field, expected: expected, found: found.typeName)
    }
}

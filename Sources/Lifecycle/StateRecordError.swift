/// Why a saved record cannot be loaded. Each names the record (the device) and
/// field involved, so the user sees which part of a snapshot does not fit.
public enum StateRecordError: Error, Equatable, CustomStringConvertible {
    case missingField(record: String, field: String)
    case wrongType(record: String, field: String, expected: String, found: String)
    case wrongVersion(record: String, expected: UInt32, found: UInt32)
    case wrongRecord(expected: String, found: String)
    /// A value that does not fit the field it is loaded into (a 300 for a byte register).
    case outOfRange(record: String, field: String)
    /// The input ends before the record does.
    case truncated(offset: Int)
    /// The input is not a record or is damaged (bad magic, checksum, tag, nesting).
    case damaged(String)
    /// The state is whole but was saved by a machine configured otherwise
    /// (another RAM size, another card): `reason` says how.
    case configurationMismatch(record: String, reason: String)

    public var description: String {
        switch self {
        case let .missingField(record, field): "state of \(record): field \(field) is missing"
        case let .wrongType(record, field, expected, found):
            "state of \(record): field \(field) is \(found), expected \(expected)"
        case let .wrongVersion(record, expected, found):
            "state of \(record): version \(found), this build reads version \(expected)"
        case let .wrongRecord(expected, found): "expected the state of \(expected), found \(found)"
        case let .outOfRange(record, field): "state of \(record): field \(field) is out of range"
        case let .truncated(offset): "saved state is truncated at byte \(offset)"
        case let .damaged(reason): "saved state is damaged: \(reason)"
        case let .configurationMismatch(record, reason): "state of \(record) is from another configuration: \(reason)"
        }
    }
}

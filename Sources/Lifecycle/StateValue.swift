/// One field's value in a `StateRecord`. The type travels with the value, so a
/// reader asking for the wrong type gets an error instead of a misread.
public enum StateValue: Equatable, Sendable {
    case unsigned(UInt64)
    case signed(Int64)
    case bool(Bool)
    case bytes([UInt8])
    case string(String)
    case record(StateRecord)
    case records([StateRecord])

    /// The type's name in error messages, and its tag in the encoding.
    public var typeName: String {
        switch self {
        case .unsigned: "unsigned"
        case .signed: "signed"
        case .bool: "bool"
        case .bytes: "bytes"
        case .string: "string"
        case .record: "record"
        case .records: "records"
        }
    }
}

/// One field's value in a `StateRecord`. The type travels with the value, so a
/// reader asking for the wrong type gets an error instead of a misread.
public enum StateValue: Sendable {
    case unsigned(UInt64)
    case signed(Int64)
    case bool(Bool)
    case bytes([UInt8])
    /// Bytes lent by their owner (see `BorrowedBytes`); read back as `bytes`.
    case borrowed(BorrowedBytes)
    case string(String)
    case record(StateRecord)
    case records([StateRecord])

    /// The type's name in error messages, and its tag in the encoding.
    public var typeName: String {
        switch self {
        case .unsigned: "unsigned"
        case .signed: "signed"
        case .bool: "bool"
        case .bytes, .borrowed: "bytes"
        case .string: "string"
        case .record: "record"
        case .records: "records"
        }
    }
}

extension StateValue: Equatable {
    /// Lent and owned bytes are equal when their contents are.
    public static func == (a: StateValue, b: StateValue) -> Bool {
        switch (a, b) {
        case let (.unsigned(x), .unsigned(y)): x == y
        case let (.signed(x), .signed(y)): x == y
        case let (.bool(x), .bool(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.record(x), .record(y)): x == y
        case let (.records(x), .records(y)): x == y
        case (.bytes, .bytes), (.bytes, .borrowed), (.borrowed, .bytes), (.borrowed, .borrowed): a.ownedBytes == b.ownedBytes
        default: false
        }
    }

    /// A bytes value's contents, lent or owned; nil for any other type.
    var ownedBytes: [UInt8]? {
        switch self {
        case let .bytes(value): value
        case let .borrowed(value): value.copied()
        default: nil
        }
    }
}

import Foundation

/// A command's arguments, read by name with QEMU's errors for a missing
/// member or one of the wrong type.
struct QMPArguments {
    let values: [String: Any]

    /// Refuses members the command does not take.
    func allowOnly(_ names: Set<String>) throws(QMPError) {
        for key in values.keys.sorted() where !names.contains(key) {
            throw .generic("Parameter '\(key)' is unexpected")
        }
    }

    func string(_ key: String) throws(QMPError) -> String {
        guard let value = try optionalString(key) else { throw QMPArguments.missing(key) }
        return value
    }

    func optionalString(_ key: String) throws(QMPError) -> String? {
        try optional(key, as: String.self, typeName: "string")
    }

    func optionalBool(_ key: String) throws(QMPError) -> Bool? {
        guard let value = values[key] else { return nil }
        // Foundation reads true and false as numbers; only they are booleans here.
        guard let number = value as? NSNumber, QMPArguments.isBoolean(number) else {
            throw QMPArguments.wrongType(key, "boolean")
        }
        return number.boolValue
    }

    func optionalInt(_ key: String) throws(QMPError) -> Int? {
        guard let value = values[key] else { return nil }
        guard let number = value as? NSNumber, !QMPArguments.isBoolean(number),
              let integer = Int(exactly: number.doubleValue) else {
            throw QMPArguments.wrongType(key, "integer")
        }
        return integer
    }

    func int(_ key: String) throws(QMPError) -> Int {
        guard let value = try optionalInt(key) else { throw QMPArguments.missing(key) }
        return value
    }

    func bool(_ key: String) throws(QMPError) -> Bool {
        guard let value = try optionalBool(key) else { throw QMPArguments.missing(key) }
        return value
    }

    func array(_ key: String) throws(QMPError) -> [Any] {
        guard let value = try optional(key, as: [Any].self, typeName: "array") else { throw QMPArguments.missing(key) }
        return value
    }

    func object(_ key: String) throws(QMPError) -> QMPArguments {
        guard let value = try optional(key, as: [String: Any].self, typeName: "object") else { throw QMPArguments.missing(key) }
        return QMPArguments(values: value)
    }

    private func optional<Value>(_ key: String, as type: Value.Type, typeName: String) throws(QMPError) -> Value? {
        guard let value = values[key] else { return nil }
        guard let typed = value as? Value else {
            throw QMPArguments.wrongType(key, typeName)
        }
        return typed
    }

    static func isBoolean(_ number: NSNumber) -> Bool {
        // CFBoolean's type code: "c" (a char) is how Foundation stores true/false.
        String(cString: number.objCType) == "c" && (number.intValue == 0 || number.intValue == 1)
    }

    static func missing(_ key: String) -> QMPError { .generic("Parameter '\(key)' is missing") }

    static func wrongType(_ key: String, _ type: String) -> QMPError {
        .generic("Invalid parameter type for '\(key)', expected: \(type)")
    }
}

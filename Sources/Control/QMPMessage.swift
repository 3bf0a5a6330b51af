import Foundation

/// A QMP error reply's class and description, as QEMU names them.
struct QMPError: Error, Equatable {
    enum Class: String {
        case genericError = "GenericError"
        case commandNotFound = "CommandNotFound"
    }

    let errorClass: Class
    let desc: String

    static func generic(_ desc: String) -> QMPError { QMPError(errorClass: .genericError, desc: desc) }
}

/// One `{"execute": NAME, "arguments": {...}, "id": ANY}` from a client.
struct QMPRequest {
    let command: String
    let arguments: [String: Any]
}

/// QMP's wire format: requests in, replies, events and the greeting out,
/// each a JSON object on a line of its own (as QEMU ends it, with CR LF).
enum QMPMessage {
    /// QEMU's version that PCEmu's QMP answers as (its commands and replies
    /// are shaped as 7.2's are); PCEmu's own version goes in `package`.
    static let qemuVersion = (major: 7, minor: 2, micro: 0)

    /// A piece of input as a request, or the error to answer it with; `id`
    /// is the client's, to echo in either reply.
    static func parse(_ bytes: [UInt8]) -> (request: Result<QMPRequest, QMPError>, id: Any?) {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            return (.failure(.generic("JSON parse error, \(describe(error))")), nil)
        }
        guard let object = value as? [String: Any] else {
            return (.failure(.generic("QMP input must be a JSON object")), nil)
        }
        let id = object["id"]
        for key in object.keys.sorted() where key != "execute" && key != "arguments" && key != "id" {
            return (.failure(.generic("QMP input member '\(key)' is unexpected")), id)
        }
        guard let execute = object["execute"] else {
            return (.failure(.generic("QMP input lacks member 'execute'")), id)
        }
        guard let command = execute as? String else {
            return (.failure(.generic("QMP input member 'execute' must be a string")), id)
        }
        guard let arguments = (object["arguments"] ?? [String: Any]()) as? [String: Any] else {
            return (.failure(.generic("QMP input member 'arguments' must be an object")), id)
        }
        return (.success(QMPRequest(command: command, arguments: arguments)), id)
    }

    static func greeting(package: String) -> [UInt8] {
        line(["QMP": [
            "version": [
                "qemu": ["major": qemuVersion.major, "minor": qemuVersion.minor, "micro": qemuVersion.micro],
                "package": package,
            ] as [String: Any],
            "capabilities": [String](),
        ] as [String: Any]])
    }

    static func reply(_ value: Any, id: Any?) -> [UInt8] {
        var object: [String: Any] = ["return": value]
        if let id { object["id"] = id }
        return line(object)
    }

    static func error(_ error: QMPError, id: Any?) -> [UInt8] {
        var object: [String: Any] = ["error": ["class": error.errorClass.rawValue, "desc": error.desc]]
        if let id { object["id"] = id }
        return line(object)
    }

    /// An event with the host time it happened at; `data` only when it has some.
    static func event(_ name: String, data: [String: Any]?, at time: timeval) -> [UInt8] {
        var object: [String: Any] = [
            "event": name,
            "timestamp": ["seconds": Int(time.tv_sec), "microseconds": Int(time.tv_usec)],
        ]
        if let data { object["data"] = data }
        return line(object)
    }

    /// A machine event by QMP's name and data.
    static func event(_ event: MachineEventName, at time: timeval) -> [UInt8] {
        self.event(event.name, data: event.data, at: time)
    }

    /// Compact JSON with sorted keys, ended by CR LF. What cannot be JSON
    /// (it never should happen: replies are built here) becomes an error reply.
    static func line(_ object: [String: Any]) -> [UInt8] {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else {
            return Array("{\"error\":{\"class\":\"GenericError\",\"desc\":\"the reply could not be written as JSON\"}}\r\n".utf8)
        }
        return Array(data) + [0x0D, 0x0A]
    }

    /// Foundation's parse error without its wrapping.
    private static func describe(_ error: Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }
}

/// The framing of gdb's remote serial protocol: `$payload#cc` with a
/// two-digit hexadecimal checksum (the payload's bytes summed modulo 256),
/// acknowledged with `+` or refused with `-`, and a bare 0x03 byte for an
/// interrupt. Binary data (the `X` packet, `qXfer` replies) escapes `#`, `$`,
/// `}` and `*` as `}` followed by the byte XOR 0x20.
public struct GDBPacketDecoder {
    /// What a run of received bytes amounts to.
    public enum Event: Equatable {
        case packet([UInt8])
        /// A packet whose checksum did not match (answered with `-`).
        case badChecksum
        /// A packet longer than `maximumPayload` (dropped, answered with `-`).
        case tooLong
        case ack
        case nack
        case interrupt
    }

    /// The largest payload accepted: what `qSupported` announces, with room
    /// for escapes.
    public static let maximumPayload = 0x4000

    private enum Phase { case idle, payload, checksumHigh, checksumLow }
    private var phase = Phase.idle
    private var payload: [UInt8] = []
    private var sum: UInt8 = 0
    private var checksumHigh: UInt8 = 0
    private var overflowed = false

    public init() {}

    /// Feeds bytes in; returns the events they complete, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [Event] where Bytes.Element == UInt8 {
        var events: [Event] = []
        for byte in bytes {
            switch phase {
            case .idle:
                switch byte {
                case UInt8(ascii: "$"):
                    phase = .payload
                    payload.removeAll(keepingCapacity: true)
                    sum = 0
                    overflowed = false
                case UInt8(ascii: "+"): events.append(.ack)
                case UInt8(ascii: "-"): events.append(.nack)
                case 0x03: events.append(.interrupt)
                default: break  // noise between packets is ignored, as gdb's own stubs do
                }
            case .payload:
                if byte == UInt8(ascii: "#") {
                    phase = .checksumHigh
                } else if byte == UInt8(ascii: "$") {
                    // A packet started again without ending: begin anew.
                    payload.removeAll(keepingCapacity: true)
                    sum = 0
                    overflowed = false
                } else {
                    sum &+= byte
                    if payload.count < GDBPacketDecoder.maximumPayload { payload.append(byte) } else { overflowed = true }
                }
            case .checksumHigh:
                checksumHigh = byte
                phase = .checksumLow
            case .checksumLow:
                phase = .idle
                guard let high = GDBHex.nibble(checksumHigh), let low = GDBHex.nibble(byte), high << 4 | low == sum else {
                    events.append(.badChecksum)
                    continue
                }
                events.append(overflowed ? .tooLong : .packet(payload))
            }
        }
        return events
    }
}

public enum GDBPacketEncoder {
    /// `$payload#cc` for a reply (the payload already escaped where it is binary).
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var sum: UInt8 = 0
        for byte in payload { sum &+= byte }
        return [UInt8(ascii: "$")] + payload + [UInt8(ascii: "#")] + GDBHex.byte(sum)
    }

    public static func frame(_ payload: String) -> [UInt8] { frame(Array(payload.utf8)) }

    /// Escapes the bytes the framing reserves, for binary replies.
    public static func escape<Bytes: Sequence>(_ data: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        for byte in data {
            if byte == UInt8(ascii: "#") || byte == UInt8(ascii: "$") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "*") {
                out.append(UInt8(ascii: "}"))
                out.append(byte ^ 0x20)
            } else {
                out.append(byte)
            }
        }
        return out
    }

    /// Undoes `escape` (the `X` packet's data); nil when it ends inside an escape.
    public static func unescape<Bytes: Sequence>(_ data: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        var escaped = false
        for byte in data {
            if escaped {
                out.append(byte ^ 0x20)
                escaped = false
            } else if byte == UInt8(ascii: "}") {
                escaped = true
            } else {
                out.append(byte)
            }
        }
        return escaped ? nil : out
    }
}

/// Hexadecimal as the protocol writes it: lower case, byte by byte in memory order.
public enum GDBHex {
    static let digits = Array("0123456789abcdef".utf8)

    public static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    public static func byte(_ value: UInt8) -> [UInt8] { [digits[Int(value >> 4)], digits[Int(value & 15)]] }

    public static func encode<Bytes: Sequence>(_ data: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        for value in data { out += byte(value) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Pairs of digits into bytes; nil for an odd count or a non-digit.
    public static func decode<Text: Collection>(_ text: Text) -> [UInt8]? where Text.Element == UInt8 {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var iterator = text.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = nibble(high), let l = nibble(low) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }

    /// A big-endian number as addresses and lengths are written (at most 16 digits).
    public static func number<Text: Collection>(_ text: Text) -> UInt64? where Text.Element == UInt8 {
        guard !text.isEmpty, text.count <= 16 else { return nil }
        var value: UInt64 = 0
        for character in text {
            guard let digit = nibble(character) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// A value's bytes, little-endian (as registers are sent).
    public static func littleEndian(_ value: UInt64, bytes: Int) -> String {
        encode((0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }
}

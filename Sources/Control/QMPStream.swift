/// Cuts the bytes a QMP client sends into messages. Clients need not end a
/// message with a newline (qemu.qmp does not), so an object or array ends
/// where its braces balance, outside strings. Anything else at the top level
/// (a bare word, a number, a stray closing brace) runs to the end of its
/// line and is handed on as it is, so the parser can say what is wrong and
/// the connection goes on.
struct QMPStream {
    /// The longest message: more is garbage, reported and dropped.
    static let maximumLength = 1 << 20
    /// Nesting deeper than this is refused, as QEMU's parser does.
    static let maximumDepth = 1024

    enum Piece: Equatable {
        case message([UInt8])
        /// Too long or nested too deep: the bytes so far were dropped.
        case overflow
    }

    private var pending: [UInt8] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// The current piece began with something other than `{` or `[`.
    private var bare = false

    /// Takes the bytes read; returns every piece they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Piece] {
        var pieces: [Piece] = []
        for byte in bytes {
            if pending.isEmpty && !bare {
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { continue }
                bare = byte != UInt8(ascii: "{") && byte != UInt8(ascii: "[")
            }
            if bare {
                if byte == 0x0A {
                    pieces.append(.message(pending))
                    reset()
                } else {
                    pending.append(byte)
                }
            } else {
                pending.append(byte)
                if track(byte) {
                    pieces.append(.message(pending))
                    reset()
                }
            }
            if pending.count > QMPStream.maximumLength || depth > QMPStream.maximumDepth {
                pieces.append(.overflow)
                reset()
            }
        }
        return pieces
    }

    /// Follows strings and nesting; true when the top-level value closed.
    private mutating func track(_ byte: UInt8) -> Bool {
        if inString {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
            return false
        }
        switch byte {
        case UInt8(ascii: "\""): inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            depth -= 1
            return depth == 0
        default: break
        }
        return false
    }

    private mutating func reset() {
        pending.removeAll(keepingCapacity: true)
        depth = 0
        inString = false
        escaped = false
        bare = false
    }
}

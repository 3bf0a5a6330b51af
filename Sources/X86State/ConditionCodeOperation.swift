/// How the arithmetic flags are held lazily, as in QEMU's cc_op: the last
/// flag-setting operation's kind and size, with cc_dst (usually the result)
/// and cc_src (usually the second operand) enough to recompute every flag.
/// Raw values are packed: kind * 4 + size index (0: byte, 1: word, 2: dword).
public enum ConditionCodeKind: UInt32, CaseIterable, Sendable {
    /// The flags are in `eflags` itself (cc_src holds them); nothing lazy.
    case eflags = 0
    /// dst = result, src = second operand; carry from the addition.
    case add
    /// add with carry-in in src2.
    case adc
    /// dst = result, src = second operand; first operand = dst + src.
    case sub
    case sbb
    /// AND/OR/XOR/TEST: dst = result; CF = OF = 0.
    case logic
    /// INC: dst = result, src = the old CF (INC keeps CF).
    case inc
    case dec
    /// SHL: dst = result, src = the value shifted by count-1 (its top bit is CF).
    case shl
    /// SHR/SAR: dst = result, src = the value shifted by count-1 (its low bit is CF).
    case sar
    /// MUL/IMUL: dst = result, src = nonzero when the high half is significant (CF = OF).
    case mul
}

public struct ConditionCodeOperation: Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ kind: ConditionCodeKind, sizeShift: Int) {
        rawValue = kind.rawValue << 2 | UInt32(sizeShift)
    }

    public var kind: ConditionCodeKind { ConditionCodeKind(rawValue: rawValue >> 2) ?? .eflags }
    /// 0: 8-bit, 1: 16-bit, 2: 32-bit.
    public var sizeShift: Int { Int(rawValue & 3) }

    public static let eflags = ConditionCodeOperation(.eflags, sizeShift: 0)
}

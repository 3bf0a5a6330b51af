/// The value semantics of every pure IR op, in one place: the constant
/// folder calls it with known inputs, and an IR interpreter can call it with
/// run-time ones, so the two cannot disagree.

extension IROpcode {
    /// Computes its output from its inputs alone: no state, memory or control
    /// flow, never faults. These are the ops `evaluate` knows.
    public var isPureValue: Bool {
        switch self {
        case .mov, .movi, .add, .sub, .mul, .and, .or, .xor, .shl, .shr, .sar, .rotl, .rotr,
             .neg, .not, .ext8s, .ext8u, .ext16s, .ext16u, .ext32s, .ext32u,
             .extu32to64, .exts32to64, .low64to32, .high64to32,
             .deposit, .extract, .sextract, .setcond, .movcond:
            return true
        case .loadState, .storeState, .loadGuest, .storeGuest, .call,
             .label, .br, .brcond, .insnStart, .exitBlock, .gotoBlock, .hostX87, .hostSIMD:
            return false
        }
    }

    /// The type of the value an op of this opcode and type produces: the
    /// conversions have fixed result types, everything else produces `type`
    /// (setcond's 0 or 1 fits either).
    public func resultType(_ type: IRType) -> IRType {
        switch self {
        case .extu32to64, .exts32to64: return .i64
        case .low64to32, .high64to32: return .i32
        default: return type
        }
    }
}

/// Sign-extends the low `bits` bits of `value` to 64 bits.
@inline(__always)
func signExtend(_ value: UInt64, bits: Int) -> UInt64 {
    guard bits < 64 else { return value }
    let shift = UInt64(64 - bits)
    return UInt64(bitPattern: Int64(bitPattern: value << shift) >> shift)
}

/// A mask of the low `bits` bits (all 64 when `bits` >= 64).
@inline(__always)
func lowMask(_ bits: Int) -> UInt64 {
    bits >= 64 ? ~0 : (UInt64(1) << UInt64(bits)) &- 1
}

/// The output of pure op `opcode` (see `isPureValue`) of type `type` with
/// immediate fields `aux` and `constant`, on inputs `a`…`d` (unused ones
/// ignored). Inputs are taken modulo the input type; the result is kept
/// zero-extended in the result type, as the IR keeps i32 values.
@inline(__always)
public func evaluate(_ opcode: IROpcode, type: IRType, aux: UInt8 = 0, constant: UInt64 = 0,
                     _ a: UInt64 = 0, _ b: UInt64 = 0, _ c: UInt64 = 0, _ d: UInt64 = 0) -> UInt64 {
    let mask = type.mask
    let bits = type.bits
    let x = a & mask, y = b & mask
    let count = y & UInt64(bits - 1)
    let result: UInt64
    switch opcode {
    case .mov: result = x
    case .movi: result = constant
    case .add: result = x &+ y
    case .sub: result = x &- y
    case .mul: result = x &* y
    case .and: result = x & y
    case .or: result = x | y
    case .xor: result = x ^ y
    case .shl: result = x << count
    case .shr: result = x >> count
    case .sar: result = UInt64(bitPattern: Int64(bitPattern: signExtend(x, bits: bits)) >> Int64(count))
    case .rotl: result = count == 0 ? x : (x << count) | (x >> (UInt64(bits) - count))
    case .rotr: result = count == 0 ? x : (x >> count) | (x << (UInt64(bits) - count))
    case .neg: result = 0 &- x
    case .not: result = ~x
    case .ext8s: result = signExtend(x, bits: 8)
    case .ext8u: result = x & 0xFF
    case .ext16s: result = signExtend(x, bits: 16)
    case .ext16u: result = x & 0xFFFF
    case .ext32s: result = signExtend(x, bits: 32)
    case .ext32u: result = x & 0xFFFF_FFFF
    // The conversions read their input at its own width, whatever `type` says.
    case .extu32to64: return a & 0xFFFF_FFFF
    case .exts32to64: return signExtend(a & 0xFFFF_FFFF, bits: 32)
    case .low64to32: return a & 0xFFFF_FFFF
    case .high64to32: return a >> 32
    case .deposit:
        let position = UInt64(aux), field = lowMask(Int(constant)) << position
        result = (x & ~field) | ((y << position) & field)
    case .extract:
        result = (x >> UInt64(aux)) & lowMask(Int(constant))
    case .sextract:
        result = signExtend((x >> UInt64(aux)) & lowMask(Int(constant)), bits: Int(constant))
    case .setcond:
        return Condition(rawValue: aux).map { $0.holds(x, y, type) } == true ? 1 : 0
    case .movcond:
        result = Condition(rawValue: aux).map { $0.holds(x, y, type) } == true ? c : d
    case .loadState, .storeState, .loadGuest, .storeGuest, .call,
         .label, .br, .brcond, .insnStart, .exitBlock, .gotoBlock, .hostX87, .hostSIMD:
        preconditionFailure("evaluate: \(opcode.name) has no value semantics")
    }
    return result & mask
}

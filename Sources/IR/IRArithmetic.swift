/// The value of every pure IR operation, in one place: the interpreter runs
/// it and the optimizer folds constants with it, so the two cannot disagree.
public enum IRArithmetic {
    @inline(__always)
    public static func evaluate(_ opcode: IROpcode, is64: Bool, aux: UInt8, constant: UInt64,
                                _ a: UInt64, _ b: UInt64) -> UInt64 {
        let type: IRType = is64 ? .i64 : .i32
        let mask = type.mask
        let width = UInt64(type.bits)
        let result: UInt64
        switch opcode {
        case .mov: result = a
        case .add: result = a &+ b
        case .sub: result = a &- b
        case .mul: result = a &* b
        case .and: result = a & b
        case .or: result = a | b
        case .xor: result = a ^ b
        case .shl: result = a << ((b & mask) % width)
        case .shr: result = (a & mask) >> ((b & mask) % width)
        case .sar:
            let shift = (b & mask) % width
            result = is64 ? UInt64(bitPattern: Int64(bitPattern: a) >> shift)
                          : UInt64(UInt32(bitPattern: Int32(truncatingIfNeeded: a) >> Int32(shift)))
        case .rotl, .rotr:
            var count = (b & mask) % width
            if opcode == .rotr { count = (width - count) % width }
            let value = a & mask
            result = count == 0 ? value : (value << count) | (value >> (width - count))
        case .neg: result = 0 &- a
        case .not: result = ~a
        case .ext8s: result = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: a)))
        case .ext8u: result = a & 0xFF
        case .ext16s: result = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: a)))
        case .ext16u: result = a & 0xFFFF
        case .ext32s: result = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: a)))
        case .ext32u: result = a & 0xFFFF_FFFF
        case .extu32to64: result = a & 0xFFFF_FFFF
        case .exts32to64: result = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: a)))
        case .low64to32: result = a & 0xFFFF_FFFF
        case .high64to32: result = a >> 32
        case .extract, .sextract:
            let position = UInt64(aux), size = constant
            let field = size >= 64 ? (a >> position) : (a >> position) & ((1 << size) - 1)
            if opcode == .sextract, size < 64 {
                let shift = 64 - size
                result = UInt64(bitPattern: Int64(bitPattern: field << shift) >> shift)
            } else {
                result = field
            }
        case .deposit:
            let position = UInt64(aux), size = constant
            let fieldMask: UInt64 = (size >= 64 ? ~0 : (1 << size) - 1) << position
            result = (a & ~fieldMask) | ((b << position) & fieldMask)
        case .setcond:
            return Condition(rawValue: aux)!.holds(a, b, type) ? 1 : 0
        default:
            preconditionFailure("\(opcode) is not a pure arithmetic op")
        }
        return result & mask
    }
}

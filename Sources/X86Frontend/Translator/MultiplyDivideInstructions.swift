import IR
import X86State

/// MUL IMUL DIV IDIV, and the decimal adjustments (AAA AAS DAA DAS AAM AAD).
extension TranslationContext {
    func translateMultiplyDivide() -> Bool {
        let opcode = instruction.opcode
        let bytes = operandBytes
        switch opcode {
        case 0xF6 where instruction.reg == 4 || instruction.reg == 5, 0xF7 where instruction.reg == 4 || instruction.reg == 5:
            let signed = instruction.reg == 5
            let source = read(modrmLocation(), bytes: bytes)
            let accumulator = readRegister(0, bytes: bytes)
            let product = widenedProduct(accumulator, source, bytes: bytes, signed: signed)
            let width = UInt64(8 * bytes)
            let low = truncate(b.unary(.low64to32, product, .i64), bytes: bytes)
            let high = truncate(b.unary(.low64to32, b.binary(signed ? .sar : .shr, product, b.constant(width, .i64), .i64), .i64), bytes: bytes)
            if bytes == 1 {
                writeRegister(0, bytes: 2, b.unary(.low64to32, product, .i64))
            } else {
                writeRegister(0, bytes: bytes, low)
                writeRegister(Register.edx.rawValue, bytes: bytes, high)
            }
            let significant = signed ? b.setcond(.ne, high, truncate(b.binary(.sar, signExtend(low, bytes: bytes), constant: 31), bytes: bytes))
                                     : b.setcond(.ne, high, constant(0))
            setFlags(.mul, bytes: bytes, result: low, source: significant)
        case 0x0FAF, 0x69, 0x6B:
            let source = read(modrmLocation(), bytes: bytes)
            let other = opcode == 0x0FAF ? readRegister(Int(instruction.reg), bytes: bytes) : constant(instruction.immediate)
            // The result is a 32-bit multiply; the 64-bit product only feeds
            // the flags, and goes with them when the next instruction sets its own.
            let low = truncate(b.binary(.mul, source, other), bytes: bytes)
            let product = widenedProduct(source, other, bytes: bytes, signed: true)
            let extendedLow = b.unary(.exts32to64, signExtend(low, bytes: bytes))
            let significant = b.setcond(.ne, product, extendedLow, .i64)
            writeRegister(Int(instruction.reg), bytes: bytes, low)
            setFlags(.mul, bytes: bytes, result: low, source: significant)
        case 0xF6 where instruction.reg >= 6, 0xF7 where instruction.reg >= 6:
            let divisor = read(modrmLocation(), bytes: bytes)
            b.call(X86Helper.divide.index, [divisor, constant(UInt32(bytes)), constant(instruction.reg == 7 ? 1 : 0)])
        case 0x27, 0x2F, 0x37, 0x3F, 0xD4, 0xD5:
            b.call(X86Helper.decimalAdjust.index, [constant(UInt32(opcode)), constant(instruction.immediate & 0xFF)])
            knownConditionCodes = nil
        default:
            return false
        }
        return true
    }

    /// The full product of two `bytes`-wide values, in 64 bits.
    private func widenedProduct(_ a: Temp, _ c: Temp, bytes: Int, signed: Bool) -> Temp {
        let wideA = signed ? b.unary(.exts32to64, signExtend(a, bytes: bytes)) : b.unary(.extu32to64, a)
        let wideB = signed ? b.unary(.exts32to64, signExtend(c, bytes: bytes)) : b.unary(.extu32to64, c)
        return b.binary(.mul, wideA, wideB, .i64)
    }
}

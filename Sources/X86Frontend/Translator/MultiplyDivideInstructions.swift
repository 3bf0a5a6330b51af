import IR
import X86State

/// MUL IMUL DIV IDIV, and the decimal adjustments (AAA AAS DAA DAS AAM AAD).
extension TranslationContext {
    /// MUL/IMUL r/m: eAX (AX for bytes) times operand1 into eDX:eAX; CF and OF
    /// say whether the high half is significant.
    func multiplyAccumulator(signed: Bool) {
        let bytes = operandBytes
        if bytes == 8 { return multiplyAccumulator64(signed: signed) }
        let source = loadOperand(instruction.operand1)
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
    }

    /// IMUL Gv, Ev (times Gv itself) and IMUL Gv, Ev, imm.
    func multiplySigned() {
        let bytes = operandBytes
        if bytes == 8 { return multiplySigned64() }
        let source = loadOperand(instruction.operand2)
        let other = loadOperand(instruction.operand3 == .none ? instruction.operand1 : instruction.operand3)
        // The result is a 32-bit multiply; the 64-bit product only feeds
        // the flags, and goes with them when the next instruction sets its own.
        let low = truncate(b.binary(.mul, source, other), bytes: bytes)
        let product = widenedProduct(source, other, bytes: bytes, signed: true)
        let extendedLow = b.unary(.exts32to64, signExtend(low, bytes: bytes))
        let significant = b.setcond(.ne, product, extendedLow, .i64)
        storeOperand(instruction.operand1, low)
        setFlags(.mul, bytes: bytes, result: low, source: significant)
    }

    /// DIV/IDIV: the helper divides and raises #DE.
    func divide(signed: Bool) {
        let divisor = loadOperand(instruction.operand1)
        b.call(X86Helper.divide.index, [divisor, constant(UInt32(operandBytes)), constant(signed ? 1 : 0)])
    }

    /// DAA DAS AAA AAS AAM AAD: the helper, told the opcode and AAM/AAD's base.
    func decimalAdjust() {
        b.call(X86Helper.decimalAdjust.index, [constant(UInt32(instruction.opcode)), constant(instruction.immediate & 0xFF)])
        knownConditionCodes = nil
    }

    /// The full product of two `bytes`-wide values, in 64 bits.
    private func widenedProduct(_ a: Temp, _ c: Temp, bytes: Int, signed: Bool) -> Temp {
        let wideA = signed ? b.unary(.exts32to64, signExtend(a, bytes: bytes)) : b.unary(.extu32to64, a)
        let wideB = signed ? b.unary(.exts32to64, signExtend(c, bytes: bytes)) : b.unary(.extu32to64, c)
        return b.binary(.mul, wideA, wideB, .i64)
    }
}

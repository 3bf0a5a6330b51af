import IR
import X86State

/// The 64-bit operand forms that cannot widen into a larger IR type: MUL and
/// IMUL's 128-bit products, RCL/RCR's 65-bit rotation, SHLD/SHRD's pair.
/// Every op here is i64.
extension TranslationContext {
    /// The high 64 bits of the 128-bit product of `a` and `c`, from 32-bit
    /// halves (each partial product fits in 64 bits); signed products
    /// correct the unsigned high half by each negative factor.
    func highProduct64(_ a: Temp, _ c: Temp, signed: Bool) -> Temp {
        withWordType(.i64) {
            let lowMask = b.constant(0xFFFF_FFFF, .i64)
            let aLow = b.and(a, lowMask), aHigh = b.binary(.shr, a, constant: 32)
            let cLow = b.and(c, lowMask), cHigh = b.binary(.shr, c, constant: 32)
            let lowLow = b.binary(.mul, aLow, cLow), lowHigh = b.binary(.mul, aLow, cHigh)
            let highLow = b.binary(.mul, aHigh, cLow), highHigh = b.binary(.mul, aHigh, cHigh)
            let middle = b.add(b.add(b.binary(.shr, lowLow, constant: 32), b.and(lowHigh, lowMask)), b.and(highLow, lowMask))
            var high = b.add(b.add(highHigh, b.binary(.shr, lowHigh, constant: 32)),
                             b.add(b.binary(.shr, highLow, constant: 32), b.binary(.shr, middle, constant: 32)))
            if signed {
                let zero = b.constant(0, .i64)
                high = b.sub(high, b.movcond(.lt, a, zero, then: c, else: zero))
                high = b.sub(high, b.movcond(.lt, c, zero, then: a, else: zero))
            }
            return high
        }
    }

    /// MUL/IMUL r/m64: RDX:RAX = RAX * operand1; CF = OF = the high half is significant.
    func multiplyAccumulator64(signed: Bool) {
        let source = loadOperand(instruction.operand1)
        let accumulator = readRegister(0, bytes: 8)
        let low = b.binary(.mul, accumulator, source, .i64)
        let high = highProduct64(accumulator, source, signed: signed)
        writeRegister(0, bytes: 8, low)
        writeRegister(Register.edx.rawValue, bytes: 8, high)
        let significant = signed ? b.setcond(.ne, high, b.binary(.sar, low, constant: 63, .i64), .i64)
                                 : b.setcond(.ne, high, b.constant(0, .i64), .i64)
        setFlags(.mul, bytes: 8, result: low, source: significant)
    }

    /// IMUL r64, r/m64 (and with an immediate): the low half; CF = OF = it lost bits.
    func multiplySigned64() {
        let source = loadOperand(instruction.operand2)
        let other = loadOperand(instruction.operand3 == .none ? instruction.operand1 : instruction.operand3)
        let low = b.binary(.mul, source, other, .i64)
        let high = highProduct64(source, other, signed: true)
        let significant = b.setcond(.ne, high, b.binary(.sar, low, constant: 63, .i64), .i64)
        storeOperand(instruction.operand1, low)
        setFlags(.mul, bytes: 8, result: low, source: significant)
    }

    /// RCL/RCR r/m64 by `count` (1-63): a 65-bit rotation through CF. The
    /// shift by 65 - n is done as 64 - n then 1, so that n = 1 shifts out everything.
    func rotateThroughCarry64(left: Bool, location: Location, value: Temp, count: Temp) {
        withWordType(.i64) {
            let carryIn = carryFlag()
            let back = b.sub(b.constant(64, .i64), count)
            let result: Temp, carry: Temp
            if left {
                let wrapped = b.binary(.shr, b.binary(.shr, value, back), constant: 1)
                result = b.or(b.or(b.binary(.shl, value, count), b.binary(.shl, carryIn, b.sub(count, b.constant(1, .i64)))), wrapped)
                carry = b.and(b.binary(.shr, value, back), 1)
            } else {
                let wrapped = b.binary(.shl, b.binary(.shl, value, back), constant: 1)
                result = b.or(b.or(b.binary(.shr, value, count), b.binary(.shl, carryIn, back)), wrapped)
                carry = b.and(b.binary(.shr, value, b.sub(count, b.constant(1, .i64))), 1)
            }
            write(location, result, bytes: 8)
            let top = b.binary(.shr, result, constant: 63)
            let overflow = left ? b.xor(top, carry) : b.and(b.xor(top, b.binary(.shr, result, constant: 62)), 1)
            replaceCarryAndOverflow(carry: carry, overflow: overflow)
        }
    }

    /// SHLD/SHRD r/m64, r64 by `count` (1-63); `before` is the result one
    /// step short, whose end bit is CF.
    func doubleShift64(left: Bool, location: Location, value: Temp, filler: Temp, count: Temp) {
        withWordType(.i64) {
            let back = b.sub(b.constant(64, .i64), count)
            let countLessOne = b.sub(count, b.constant(1, .i64))
            let result: Temp, before: Temp
            if left {
                result = b.or(b.binary(.shl, value, count), b.binary(.shr, filler, back))
                // One step short: filler >> (65 - count), as 64 - count then 1.
                before = b.or(b.binary(.shl, value, countLessOne), b.binary(.shr, b.binary(.shr, filler, back), constant: 1))
            } else {
                result = b.or(b.binary(.shr, value, count), b.binary(.shl, filler, back))
                before = b.or(b.binary(.shr, value, countLessOne), b.binary(.shl, b.binary(.shl, filler, back), constant: 1))
            }
            write(location, result, bytes: 8)
            setFlags(left ? .shl : .sar, bytes: 8, result: result, source: before)
        }
    }
}

import IR
import X86State

/// ROL ROR RCL RCR SHL SHR SAR, and SHLD/SHRD.
extension TranslationContext {
    /// ROL ROR RCL RCR SHL SHR SAL SAR (by `operation`, the ModRM reg number)
    /// of operand1 by operand2 (Ib, 1 or CL).
    func shift(_ operation: UInt8) {
        let count = shiftCount(instruction.operand2)
        shiftOrRotate(operation: Int(operation), location: operandLocation(instruction.operand1), count: count, bytes: operandBytes)
    }

    /// SHLD/SHRD operand1, operand2, operand3 (Ib or CL).
    func doubleShift(left: Bool) {
        let count = shiftCount(instruction.operand3)
        doubleShift(left: left, location: operandLocation(instruction.operand1), count: count, bytes: operandBytes)
    }

    /// A shift count masked to five bits, as the CPU masks it: a constant when it is one.
    /// (six bits with a 64-bit operand).
    private func shiftCount(_ kind: OperandKind) -> Temp {
        let mask: UInt32 = operandBytes == 8 ? 0x3F : 0x1F
        return kind == .CL ? b.and(loadOperand(kind), UInt64(mask)) : constant(immediateOperand(kind) & mask)
    }

    /// Nothing at all happens (not even a write) when the masked count is zero.
    private func shiftOrRotate(operation: Int, location: Location, count: Temp, bytes: Int) {
        let width = UInt64(8 * bytes)
        let value = read(location, bytes: bytes)
        zeroExtendForZeroCount(location, value, bytes: bytes)
        let done = b.newLabel()
        b.branch(if: .eq, count, constant(0), to: done)
        switch operation {
        case 4, 6, 5, 7:
            let countLessOne = b.sub(count, constant(1))
            let result: Temp
            let beforeLast: Temp
            if operation == 5 {
                result = b.binary(.shr, value, count)
                beforeLast = b.binary(.shr, value, countLessOne)
            } else if operation == 7 {
                let signed = signExtend(value, bytes: bytes)
                result = truncate(b.binary(.sar, signed, count), bytes: bytes)
                beforeLast = b.binary(.sar, signed, countLessOne)
            } else {
                result = truncate(b.binary(.shl, value, count), bytes: bytes)
                beforeLast = b.binary(.shl, value, countLessOne)
            }
            write(location, result, bytes: bytes)
            setFlags(operation == 4 || operation == 6 ? .shl : .sar, bytes: bytes, result: result, source: beforeLast)
        case 0, 1:
            // ROL / ROR: by count mod width; only CF and OF change.
            let rotation = b.binary(.and, count, constant: width - 1)
            let rotated = rotate(value, by: rotation, left: operation == 0, width: width)
            write(location, rotated, bytes: bytes)
            let top = b.binary(.shr, rotated, constant: width - 1)
            let carry = operation == 0 ? b.and(rotated, 1) : top
            let overflow = operation == 0 ? b.xor(top, carry)
                                          : b.and(b.xor(top, b.binary(.shr, rotated, constant: width - 2)), constant(1))
            replaceCarryAndOverflow(carry: carry, overflow: overflow)
        default:
            if bytes == 8 {
                rotateThroughCarry64(left: operation == 2, location: location, value: value, count: count)
                break
            }
            // RCL / RCR: a (width+1)-bit rotation through CF, in 64 bits.
            let modulus = width + 1
            let effective = bytes == 4 ? count : remainder(count, modulus: UInt32(modulus))
            let skip = b.newLabel()
            b.branch(if: .eq, effective, constant(0), to: skip)
            let carryIn = carryFlag()
            let combined = b.binary(.or, b.unary(.extu32to64, value), b.binary(.shl, b.unary(.extu32to64, carryIn), b.constant(width, .i64), .i64), .i64)
            let amount = b.unary(.extu32to64, effective)
            let back = b.binary(.sub, b.constant(modulus, .i64), amount, .i64)
            let rotated64: Temp
            if operation == 2 {
                rotated64 = b.binary(.or, b.binary(.shl, combined, amount, .i64), b.binary(.shr, combined, back, .i64), .i64)
            } else {
                rotated64 = b.binary(.or, b.binary(.shr, combined, amount, .i64), b.binary(.shl, combined, back, .i64), .i64)
            }
            let result = truncate(b.unary(.low64to32, rotated64, .i64), bytes: bytes)
            let carry = b.and(b.unary(.low64to32, b.binary(.shr, rotated64, b.constant(width, .i64), .i64), .i64), 1)
            write(location, result, bytes: bytes)
            let top = b.binary(.shr, result, constant: width - 1)
            let overflow = operation == 2 ? b.xor(top, carry)
                                          : b.and(b.xor(top, b.binary(.shr, result, constant: width - 2)), constant(1))
            replaceCarryAndOverflow(carry: carry, overflow: overflow)
            b.setLabel(skip)
        }
        b.setLabel(done)
        knownConditionCodes = nil  // the zero-count path kept the old flags
    }

    /// In 64-bit mode a 32-bit register operand is written (its top half
    /// cleared) even when the masked count is zero, as the host CPU does.
    private func zeroExtendForZeroCount(_ location: Location, _ value: Temp, bytes: Int) {
        if long64 && bytes == 4, case .register = location { write(location, value, bytes: 4) }
    }

    /// count mod a small modulus (9 or 17), for RCL/RCR on bytes and words.
    private func remainder(_ count: Temp, modulus: UInt32) -> Temp {
        // count is at most 31: subtract the modulus while it fits.
        var value = count
        for _ in 0..<(31 / Int(modulus)) {
            let reduced = b.sub(value, constant(modulus))
            value = b.movcond(.geu, value, constant(modulus), then: reduced, else: value)
        }
        return value
    }

    private func rotate(_ value: Temp, by amount: Temp, left: Bool, width: UInt64) -> Temp {
        if width >= 32 { return b.binary(left ? .rotl : .rotr, value, amount) }
        // Narrow rotates: shift both ways inside 32 bits, then cut.
        let back = b.binary(.and, b.sub(constant(UInt32(width)), amount), constant: width - 1)
        let forward = b.binary(left ? .shl : .shr, value, amount)
        let wrapped = b.binary(left ? .shr : .shl, value, back)
        let combined = b.or(forward, b.movcond(.eq, amount, constant(0), then: constant(0), else: wrapped))
        return truncate(combined, bytes: Int(width / 8))
    }

    /// New CF and OF (each 0 or 1), the other flags as they were.
    func replaceCarryAndOverflow(carry: Temp, overflow: Temp) {
        withWordType(.i32) {
            let kept = b.and(arithmeticFlags(), UInt64(EFLAGS.arithmetic & ~(EFLAGS.carry | EFLAGS.overflow)))
            let updated = b.or(kept, b.or(converted(carry, to: .i32), b.shl(converted(overflow, to: .i32), 11)))
            setFlags(value: updated)
        }
    }

    /// SHLD/SHRD: shift the destination, filling from the register operand.
    private func doubleShift(left: Bool, location: Location, count: Temp, bytes: Int) {
        let value = read(location, bytes: bytes)
        let filler = loadOperand(instruction.operand2)
        zeroExtendForZeroCount(location, value, bytes: bytes)
        let done = b.newLabel()
        b.branch(if: .eq, count, constant(0), to: done)
        if bytes == 8 {
            doubleShift64(left: left, location: location, value: value, filler: filler, count: count)
            b.setLabel(done)
            knownConditionCodes = nil
            return
        }
        let width = UInt64(8 * bytes)
        // Work in 64 bits: destination and filler side by side.
        let destination64 = b.unary(.extu32to64, value)
        let filler64 = b.unary(.extu32to64, filler)
        let amount = b.unary(.extu32to64, count)
        let amountLessOne = b.binary(.sub, amount, b.constant(1, .i64), .i64)
        let result: Temp
        let beforeLast: Temp
        if left {
            // The destination above the filler; the result is the pair's top half.
            // (Counts above 16 on a 16-bit operand leave an undefined result.)
            let pair = b.binary(.or, b.binary(.shl, destination64, b.constant(width, .i64), .i64), filler64, .i64)
            let shifted = b.binary(.shl, pair, amount, .i64)
            result = truncate(b.unary(.low64to32, b.binary(.shr, shifted, b.constant(width, .i64), .i64), .i64), bytes: bytes)
            beforeLast = b.unary(.low64to32, b.binary(.shr, b.binary(.shl, pair, amountLessOne, .i64), b.constant(width, .i64), .i64), .i64)
            write(location, result, bytes: bytes)
            setFlags(.shl, bytes: bytes, result: result, source: beforeLast)
        } else {
            let pair = b.binary(.or, destination64, b.binary(.shl, filler64, b.constant(width, .i64), .i64), .i64)
            let extended = width == 16 ? b.binary(.or, pair, b.binary(.shl, destination64, b.constant(32, .i64), .i64), .i64) : pair
            result = truncate(b.unary(.low64to32, b.binary(.shr, extended, amount, .i64), .i64), bytes: bytes)
            beforeLast = b.unary(.low64to32, b.binary(.shr, extended, amountLessOne, .i64), .i64)
            write(location, result, bytes: bytes)
            setFlags(.sar, bytes: bytes, result: result, source: beforeLast)
        }
        b.setLabel(done)
        knownConditionCodes = nil
    }
}

import IR
import X86State

/// BT BTS BTR BTC, BSF BSR.
extension TranslationContext {
    /// BT BTS BTR BTC (0...3) of operand1's bit operand2 (a register or Ib).
    func bitTest(_ operation: UInt8) {
        let bytes = operandBytes
        let registerIndex = instruction.operand2 != .Ib
        let bitIndex = registerIndex ? loadOperand(instruction.operand2)
                                     : constant(instruction.immediate & UInt32(8 * bytes - 1))
        let location: Location
        let bitInOperand: Temp
        if instruction.hasMemoryOperand && registerIndex {
            // A register bit offset reaches beyond the operand: signed, in operand-sized steps.
            let shift = UInt64(bytes.trailingZeroBitCount + 3)
            let signedIndex = signExtend(bitIndex, bytes: bytes)
            var displacement = b.shl(b.binary(.sar, signedIndex, constant: shift), UInt64(bytes.trailingZeroBitCount))
            if long64 && b.block.info(displacement).type == .i32 { displacement = b.unary(.exts32to64, displacement) }
            let offset = truncateAddress(b.binary(.add, effectiveAddress(), displacement, addressType))
            let checked = isProtectedMode && flags.contains(.checkedSegment(memorySegment))
            location = .memory(linear: linearAddress(offset, segment: memorySegment, bytes: bytes),
                               checked: checked ? (memorySegment, offset) : nil)
            bitInOperand = b.and(bitIndex, UInt64(8 * bytes - 1))
        } else {
            location = operandLocation(instruction.operand1)
            bitInOperand = b.and(bitIndex, UInt64(8 * bytes - 1))
        }
        let value = read(location, bytes: bytes)
        let carry = b.and(b.binary(.shr, value, bitInOperand), 1)
        let mask = b.binary(.shl, constant(1), bitInOperand)
        switch operation {
        case 1: write(location, b.or(value, mask), bytes: bytes)
        case 2: write(location, b.and(value, b.unary(.not, mask)), bytes: bytes)
        case 3: write(location, b.xor(value, mask), bytes: bytes)
        default: break
        }
        withWordType(.i32) {
            let flags = b.and(arithmeticFlags(), UInt64(EFLAGS.arithmetic & ~EFLAGS.carry))
            setFlags(value: b.or(flags, converted(carry, to: .i32)))
        }
    }

    /// BSF/BSR: ZF set and the destination unchanged when the source is zero.
    func bitScan(forward: Bool) {
        let bytes = operandBytes
        let source = loadOperand(instruction.operand2)
        let isZero = b.setcond(.eq, source, constant(0))
        let found = b.newLabel()
        let done = b.newLabel()
        let index = b.newTemp()
        b.branch(if: .ne, source, constant(0), to: found)
        b.branch(to: done)
        b.setLabel(found)
        // A short loop in IR: scan from the low (BSF) or high (BSR) end.
        b.move(into: index, constant: forward ? 0 : UInt64(8 * bytes - 1))
        let loop = b.newLabel()
        let hit = b.newLabel()
        b.setLabel(loop)
        let bit = b.and(b.binary(.shr, source, index), 1)
        b.branch(if: .ne, bit, constant(0), to: hit)
        b.binary(forward ? .add : .sub, into: index, index, constant(1))
        b.branch(to: loop)
        b.setLabel(hit)
        storeOperand(instruction.operand1, index)
        b.setLabel(done)
        withWordType(.i32) {
            let flags = b.and(arithmeticFlags(), UInt64(EFLAGS.arithmetic & ~EFLAGS.zero))
            setFlags(value: b.or(flags, b.shl(isZero, 6)))
        }
    }
}

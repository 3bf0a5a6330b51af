import IR
import X86State

/// MOV in its forms, XCHG, LEA, MOVZX/MOVSX, CBW/CWD, LAHF/SAHF, XLAT, the
/// far-pointer loads, CMOVcc, SETcc, BSWAP, XADD, CMPXCHG.
extension TranslationContext {
    /// MOV operand1, operand2 (registers, r/m, immediates, moffs, segment
    /// registers). An r/m destination's address is computed before the source is read.
    func translateMove() {
        let destination = instruction.operand1, source = instruction.operand2
        if destination.usesRM {
            let location = operandLocation(destination)
            write(location, loadOperand(source), bytes: operandBytes(of: destination))
        } else {
            storeOperand(destination, loadOperand(source))
        }
    }

    /// MOV r/m, Sreg: a 16-bit store to memory; to a register, 32-bit zero-extended with a 32-bit operand.
    func moveFromSegment() {
        storeWordOrRegister(loadOperand(instruction.operand2))
    }

    /// Stores a 16-bit value to the r/m operand: 16 bits to memory, the
    /// operand size (zero-extended) to a register (MOV r/m, Sreg; SLDT; STR; SMSW).
    func storeWordOrRegister(_ value: Temp) {
        let location = modrmLocation(bytes: 2)
        if case .memory = location { write(location, value, bytes: 2) } else { write(location, value, bytes: operandBytes) }
    }

    func loadEffectiveAddress() {
        guard instruction.hasMemoryOperand else { return raiseException(ExceptionVector.invalidOpcode) }
        storeOperand(instruction.operand1, effectiveAddress())
    }

    /// XCHG: both operands read before either is written.
    func exchange() {
        let first = instruction.operand1, second = instruction.operand2
        let location = operandLocation(first)
        let firstValue = read(location, bytes: operandBytes)
        let secondValue = loadOperand(second)
        let kept = b.copy(secondValue)
        write(location, kept, bytes: operandBytes)
        storeOperand(second, firstValue)
    }

    /// XCHG register, rAX (90+r's form when the register is not rAX itself).
    func exchangeWithAccumulator(_ register: Int) {
        let bytes = operandBytes
        let accumulator = readRegister(0, bytes: bytes), other = readRegister(register, bytes: bytes)
        writeRegister(0, bytes: bytes, other)
        writeRegister(register, bytes: bytes, accumulator)
    }

    /// CBW / CWDE: sign-extend the lower half of the accumulator.
    func signExtendAccumulator() {
        let bytes = operandBytes
        let half = readRegister(0, bytes: bytes / 2)
        writeRegister(0, bytes: bytes, signExtend(half, bytes: bytes / 2))
    }

    /// CWD / CDQ: eDX = the accumulator's sign, repeated.
    func signExtendIntoDX() {
        let bytes = operandBytes
        let accumulator = signExtend(readRegister(0, bytes: bytes), bytes: bytes)
        writeRegister(Register.edx.rawValue, bytes: bytes, b.binary(.sar, accumulator, constant: bytes == 8 ? 63 : 31))
    }

    /// SAHF: SF ZF AF PF CF from AH; OF kept.
    func loadFlagsFromAH() {
        let overflow = overflowFlag()
        let fromAH = b.and(readRegister(4, bytes: 1), UInt64(EFLAGS.sign | EFLAGS.zero | EFLAGS.auxiliary | EFLAGS.parity | EFLAGS.carry))
        setFlags(value: b.or(overflow, fromAH))
    }

    /// LAHF: AH = SF ZF 0 AF 0 PF 1 CF.
    func storeFlagsIntoAH() {
        let flags = b.or(b.and(arithmeticFlags(), 0xD5), constant(EFLAGS.reserved1))
        writeRegister(4, bytes: 1, flags)
    }

    /// SALC: AL = CF ? 0xFF : 0.
    func setALFromCarry() {
        writeRegister(0, bytes: 1, b.unary(.neg, carryFlag()))
    }

    /// XLAT: AL = [seg:eBX + AL].
    func translateByte() {
        let base = readRegister(Register.ebx.rawValue, bytes: Int(instruction.addressSize) / 8)
        let offset = withWordType(addressType) { b.add(converted(base, to: addressType), converted(readRegister(0, bytes: 1), to: addressType)) }
        let address = instruction.addressSize == 16 ? b.unary(.ext16u, offset) : instruction.addressSize == 32 && long64 ? b.unary(.ext32u, offset, .i64) : offset
        let segment = instruction.segmentOverride.map { Segment(rawValue: Int($0.rawValue))! } ?? .ds
        writeRegister(0, bytes: 1, load(segment, address, bytes: 1))
    }

    /// LES LDS LSS LFS LGS: offset into operand1, selector into `segment`.
    func loadFarPointer(_ segment: Segment) {
        guard instruction.hasMemoryOperand else { return raiseException(ExceptionVector.invalidOpcode) }
        let bytes = operandBytes
        let offsetAddress = effectiveAddress()
        let offset = load(memorySegment, offsetAddress, bytes: bytes)
        let selector = load(memorySegment, truncateAddress(b.binary(.add, offsetAddress, constant: UInt64(bytes), addressType)), bytes: 2)
        // The offset register is written only once the segment load did not
        // fault, and before the block ends after the load.
        loadSegment(segment, selector) {
            storeOperand(instruction.operand1, offset)
        }
    }

    /// MOVZX / MOVSX: operand2's width is its kind's (Eb or Ew).
    func moveExtended(signed: Bool) {
        let source = instruction.operand2
        let value = loadOperand(source)
        storeOperand(instruction.operand1, signed ? signExtend(value, bytes: operandBytes(of: source)) : value)
    }

    /// CMOVcc reads its source even when the condition fails, and with a
    /// 32-bit operand always writes the destination (zero-extending).
    func conditionalMove(_ condition: UInt8) {
        let source = loadOperand(instruction.operand2)
        let holds = conditionTest(condition)
        let current = loadOperand(instruction.operand1)
        if holds.type == b.block.wordType {
            storeOperand(instruction.operand1, b.movcond(holds.condition, holds.left, rightOperand(holds), then: source, else: current))
        } else {
            // Compared in another width than the values' (CMOV r64 after a 32-bit CMP): through 0 or 1.
            let value = converted(b.setcond(holds.condition, holds.left, rightOperand(holds), holds.type), to: b.block.wordType)
            storeOperand(instruction.operand1, b.movcond(.ne, value, constant(0), then: source, else: current))
        }
    }

    /// SETcc: the destination's address first, then the condition.
    func setOnCondition(_ condition: UInt8) {
        let location = operandLocation(instruction.operand1)
        write(location, self.condition(condition), bytes: 1)
    }

    func byteSwap() {
        let register = registerNumber(instruction.operand1)
        if operandBytes == 8 {
            // Byte i to byte 7 - i.
            let value = readRegister(register, bytes: 8)
            var swapped = b.constant(0, .i64)
            for index in 0..<8 {
                let byte = b.extract(value, position: 8 * index, size: 8, .i64)
                swapped = b.binary(.or, swapped, b.binary(.shl, byte, constant: UInt64(8 * (7 - index)), .i64), .i64)
            }
            return writeRegister(register, bytes: 8, swapped)
        }
        let value = readRegister(register, bytes: 4)
        let swapped = b.or(b.or(b.shl(b.and(value, 0xFF), 24), b.shl(b.and(value, 0xFF00), 8)),
                           b.or(b.and(b.shr(value, 8), 0xFF00), b.shr(value, 24)))
        writeRegister(register, bytes: 4, swapped)
    }

    /// XADD: destination gets the sum, the register the old destination.
    func exchangeAndAdd() {
        let bytes = operandBytes
        let location = operandLocation(instruction.operand1)
        let old = read(location, bytes: bytes)
        let source = loadOperand(instruction.operand2)
        let sum = truncate(b.add(old, source), bytes: bytes)
        write(location, sum, bytes: bytes)
        storeOperand(instruction.operand2, old)
        setFlags(.add, bytes: bytes, result: sum, source: source)
    }

    /// CMPXCHG: compare the accumulator with the destination; the
    /// destination is written either way (with itself on mismatch), as the CPU does.
    func compareExchange() {
        let bytes = operandBytes
        let location = operandLocation(instruction.operand1)
        let old = read(location, bytes: bytes)
        let accumulator = readRegister(0, bytes: bytes)
        let equal = converted(b.setcond(.eq, old, accumulator), to: b.block.wordType)
        if long64 && bytes == 4, case let .register(number) = location {
            // A register destination is written (zero-extended) only on a match.
            let whole = readRegister(number, bytes: 8)
            let replacement = converted(loadOperand(instruction.operand2), to: .i64)
            writeRegister(number, bytes: 8, b.movcond(.ne, converted(equal, to: .i64), b.constant(0, .i64),
                                                      then: replacement, else: whole, .i64))
        } else {
            let newValue = b.movcond(.ne, equal, constant(0), then: loadOperand(instruction.operand2), else: old)
            write(location, newValue, bytes: bytes)
        }
        if long64 && bytes == 4 {
            // EAX is written (and RAX's top half cleared) only on a mismatch.
            let rax = globals.registers64[0]
            b.move(into: rax, b.movcond(.ne, converted(equal, to: .i64), b.constant(0, .i64), then: rax,
                                        else: converted(old, to: .i64), .i64), .i64)
        } else {
            writeRegister(0, bytes: bytes, b.movcond(.ne, equal, constant(0), then: accumulator, else: old))
        }
        setFlags(.sub, bytes: bytes, result: truncate(b.sub(accumulator, old), bytes: bytes), source: old)
    }

    /// An address computed by the translator, wrapped to the address size.
    func truncateAddress(_ address: Temp) -> Temp {
        instruction.addressSize == 16 ? b.unary(.ext16u, address) : address
    }

    /// Loads a segment register through the runtime (which checks descriptors
    /// in protected mode). Loading SS inhibits interrupts for one instruction,
    /// and any load may change how later code must be translated: the block ends.
    /// `afterLoad` emits the rest of the instruction (LDS's offset register),
    /// which runs only if the load did not fault and must come before the end.
    func loadSegment(_ segment: Segment, _ selector: Temp, afterLoad: () -> Void = {}) {
        b.call(X86Helper.loadSegment.index, [constant(UInt32(segment.rawValue)), selector])
        afterLoad()
        if segment == .ss || isProtectedMode {
            endBlockAfterInstruction()
        }
    }

    /// Ends the block after the current instruction (the mode may have changed).
    func endBlockAfterInstruction() {
        exitBlock(nextEIP: nextAddress)
    }
}

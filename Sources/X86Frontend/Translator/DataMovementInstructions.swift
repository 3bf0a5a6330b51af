import IR
import X86State

/// MOV in its forms, XCHG, LEA, MOVZX/MOVSX, CBW/CWD, LAHF/SAHF, XLAT, the
/// far-pointer loads, CMOVcc, SETcc, BSWAP, XADD, CMPXCHG.
extension TranslationContext {
    func translateDataMovement() -> Bool {
        let opcode = instruction.opcode
        let bytes = operandBytes
        switch opcode {
        case 0x88, 0x89:
            write(modrmLocation(), readRegister(Int(instruction.reg), bytes: bytes), bytes: bytes)
        case 0x8A, 0x8B:
            writeRegister(Int(instruction.reg), bytes: bytes, read(modrmLocation(), bytes: bytes))
        case 0xC6 where instruction.reg == 0, 0xC7 where instruction.reg == 0:
            write(modrmLocation(), constant(instruction.immediate), bytes: bytes)
        case 0xB0...0xB7:
            writeRegister(Int(opcode & 7), bytes: 1, constant(instruction.immediate))
        case 0xB8...0xBF:
            writeRegister(Int(opcode & 7), bytes: bytes, constant(instruction.immediate))
        case 0xA0...0xA3:
            let offset = constant(UInt32(bitPattern: instruction.memory.displacement))
            if opcode <= 0xA1 {
                writeRegister(0, bytes: bytes, load(memorySegment, offset, bytes: bytes))
            } else {
                store(memorySegment, offset, readRegister(0, bytes: bytes), bytes: bytes)
            }
        case 0x8D:
            guard instruction.hasMemoryOperand else { return false }
            writeRegister(Int(instruction.reg), bytes: bytes, effectiveAddress())
        case 0x8C:
            // MOV r/m, Sreg: a 16-bit store to memory; to a register, 32-bit zero-extended with a 32-bit operand.
            guard instruction.reg < 6 else { return false }
            let selector = b.loadState(offset: CPUStateLayout.segmentSelector(Segment(rawValue: Int(instruction.reg))!), .u16)
            let location = modrmLocation(bytes: 2)
            if case .memory = location { write(location, selector, bytes: 2) } else { write(location, selector, bytes: bytes) }
        case 0x8E:
            guard instruction.reg < 6, instruction.reg != Segment.cs.rawValue else { return false }
            let selector = read(modrmLocation(bytes: 2), bytes: 2)
            loadSegment(Segment(rawValue: Int(instruction.reg))!, selector)
        case 0x86, 0x87:
            let location = modrmLocation()
            let memoryValue = read(location, bytes: bytes)
            let registerValue = readRegister(Int(instruction.reg), bytes: bytes)
            let kept = b.copy(registerValue)
            write(location, kept, bytes: bytes)
            writeRegister(Int(instruction.reg), bytes: bytes, memoryValue)
        case 0x90 where instruction.prefixes.contains(.rep):
            break  // PAUSE
        case 0x91...0x97:
            let register = Int(opcode & 7)
            let accumulator = b.copy(readRegister(0, bytes: bytes))
            writeRegister(0, bytes: bytes, readRegister(register, bytes: bytes))
            writeRegister(register, bytes: bytes, accumulator)
        case 0x90:
            break  // NOP (XCHG eAX, eAX)
        case 0x98:
            // CBW / CWDE: sign-extend the lower half of the accumulator.
            let half = readRegister(0, bytes: bytes / 2)
            writeRegister(0, bytes: bytes, signExtend(half, bytes: bytes / 2))
        case 0x99:
            // CWD / CDQ: eDX = the accumulator's sign, repeated.
            let accumulator = signExtend(readRegister(0, bytes: bytes), bytes: bytes)
            writeRegister(Register.edx.rawValue, bytes: bytes, b.binary(.sar, accumulator, constant: 31))
        case 0x9E:
            // SAHF: SF ZF AF PF CF from AH; OF kept.
            let overflow = overflowFlag()
            let fromAH = b.and(readRegister(4, bytes: 1), UInt64(EFLAGS.sign | EFLAGS.zero | EFLAGS.auxiliary | EFLAGS.parity | EFLAGS.carry))
            setFlags(value: b.or(overflow, fromAH))
        case 0x9F:
            // LAHF: AH = SF ZF 0 AF 0 PF 1 CF.
            let flags = b.or(b.and(arithmeticFlags(), 0xD5), constant(EFLAGS.reserved1))
            writeRegister(4, bytes: 1, flags)
        case 0xD6:
            // SALC: AL = CF ? 0xFF : 0.
            writeRegister(0, bytes: 1, b.unary(.neg, carryFlag()))
        case 0xD7:
            // XLAT: AL = [seg:eBX + AL].
            let offset = b.add(globals.registers[Register.ebx.rawValue], readRegister(0, bytes: 1))
            let address = instruction.addressSize == 16 ? b.unary(.ext16u, offset) : offset
            let segment = instruction.segmentOverride.map { Segment(rawValue: Int($0.rawValue))! } ?? .ds
            writeRegister(0, bytes: 1, load(segment, address, bytes: 1))
        case 0xC4, 0xC5, 0x0FB2, 0x0FB4, 0x0FB5:
            guard instruction.hasMemoryOperand else { return false }
            let segment: Segment
            switch opcode {
            case 0xC4: segment = .es
            case 0xC5: segment = .ds
            case 0x0FB2: segment = .ss
            case 0x0FB4: segment = .fs
            default: segment = .gs
            }
            let offsetAddress = effectiveAddress()
            let offset = load(memorySegment, offsetAddress, bytes: bytes)
            let selector = load(memorySegment, truncateAddress(b.add(offsetAddress, UInt64(bytes))), bytes: 2)
            // The offset register is written only once the segment load did not
            // fault, and before the block ends after the load.
            loadSegment(segment, selector) {
                writeRegister(Int(instruction.reg), bytes: bytes, offset)
            }
        case 0x0FB6, 0x0FB7, 0x0FBE, 0x0FBF:
            let sourceBytes = opcode & 1 == 0 ? 1 : 2
            let value = read(modrmLocation(bytes: sourceBytes), bytes: sourceBytes)
            writeRegister(Int(instruction.reg), bytes: bytes, opcode >= 0x0FBE ? signExtend(value, bytes: sourceBytes) : value)
        case 0x0F40...0x0F4F:
            // CMOVcc reads its source even when the condition fails, and with a
            // 32-bit operand always writes the destination (zero-extending).
            let source = read(modrmLocation(), bytes: bytes)
            let holds = conditionTest(UInt8(opcode & 0xF))
            let current = readRegister(Int(instruction.reg), bytes: bytes)
            writeRegister(Int(instruction.reg), bytes: bytes,
                          b.movcond(holds.condition, holds.left, rightOperand(holds), then: source, else: current))
        case 0x0F90...0x0F9F:
            write(modrmLocation(bytes: 1), condition(UInt8(opcode & 0xF)), bytes: 1)
        case 0x0FC8...0x0FCF:
            let register = Int(opcode & 7)
            let value = globals.registers[register]
            let swapped = b.or(b.or(b.shl(b.and(value, 0xFF), 24), b.shl(b.and(value, 0xFF00), 8)),
                               b.or(b.and(b.shr(value, 8), 0xFF00), b.shr(value, 24)))
            writeRegister(register, bytes: 4, swapped)
        case 0x0FC0, 0x0FC1:
            // XADD: destination gets the sum, the register the old destination.
            let location = modrmLocation()
            let old = read(location, bytes: bytes)
            let source = readRegister(Int(instruction.reg), bytes: bytes)
            let sum = truncate(b.add(old, source), bytes: bytes)
            write(location, sum, bytes: bytes)
            writeRegister(Int(instruction.reg), bytes: bytes, old)
            setFlags(.add, bytes: bytes, result: sum, source: source)
        case 0x0FB0, 0x0FB1:
            // CMPXCHG: compare the accumulator with the destination; the
            // destination is written either way (with itself on mismatch), as the CPU does.
            let location = modrmLocation()
            let old = read(location, bytes: bytes)
            let accumulator = readRegister(0, bytes: bytes)
            let equal = b.setcond(.eq, old, accumulator)
            let newValue = b.movcond(.ne, equal, constant(0), then: readRegister(Int(instruction.reg), bytes: bytes), else: old)
            write(location, newValue, bytes: bytes)
            writeRegister(0, bytes: bytes, b.movcond(.ne, equal, constant(0), then: accumulator, else: old))
            setFlags(.sub, bytes: bytes, result: truncate(b.sub(accumulator, old), bytes: bytes), source: old)
        default:
            return false
        }
        return true
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

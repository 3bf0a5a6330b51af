import IR
import X86State

/// Registers and addresses of 64-bit mode: the i64 views of RAX..R15, the
/// partial-register rules, RIP-relative operands and the FS/GS bases.
extension TranslationContext {
    /// Register `number` (0-15) at `bytes` width: i64 for 8 bytes, else an
    /// i32 zero-extended from its low bytes. Without a REX prefix, byte
    /// registers 4-7 are AH CH DH BH; with one, SPL BPL SIL DIL.
    func readRegister64(_ number: Int, bytes: Int) -> Temp {
        let registers = globals.registers64
        switch bytes {
        case 8: return b.copy(registers[number], .i64)
        case 4: return b.unary(.low64to32, registers[number])
        case 2: return b.unary(.ext16u, b.unary(.low64to32, registers[number]), .i32)
        default:
            if number >= 4 && number < 8 && !instruction.byteRegistersUniform {
                return b.extract(b.unary(.low64to32, registers[number - 4]), position: 8, size: 8, .i32)
            }
            return b.unary(.ext8u, b.unary(.low64to32, registers[number]), .i32)
        }
    }

    /// Writes `bytes` of `value` to register `number`: a 32-bit write clears
    /// bits 63-32, 16- and 8-bit writes keep the rest of the register.
    func writeRegister64(_ number: Int, bytes: Int, _ value: Temp) {
        let registers = globals.registers64
        switch bytes {
        case 8: b.move(into: registers[number], converted(value, to: .i64), .i64)
        case 4:
            if b.block.info(value).type == .i32 {
                b.unary(.extu32to64, into: registers[number], value, .i32)
            } else {
                b.unary(.ext32u, into: registers[number], value, .i64)
            }
        case 2:
            b.deposit(into: registers[number], registers[number], converted(value, to: .i64), position: 0, size: 16, .i64)
        default:
            let high = number >= 4 && number < 8 && !instruction.byteRegistersUniform
            let full = registers[high ? number - 4 : number]
            b.deposit(into: full, full, converted(value, to: .i64), position: high ? 8 : 0, size: 8, .i64)
        }
    }

    /// The memory operand's effective address, as i64: base + index << scale
    /// + displacement, or RIP-relative (from the next instruction's address);
    /// with a 67 prefix, cut to 32 bits.
    func effectiveAddress64() -> Temp {
        let memory = instruction.memory
        let displacement = UInt64(bitPattern: Int64(memory.displacement))
        var address: Temp
        if memory.base == MemoryOperand.instructionPointer {
            address = b.constant(nextAddress &+ displacement, .i64)
        } else {
            address = b.constant(displacement, .i64)
            if memory.hasBase {
                address = b.binary(.add, address, globals.registers64[Int(memory.base)], .i64)
            }
        }
        if memory.hasIndex {
            let register = globals.registers64[Int(memory.index)]
            let index = memory.scaleShift == 0 ? register : b.binary(.shl, register, constant: UInt64(memory.scaleShift), .i64)
            address = b.binary(.add, address, index, .i64)
        }
        if instruction.addressSize == 32 { address = b.unary(.ext32u, address, .i64) }
        return address
    }

    /// The linear address of `offset` in 64-bit mode: FS and GS add their
    /// bases; the other segments have none and no limit. The MMU checks
    /// that the result is canonical.
    func linearAddress64(_ offset: Temp, segment: Segment) -> Temp {
        let offset = converted(offset, to: .i64)
        guard segment == .fs || segment == .gs else { return offset }
        let base = b.loadState(offset: CPUStateLayout.segmentBase(segment), .u64, .i64)
        return b.binary(.add, base, offset, .i64)
    }

    /// A moffs operand's offset (A0-A3): 64 bits in 64-bit mode, 32 with 67.
    func directOffset() -> Temp {
        let low = UInt64(UInt32(bitPattern: instruction.memory.displacement))
        if long64 { return b.constant(UInt64(instruction.immediateHigh) << 32 | low, .i64) }
        return constant(UInt32(low))
    }

    /// The destination of a relative branch: the next instruction's address
    /// plus the signed displacement, cut to 16 bits with a 16-bit operand size.
    var relativeBranchTarget: UInt64 {
        guard long64 else { return UInt64(instruction.branchTarget(instructionAddress: UInt32(truncatingIfNeeded: instructionAddress))) }
        let target = nextAddress &+ UInt64(bitPattern: Int64(instruction.signedImmediate))
        return instruction.operandSize == 16 ? target & 0xFFFF : target
    }
}

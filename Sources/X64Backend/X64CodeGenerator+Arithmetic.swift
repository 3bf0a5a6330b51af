import IR

/// Moves, constants, arithmetic, shifts, extensions and bit fields. i32
/// results are computed with 32-bit instructions, which zero the upper half:
/// an i32 temp in a register is always zero-extended.
extension X64CodeGenerator {
    func translateArithmetic(_ op: IROp) {
        let size = op.type.operandSize
        let bits = op.type.bits
        switch op.opcode {
        case .movi:
            defineConstant(op.output, op.constant & op.type.mask)
        case .mov, .extu32to64:
            // An i32 input is already zero-extended: a copy is the conversion.
            let a = use(op.inputs.0)
            let out = outputRegister(reusing: op.inputs.0)
            if out != a { assembler.mov(size == .qword && op.opcode == .mov ? .qword : .dword, out, a) }
            define(op.output, in: out)
        case .add, .sub, .and, .or, .xor:
            if let b = immediate(op.inputs.1, size) {
                return translateWithImmediate(op, op.inputs.0, b)
            }
            if op.opcode != .sub, let a = immediate(op.inputs.0, size) {
                return translateWithImmediate(op, op.inputs.1, a)
            }
            fallthrough
        case .mul:
            let a = use(op.inputs.0), b = use(op.inputs.1)
            let out = outputRegister(reusing: op.inputs.0, avoiding: [b])
            if out != a { assembler.mov(size, out, a) }
            if let operation = Self.aluOperation(op.opcode) { assembler.alu(operation, size, out, b) }
            else { assembler.imul(size, out, b) }
            define(op.output, in: out)
        case .shl, .shr, .sar, .rotl, .rotr:
            // x86 masks the count to the operand width, exactly the IR's modulo.
            let operation: ShiftOperation
            switch op.opcode {
            case .shl: operation = .shl
            case .shr: operation = .shr
            case .sar: operation = .sar
            case .rotl: operation = .rol
            default: operation = .ror
            }
            if let count = constantOf[Int(op.inputs.1.index)] {
                let a = use(op.inputs.0)
                let out = outputRegister(reusing: op.inputs.0)
                if out != a { assembler.mov(size, out, a) }
                let masked = UInt8(count & UInt64(bits - 1))
                if masked != 0 { assembler.shift(operation, size, out, by: masked) }
                return define(op.output, in: out)
            }
            let a = use(op.inputs.0), b = use(op.inputs.1)
            assembler.mov(.dword, .rcx, b)
            let out = outputRegister(reusing: op.inputs.0)
            if out != a { assembler.mov(size, out, a) }
            assembler.shiftByCL(operation, size, out)
            define(op.output, in: out)
        case .neg, .not:
            let a = use(op.inputs.0)
            let out = outputRegister(reusing: op.inputs.0)
            if out != a { assembler.mov(size, out, a) }
            if op.opcode == .neg { assembler.neg(size, out) } else { assembler.not(size, out) }
            define(op.output, in: out)
        case .ext8s, .ext8u, .ext16s, .ext16u, .ext32s, .ext32u, .exts32to64, .low64to32, .high64to32:
            translateExtension(op)
        case .deposit:
            translateDeposit(op, size: size, bits: bits)
        case .extract, .sextract:
            let a = use(op.inputs.0)
            let out = outputRegister(reusing: op.inputs.0)
            if out != a { assembler.mov(size, out, a) }
            let position = Int(op.aux), fieldSize = Int(op.constant)
            if fieldSize < bits {
                // Move the field to the top, then back down with zero or sign fill.
                let left = bits - position - fieldSize
                if left > 0 { assembler.shift(.shl, size, out, by: UInt8(left)) }
                assembler.shift(op.opcode == .extract ? .shr : .sar, size, out, by: UInt8(bits - fieldSize))
            }
            define(op.output, in: out)
        default:
            preconditionFailure("\(op.opcode.name) is not arithmetic")
        }
    }

    /// add, sub, and, or, xor of `input` and a constant.
    private func translateWithImmediate(_ op: IROp, _ input: Temp, _ value: Int32) {
        let size = op.type.operandSize
        let a = use(input)
        let out = outputRegister(reusing: input)
        if out != a, op.opcode == .add || op.opcode == .sub, size == .dword || size == .qword,
           let displacement = op.opcode == .add ? value : (value == Int32.min ? nil : -value) {
            // Into another register: one LEA instead of a move and the operation.
            assembler.lea(size, out, MemoryOperand(base: a, displacement: displacement))
            return define(op.output, in: out)
        }
        if out != a { assembler.mov(size, out, a) }
        assembler.alu(Self.aluOperation(op.opcode)!, size, .register(out), immediate: value)
        define(op.output, in: out)
    }

    /// The x86 instruction of an IR add, sub, and, or or xor; nil for others.
    private static func aluOperation(_ opcode: IROpcode) -> ALUOperation? {
        switch opcode {
        case .add: return .add
        case .sub: return .sub
        case .and: return .and
        case .or: return .or
        case .xor: return .xor
        default: return nil
        }
    }

    private func translateExtension(_ op: IROp) {
        let a = use(op.inputs.0)
        let out = outputRegister(reusing: op.inputs.0)
        let size = op.opcode.resultType(op.type).operandSize
        switch op.opcode {
        case .ext8s: assembler.movsx(size, out, .register(a), from: .byte)
        case .ext8u: assembler.movzx(.dword, out, .register(a), from: .byte)
        case .ext16s: assembler.movsx(size, out, .register(a), from: .word)
        case .ext16u: assembler.movzx(.dword, out, .register(a), from: .word)
        case .ext32s, .exts32to64: assembler.movsxd(out, .register(a))
        case .ext32u, .low64to32:
            // Even onto itself: a 32-bit mov clears the upper half.
            assembler.mov(.dword, out, a)
        case .high64to32:
            if out != a { assembler.mov(.qword, out, a) }
            assembler.shift(.shr, .qword, out, by: 32)
        default:
            preconditionFailure()
        }
        define(op.output, in: out)
    }

    /// out = (a & ~field) | ((b << position) & field). The field of b is
    /// isolated with two shifts, so no mask constant is needed for it.
    private func translateDeposit(_ op: IROp, size: OperandSize, bits: Int) {
        let position = Int(op.aux), fieldSize = Int(op.constant)
        let a = use(op.inputs.0), b = use(op.inputs.1)
        if fieldSize == bits {
            let out = outputRegister(reusing: op.inputs.1)
            if out != b { assembler.mov(size, out, b) }
            return define(op.output, in: out)
        }
        if position == 0 && (fieldSize == 8 || fieldSize == 16) {
            // AL/AX-style writes: a byte or word move into the low part.
            let out = outputRegister(reusing: op.inputs.0)
            if out != a { assembler.mov(size, out, a) }
            assembler.mov(fieldSize == 8 ? .byte : .word, out, b)
            return define(op.output, in: out)
        }
        assembler.mov(size, .rax, b)
        let left = bits - fieldSize
        assembler.shift(.shl, size, .rax, by: UInt8(left))
        if left - position > 0 { assembler.shift(.shr, size, .rax, by: UInt8(left - position)) }
        let out = outputRegister(reusing: op.inputs.0)
        if out != a { assembler.mov(size, out, a) }
        let field = ((fieldSize >= 64 ? ~UInt64(0) : (UInt64(1) << UInt64(fieldSize)) - 1) << UInt64(position)) & op.type.mask
        andImmediate(size, out, ~field & op.type.mask)
        assembler.alu(.or, size, out, .rax)
        define(op.output, in: out)
    }

    /// and r, value: as an immediate when it fits (sign-extended for a
    /// qword), else through RCX.
    func andImmediate(_ size: OperandSize, _ register: HostRegister, _ value: UInt64) {
        let immediate: Int32? = size == .qword ? Int32(exactly: Int64(bitPattern: value))
                                               : Int32(truncatingIfNeeded: value)
        if let immediate {
            assembler.alu(.and, size, .register(register), immediate: immediate)
        } else {
            assembler.movImmediate(.rcx, value)
            assembler.alu(.and, size, register, .rcx)
        }
    }
}

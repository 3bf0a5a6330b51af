import IR

/// setcond, movcond and the branches: a CMP or TEST, then SETcc, CMOVcc or Jcc.
extension X64CodeGenerator {
    /// The x86 condition after `cmp a, b` (or `test a, b` for the test conditions).
    static func conditionCode(_ condition: Condition) -> ConditionCode {
        switch condition {
        case .eq, .testEq, .always, .never: return .e
        case .ne, .testNe: return .ne
        case .lt: return .l
        case .ge: return .ge
        case .le: return .le
        case .gt: return .g
        case .ltu: return .b
        case .geu: return .ae
        case .leu: return .be
        case .gtu: return .a
        }
    }

    /// Sets the flags for `condition` on two registers.
    func compare(_ condition: Condition, _ size: OperandSize, _ a: HostRegister, _ b: HostRegister) {
        if condition == .testEq || condition == .testNe {
            assembler.test(size, a, b)
        } else {
            assembler.alu(.cmp, size, a, b)
        }
    }

    /// Sets the flags for `condition` on temps `a` and `b`: a compare with a
    /// constant `b` takes it as an immediate.
    func compare(_ condition: Condition, _ size: OperandSize, _ a: Temp, _ b: Temp) {
        if condition != .testEq && condition != .testNe, let value = immediate(b, size) {
            // Against 0, TEST sets the same flags as CMP and is shorter.
            let register = use(a)
            if value == 0 { assembler.test(size, register, register) }
            else { assembler.alu(.cmp, size, .register(register), immediate: value) }
        } else {
            compare(condition, size, use(a), use(b))
        }
    }

    func translateCondition(_ op: IROp) {
        let size = op.type.operandSize
        let condition = op.condition
        if op.opcode == .setcond {
            let out: HostRegister
            switch condition {
            case .always, .never:
                out = outputRegister()
                assembler.movImmediate(out, condition == .always ? 1 : 0)
            default:
                compare(condition, size, op.inputs.0, op.inputs.1)
                assembler.setcc(Self.conditionCode(condition), .rax)
                out = outputRegister()
                // 0 or 1, zero-extended to 64 bits whatever the output's type.
                assembler.movzx(.dword, out, .register(.rax), from: .byte)
            }
            return define(op.output, in: out)
        }
        // movcond: the result is built in RAX so no input register is clobbered early.
        switch condition {
        case .always, .never:
            let source = use(condition == .always ? op.inputs.2 : op.inputs.3)
            assembler.mov(size, .rax, source)
        default:
            let then = use(op.inputs.2), otherwise = use(op.inputs.3)
            compare(condition, size, op.inputs.0, op.inputs.1)
            assembler.mov(size, .rax, otherwise)
            assembler.cmov(Self.conditionCode(condition), size, .rax, then)
        }
        let out = outputRegister()
        assembler.mov(size, out, .rax)
        define(op.output, in: out)
    }

    func translateBranch(_ op: IROp) {
        let target = irLabels[Int(op.constant)]
        switch op.opcode {
        case .label:
            endBasicBlock()
            resetRegisters()
            assembler.bind(target)
        case .br:
            endBasicBlock()
            assembler.jmp(target)
            resetRegisters()
        default:  // brcond
            let condition = op.condition
            let size = op.type.operandSize
            if condition == .always || condition == .never {
                endBasicBlock()
                if condition == .always { assembler.jmp(target) }
                return
            }
            // The operands are in registers before the stores (which leave
            // the flags alone, but the compare comes after them anyway).
            _ = use(op.inputs.0)
            if immediate(op.inputs.1, size) == nil || condition == .testEq || condition == .testNe { _ = use(op.inputs.1) }
            endBasicBlock()
            compare(condition, size, op.inputs.0, op.inputs.1)
            assembler.jcc(Self.conditionCode(condition), target)
            // Fall-through: registers still hold what they held, now clean.
        }
    }
}

import IR
import X86State

/// ADD OR ADC SBB AND SUB XOR CMP, INC DEC, NEG NOT, TEST.
extension TranslationContext {
    /// ADD OR ADC SBB AND SUB XOR CMP: operand1 op= operand2. The r/m operand
    /// is read first, whichever it is.
    func translateALU(_ operation: ALUOperation) {
        let bytes = operandBytes
        if instruction.operand2.usesRM {
            let source = loadOperand(instruction.operand2)
            let destination = operandLocation(instruction.operand1)
            alu(operation, destination: destination, read(destination, bytes: bytes), source, bytes: bytes)
        } else {
            let destination = operandLocation(instruction.operand1)
            let value = read(destination, bytes: bytes)
            alu(operation, destination: destination, value, loadOperand(instruction.operand2), bytes: bytes)
        }
    }

    /// TEST: flags from the AND of the operands, nothing written.
    func translateTest() {
        let value = loadOperand(instruction.operand1)
        let other = loadOperand(instruction.operand2)
        setFlags(.logic, bytes: operandBytes, result: b.and(value, other), source: constant(0))
    }

    /// NOT: no flags.
    func translateNot() {
        let location = operandLocation(instruction.operand1)
        write(location, b.unary(.not, read(location, bytes: operandBytes)), bytes: operandBytes)
    }

    /// NEG: the flags of 0 - value.
    func translateNeg() {
        let bytes = operandBytes
        let location = operandLocation(instruction.operand1)
        let value = read(location, bytes: bytes)
        let result = truncate(b.unary(.neg, value), bytes: bytes)
        write(location, result, bytes: bytes)
        setFlags(.sub, bytes: bytes, result: result, source: value)
    }

    /// One ALU operation; CMP writes nothing but flags. Memory is written before
    /// the flags so a faulting store leaves the flags as they were.
    func alu(_ operation: ALUOperation, destination: Location, _ a: Temp, _ b2: Temp, bytes: Int) {
        let result: Temp
        switch operation {
        case .add:
            result = truncate(b.add(a, b2), bytes: bytes)
            write(destination, result, bytes: bytes)
            setFlags(.add, bytes: bytes, result: result, source: b2)
        case .adc, .sbb:
            let carry = carryFlag()
            let sum = operation == .adc ? b.add(b.add(a, b2), carry) : b.sub(b.sub(a, b2), carry)
            result = truncate(sum, bytes: bytes)
            write(destination, result, bytes: bytes)
            setFlags(operation == .adc ? .adc : .sbb, bytes: bytes, result: result, source: b2, source2: carry)
        case .sub, .cmp:
            result = truncate(b.sub(a, b2), bytes: bytes)
            if operation == .sub { write(destination, result, bytes: bytes) }
            setFlags(.sub, bytes: bytes, result: result, source: b2)
        case .and, .or, .xor:
            let opcode: IROpcode = operation == .and ? .and : (operation == .or ? .or : .xor)
            result = b.binary(opcode, a, b2)
            write(destination, result, bytes: bytes)
            setFlags(.logic, bytes: bytes, result: result, source: constant(0))
        }
    }

    /// INC/DEC keep CF: the old carry goes in cc_src.
    func incrementOrDecrement(_ location: Location, decrement: Bool, bytes: Int) {
        let carry = carryFlag()
        let value = read(location, bytes: bytes)
        let result = truncate(decrement ? b.sub(value, constant(1)) : b.add(value, 1), bytes: bytes)
        write(location, result, bytes: bytes)
        setFlags(decrement ? .dec : .inc, bytes: bytes, result: result, source: carry)
    }
}

import IR
import X86State

/// ADD OR ADC SBB AND SUB XOR CMP, INC DEC, NEG NOT, TEST.
extension TranslationContext {
    /// The eight ALU operations by their opcode-row number (ADD=0 ... CMP=7).
    enum ALUOperation: Int {
        case add = 0, or, adc, sbb, and, sub, xor, cmp
    }

    func translateArithmetic() -> Bool {
        let opcode = instruction.opcode
        switch opcode {
        case 0x00...0x3F where opcode & 7 < 6:
            let operation = ALUOperation(rawValue: Int(opcode >> 3))!
            let bytes = operandBytes
            switch opcode & 7 {
            case 0, 1: // Eb,Gb / Ev,Gv
                let location = modrmLocation()
                alu(operation, destination: location, read(location, bytes: bytes), readRegister(Int(instruction.reg), bytes: bytes), bytes: bytes)
            case 2, 3: // Gb,Eb / Gv,Ev
                let source = read(modrmLocation(), bytes: bytes)
                alu(operation, destination: .register(Int(instruction.reg)), readRegister(Int(instruction.reg), bytes: bytes), source, bytes: bytes)
            default: // AL,Ib / eAX,Iz
                alu(operation, destination: .register(0), readRegister(0, bytes: bytes), constant(instruction.immediate), bytes: bytes)
            }
        case 0x80, 0x81, 0x82, 0x83:
            let operation = ALUOperation(rawValue: Int(instruction.reg))!
            let bytes = operandBytes
            let location = modrmLocation()
            let immediate = constant(bytes == 4 ? instruction.immediate : instruction.immediate & (bytes == 2 ? 0xFFFF : 0xFF))
            alu(operation, destination: location, read(location, bytes: bytes), immediate, bytes: bytes)
        case 0x40...0x4F:
            let register = Int(opcode & 7)
            incrementOrDecrement(.register(register), decrement: opcode >= 0x48, bytes: operandBytes)
        case 0xFE where instruction.reg <= 1, 0xFF where instruction.reg <= 1:
            incrementOrDecrement(modrmLocation(), decrement: instruction.reg == 1, bytes: operandBytes)
        case 0x84, 0x85:
            let value = read(modrmLocation(), bytes: operandBytes)
            setFlags(.logic, bytes: operandBytes, result: b.and(value, readRegister(Int(instruction.reg), bytes: operandBytes)), source: constant(0))
        case 0xA8, 0xA9:
            setFlags(.logic, bytes: operandBytes, result: b.and(readRegister(0, bytes: operandBytes), constant(instruction.immediate)), source: constant(0))
        case 0xF6 where instruction.reg <= 3, 0xF7 where instruction.reg <= 3:
            let bytes = operandBytes
            let location = modrmLocation()
            let value = read(location, bytes: bytes)
            switch instruction.reg {
            case 0, 1: // TEST Ev,Iz
                setFlags(.logic, bytes: bytes, result: b.and(value, constant(instruction.immediate)), source: constant(0))
            case 2: // NOT: no flags
                write(location, b.unary(.not, value), bytes: bytes)
            default: // NEG: as 0 - value
                let result = truncate(b.unary(.neg, value), bytes: bytes)
                write(location, result, bytes: bytes)
                setFlags(.sub, bytes: bytes, result: result, source: value)
            }
        default:
            return false
        }
        return true
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

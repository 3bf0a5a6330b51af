import CX87Host

/// FADD, FMUL, FSUB, FSUBR, FDIV, FDIVR; the raw values are the ModRM reg
/// field of the D8 forms. Results come from the host x87.
public enum X87ArithmeticOperation: UInt8, Sendable {
    case add = 0, multiply = 1, subtract = 4, subtractReverse = 5, divide = 6, divideReverse = 7
}

extension X87State {
    /// Register forms: ST(destination) = ST(destination) op ST(source), popping
    /// afterwards for the P forms. One of the two indices is 0.
    public mutating func arithmetic(_ operation: X87ArithmeticOperation, destination: Int, source: Int, pop: Bool) {
        if isEmpty(st: destination) || isEmpty(st: source) {
            if stackFault(overflow: false) {
                write(st: destination, .indefinite)
                if pop { self.pop() }
            }
            return
        }
        var a = self[st: destination]
        var b = self[st: source]
        var result = X87Register()
        let status = x87h_arith(Int32(operation.rawValue), hostWords, &a, &b, &result)
        if absorb(status) {
            write(st: destination, result)
            if pop { self.pop() }
        }
    }

    public mutating func arithmetic(_ operation: X87ArithmeticOperation, float32 operand: UInt32) {
        arithmeticWithMemory { cw, a, r in x87h_arith_f32(Int32(operation.rawValue), cw, &a, operand, &r) }
    }

    public mutating func arithmetic(_ operation: X87ArithmeticOperation, float64 operand: UInt64) {
        arithmeticWithMemory { cw, a, r in x87h_arith_f64(Int32(operation.rawValue), cw, &a, operand, &r) }
    }

    public mutating func arithmetic(_ operation: X87ArithmeticOperation, int16 operand: Int16) {
        arithmeticWithMemory { cw, a, r in x87h_arith_i16(Int32(operation.rawValue), cw, &a, operand, &r) }
    }

    public mutating func arithmetic(_ operation: X87ArithmeticOperation, int32 operand: Int32) {
        arithmeticWithMemory { cw, a, r in x87h_arith_i32(Int32(operation.rawValue), cw, &a, operand, &r) }
    }

    /// ST(0) = ST(0) op memory operand, where `host` runs the operation.
    @inline(__always)
    private mutating func arithmeticWithMemory(_ host: (X87HostWords, inout X87Register, inout X87Register) -> UInt16) {
        if isEmpty(st: 0) {
            if stackFault(overflow: false) { write(st: 0, .indefinite) }
            return
        }
        var a = self[st: 0]
        var result = X87Register()
        let status = host(hostWords, &a, &result)
        if absorb(status) { write(st: 0, result) }
    }
}

import CX87Host

/// Operations on ST(0) alone that replace it: FSQRT, FSIN, FCOS, FRNDINT, F2XM1.
public enum X87UnaryOperation: Int32, Sendable {
    case squareRoot, sine, cosine, roundToInteger, twoToXMinusOne
}

/// Operations on ST(0) that replace it and push a second result: FSINCOS,
/// FPTAN, FXTRACT.
public enum X87PushingOperation: Int32, Sendable {
    case sineCosine = 5, partialTangent = 6, extract = 7
}

/// Operations on ST(0) and ST(1): FPREM, FPREM1, FSCALE replace ST(0);
/// FPATAN, FYL2X, FYL2XP1 replace ST(1) and pop.
public enum X87BinaryOperation: Int32, Sendable {
    case partialRemainder, ieeeRemainder, scale, partialArctangent, log2TimesY, log2PlusOneTimesY

    var replacesST1AndPops: Bool { rawValue >= X87BinaryOperation.partialArctangent.rawValue }
}

extension X87State {
    public mutating func unary(_ operation: X87UnaryOperation) {
        if isEmpty(st: 0) {
            // C2 ("operand out of range") is cleared by the stack fault too.
            if operation == .sine || operation == .cosine { statusWord &= ~X87Bits.c2 }
            if stackFault(overflow: false) { write(st: 0, .indefinite) }
            return
        }
        var a = self[st: 0]
        var result = X87Register()
        var unused = X87Register()
        let status = x87h_unary(operation.rawValue, hostWords, &a, &result, &unused)
        if absorb(status) { write(st: 0, result) }
    }

    public mutating func pushing(_ operation: X87PushingOperation) {
        let underflow = isEmpty(st: 0)
        if underflow || !isEmpty(st: 7) {
            statusWord &= ~X87Bits.c2
            if stackFault(overflow: !underflow) {
                write(st: 0, .indefinite)
                push(.indefinite)
            }
            return
        }
        var a = self[st: 0]
        var top = X87Register()
        var below = X87Register()
        let status = x87h_unary(operation.rawValue, hostWords, &a, &top, &below)
        let trigonometric = operation != .extract
        guard absorb(status) else { return }
        if trigonometric && status & X87Bits.c2 != 0 { return }  // out of range: nothing pushed
        write(st: 0, below)
        push(top)
    }

    public mutating func binary(_ operation: X87BinaryOperation) {
        let replacesST1 = operation.replacesST1AndPops
        if isEmpty(st: 0) || isEmpty(st: 1) {
            // FPREM/FPREM1 report "complete" (C2 clear) on a stack fault.
            if operation == .partialRemainder || operation == .ieeeRemainder { statusWord &= ~X87Bits.c2 }
            if stackFault(overflow: false) {
                if replacesST1 {
                    write(st: 1, .indefinite)
                    pop()
                } else {
                    write(st: 0, .indefinite)
                }
            }
            return
        }
        var a = self[st: 0]
        var b = self[st: 1]
        var result = X87Register()
        let status = x87h_binary(operation.rawValue, hostWords, &a, &b, &result)
        guard absorb(status) else { return }
        if replacesST1 {
            write(st: 1, result)
            pop()
        } else {
            write(st: 0, result)
        }
    }

    /// FCHS and FABS touch only the sign bit and never raise numeric exceptions.
    public mutating func changeSign() { editSign { $0 ^ 0x8000 } }
    public mutating func absoluteValue() { editSign { $0 & 0x7FFF } }

    @inline(__always)
    private mutating func editSign(_ edit: (UInt16) -> UInt16) {
        if isEmpty(st: 0) {
            if stackFault(overflow: false) { write(st: 0, .indefinite) }
            return
        }
        var value = self[st: 0]
        value.signExponent = edit(value.signExponent)
        self[st: 0] = value
        clearC1()
    }
}

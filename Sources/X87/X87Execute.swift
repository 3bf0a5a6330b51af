/// Dispatch of decoded x87 instructions (escape 0-7 for D8-DF plus the ModRM
/// byte) to the instruction families. The CPU layer checks #NM and, for
/// waiting instructions, a pending exception (`hasPendingException`) before
/// calling, and records FIP/FOP/FDP for non-control ones.
extension X87State {
    /// Register forms (ModRM mod = 3). `eflags` is read by FCMOVcc only.
    public mutating func executeRegisterForm(escape: UInt8, modrm: UInt8, eflags: UInt32) -> X87Outcome {
        let i = Int(modrm & 7)
        let reg = (modrm >> 3) & 7
        var outcome = X87Outcome()
        switch escape & 7 {
        case 0:  // D8: op ST(0), ST(i)
            switch reg {
            case 2: compare(st: i, unordered: false, pops: 0)
            case 3: compare(st: i, unordered: false, pops: 1)
            default: arithmetic(X87ArithmeticOperation(rawValue: reg)!, destination: 0, source: i, pop: false)
            }
        case 1:
            if !executeD9(modrm: modrm) { return X87Outcome(.invalidOpcode) }
        case 2:  // DA: FCMOVB/E/BE/U, FUCOMPP
            if reg < 4 {
                conditionalMove(st: i, condition: X87Condition.holds(Int(reg), negated: false, eflags: eflags))
            } else if modrm == 0xE9 {
                compare(st: 1, unordered: true, pops: 2)
            } else {
                return X87Outcome(.invalidOpcode)
            }
        case 3:  // DB: FCMOVNcc, FNCLEX, FNINIT, FUCOMI, FCOMI
            switch reg {
            case 0...3: conditionalMove(st: i, condition: X87Condition.holds(Int(reg), negated: true, eflags: eflags))
            case 4:
                switch modrm {
                case 0xE0, 0xE1, 0xE4: break  // FNENI, FNDISI, FNSETPM: no-ops since the 287
                case 0xE2: clearExceptions()
                case 0xE3: initialize()
                default: return X87Outcome(.invalidOpcode)
                }
            case 5, 6:
                let flags = compareIntoEFLAGS(st: i, unordered: reg == 5, pop: false)
                outcome = X87Outcome(.writesEFLAGS, eflags: flags)
            default: return X87Outcome(.invalidOpcode)
            }
        case 4:  // DC: op ST(i), ST(0); the subtract and divide encodings are swapped
            switch reg {
            case 2: compare(st: i, unordered: false, pops: 0)  // FCOM2 alias
            case 3: compare(st: i, unordered: false, pops: 1)  // FCOMP3 alias
            default: arithmetic(Self.reversedDestinationOperation(reg), destination: i, source: 0, pop: false)
            }
        case 5:  // DD: FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP
            switch reg {
            case 0: free(st: i, pop: false)
            case 1: exchange(st: i)
            case 2: store(st: i, pop: false)
            case 3: store(st: i, pop: true)
            case 4: compare(st: i, unordered: true, pops: 0)
            case 5: compare(st: i, unordered: true, pops: 1)
            default: return X87Outcome(.invalidOpcode)
            }
        case 6:  // DE: op-and-pop ST(i), ST(0); FCOMPP
            switch reg {
            case 2: compare(st: i, unordered: false, pops: 1)  // FCOMP5 alias
            case 3:
                guard modrm == 0xD9 else { return X87Outcome(.invalidOpcode) }
                compare(st: 1, unordered: false, pops: 2)
            default: arithmetic(Self.reversedDestinationOperation(reg), destination: i, source: 0, pop: true)
            }
        default:  // DF: FFREEP, FXCH7, FSTP8/9, FNSTSW AX, FUCOMIP, FCOMIP
            switch reg {
            case 0: free(st: i, pop: true)
            case 1: exchange(st: i)
            case 2, 3: store(st: i, pop: true)
            case 4:
                guard modrm == 0xE0 else { return X87Outcome(.invalidOpcode) }
                outcome = X87Outcome(.writesAX, ax: statusWord)
            case 5, 6:
                let flags = compareIntoEFLAGS(st: i, unordered: reg == 5, pop: true)
                outcome = X87Outcome(.writesEFLAGS, eflags: flags)
            default: return X87Outcome(.invalidOpcode)
            }
        }
        if hasPendingException { outcome.effects.insert(.exceptionPending) }
        return outcome
    }

    /// DC/DE register forms name the operation for ST(i) = ST(i) op ST(0) with
    /// reg 4-7 meaning FSUBR, FSUB, FDIVR, FDIV.
    @inline(__always)
    private static func reversedDestinationOperation(_ reg: UInt8) -> X87ArithmeticOperation {
        X87ArithmeticOperation(rawValue: reg >= 4 ? reg ^ 1 : reg)!
    }

    /// D9 register forms; false for reserved encodings.
    private mutating func executeD9(modrm: UInt8) -> Bool {
        let i = Int(modrm & 7)
        switch modrm {
        case 0xC0...0xC7: load(st: i)
        case 0xC8...0xCF: exchange(st: i)
        case 0xD0: break  // FNOP
        case 0xD8...0xDF: storeAliasWithoutUnderflow(st: i)  // FSTP1
        case 0xE0: changeSign()
        case 0xE1: absoluteValue()
        case 0xE4: test()
        case 0xE5: examine()
        case 0xE8...0xEE: load(X87Constant(rawValue: Int32(modrm - 0xE8))!)
        case 0xF0: unary(.twoToXMinusOne)
        case 0xF1: binary(.log2TimesY)
        case 0xF2: pushing(.partialTangent)
        case 0xF3: binary(.partialArctangent)
        case 0xF4: pushing(.extract)
        case 0xF5: binary(.ieeeRemainder)
        case 0xF6: decrementTop()
        case 0xF7: incrementTop()
        case 0xF8: binary(.partialRemainder)
        case 0xF9: binary(.log2PlusOneTimesY)
        case 0xFA: unary(.squareRoot)
        case 0xFB: pushing(.sineCosine)
        case 0xFC: unary(.roundToInteger)
        case 0xFD: binary(.scale)
        case 0xFE: unary(.sine)
        case 0xFF: unary(.cosine)
        default: return false
        }
        return true
    }

    /// Memory forms (ModRM mod != 3) with an operand of at most 10 bytes. The
    /// CPU reads the operand before the call for loads (sizes from
    /// `X87Encoding.memoryOperand`) and writes it back when the outcome says
    /// `storesMemory`. FLDENV/FNSTENV/FRSTOR/FNSAVE report `usesBlockOperand`:
    /// use `loadEnvironment`, `storeEnvironment`, `restore` and `save`.
    public mutating func executeMemoryForm(escape: UInt8, reg: UInt8, operand: inout X87Operand) -> X87Outcome {
        var stored = false
        let low = operand.low
        switch (escape & 7, reg & 7) {
        case (0, 2): compare(float32: UInt32(truncatingIfNeeded: low), pop: false)
        case (0, 3): compare(float32: UInt32(truncatingIfNeeded: low), pop: true)
        case (0, let r): arithmetic(X87ArithmeticOperation(rawValue: r)!, float32: UInt32(truncatingIfNeeded: low))
        case (1, 0): load(float32: UInt32(truncatingIfNeeded: low))
        case (1, 2), (1, 3):
            if let v = storeFloat32(pop: reg & 7 == 3) { operand.low = UInt64(v); stored = true }
        case (1, 4), (1, 6), (5, 4), (5, 6): return X87Outcome(.usesBlockOperand)
        case (1, 5): loadControlWord(UInt16(truncatingIfNeeded: low))
        case (1, 7): operand.low = UInt64(controlWord); stored = true
        case (2, 2): compare(int32: Int32(truncatingIfNeeded: low), pop: false)
        case (2, 3): compare(int32: Int32(truncatingIfNeeded: low), pop: true)
        case (2, let r): arithmetic(X87ArithmeticOperation(rawValue: r)!, int32: Int32(truncatingIfNeeded: low))
        case (3, 0): load(integer: Int64(Int32(truncatingIfNeeded: low)))
        case (3, 1), (3, 2), (3, 3):
            if let v = storeInteger(width: 32, truncate: reg & 7 == 1, pop: reg & 7 != 2) {
                operand.low = UInt64(UInt32(truncatingIfNeeded: v)); stored = true
            }
        case (3, 5): load(extended: X87Register(significand: low, signExponent: operand.high))
        case (3, 7):
            if let v = storeExtended() { operand = X87Operand(low: v.significand, high: v.signExponent); stored = true }
        case (4, 2): compare(float64: low, pop: false)
        case (4, 3): compare(float64: low, pop: true)
        case (4, let r): arithmetic(X87ArithmeticOperation(rawValue: r)!, float64: low)
        case (5, 0): load(float64: low)
        case (5, 1), (5, 2), (5, 3):
            let v: UInt64? = reg & 7 == 1
                ? storeInteger(width: 64, truncate: true, pop: true).map { UInt64(bitPattern: $0) }
                : storeFloat64(pop: reg & 7 == 3)
            if let v { operand.low = v; stored = true }
        case (5, 7): operand.low = UInt64(statusWord); stored = true
        case (6, 2): compare(int16: Int16(truncatingIfNeeded: low), pop: false)
        case (6, 3): compare(int16: Int16(truncatingIfNeeded: low), pop: true)
        case (6, let r): arithmetic(X87ArithmeticOperation(rawValue: r)!, int16: Int16(truncatingIfNeeded: low))
        case (7, 0): load(integer: Int64(Int16(truncatingIfNeeded: low)))
        case (7, 1), (7, 2), (7, 3):
            if let v = storeInteger(width: 16, truncate: reg & 7 == 1, pop: reg & 7 != 2) {
                operand.low = UInt64(UInt16(truncatingIfNeeded: v)); stored = true
            }
        case (7, 4): load(bcd: X87Register(significand: low, signExponent: operand.high))
        case (7, 5): load(integer: Int64(bitPattern: low))
        case (7, 6):
            if let v = storeBCD() { operand = X87Operand(low: v.significand, high: v.signExponent); stored = true }
        case (7, 7):
            if let v = storeInteger(width: 64, truncate: false, pop: true) { operand.low = UInt64(bitPattern: v); stored = true }
        default: return X87Outcome(.invalidOpcode)
        }
        var outcome = X87Outcome(stored ? .storesMemory : [])
        if hasPendingException { outcome.effects.insert(.exceptionPending) }
        return outcome
    }
}

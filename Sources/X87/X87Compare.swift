import CX87Host

/// FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP, FICOM, FCOMI/FUCOMI(P), FTST, FXAM.
extension X87State {
    private static let unorderedCodes = X87Bits.c0 | X87Bits.c2 | X87Bits.c3

    /// Compares ST(0) with ST(i) into C0/C2/C3, then pops `pops` times (0-2).
    /// `unordered` selects FUCOM (QNaN operands do not raise invalid).
    public mutating func compare(st i: Int, unordered: Bool, pops: Int) {
        if isEmpty(st: 0) || isEmpty(st: i) {
            compareStackUnderflow(pops: pops)
            return
        }
        var a = self[st: 0]
        var b = self[st: i]
        let status = x87h_compare(unordered ? Int32(X87H_FUCOM) : Int32(X87H_FCOM), hostWords, &a, &b)
        finishCompare(status, pops: pops)
    }

    public mutating func compare(float32 operand: UInt32, pop: Bool) {
        compareWithMemory(pop: pop) { cw, a in x87h_compare_f32(cw, &a, operand) }
    }

    public mutating func compare(float64 operand: UInt64, pop: Bool) {
        compareWithMemory(pop: pop) { cw, a in x87h_compare_f64(cw, &a, operand) }
    }

    public mutating func compare(int16 operand: Int16, pop: Bool) {
        compareWithMemory(pop: pop) { cw, a in x87h_compare_i16(cw, &a, operand) }
    }

    public mutating func compare(int32 operand: Int32, pop: Bool) {
        compareWithMemory(pop: pop) { cw, a in x87h_compare_i32(cw, &a, operand) }
    }

    /// FCOMI/FCOMIP/FUCOMI/FUCOMIP: compares ST(0) with ST(i) and returns the
    /// new ZF/PF/CF (other bits zero).
    ///
    /// Known gap: after some sequences the AMD reference host leaves C1
    /// differently than this does (seen in random sweeps, about 1 in 300).
    public mutating func compareIntoEFLAGS(st i: Int, unordered: Bool, pop: Bool) -> UInt32 {
        // EFLAGS are written even when the instruction is aborted by an
        // unmasked invalid exception (then "unordered"); only the pop is skipped.
        if isEmpty(st: 0) || isEmpty(st: i) {
            // The masked response leaves C1 alone; an unmasked fault clears it.
            let c1 = statusWord & X87Bits.c1
            if stackFault(overflow: false) {
                statusWord |= c1
                if pop { self.pop() }
            }
            return X87Bits.zeroFlag | X87Bits.parityFlag | X87Bits.carryFlag
        }
        var a = self[st: 0]
        var b = self[st: i]
        var flags: UInt8 = 0
        let status = x87h_compare_eflags(unordered ? Int32(X87H_FUCOM) : Int32(X87H_FCOM), hostWords, &a, &b, &flags)
        // C1 is left alone (AMD does not clear it).
        if absorb(status) && pop { self.pop() }
        return UInt32(flags)
    }

    /// FTST: compares ST(0) with +0.0.
    public mutating func test() {
        if isEmpty(st: 0) {
            compareStackUnderflow(pops: 0)
            return
        }
        var a = self[st: 0]
        finishCompare(x87h_test(hostWords, &a), pops: 0)
    }

    /// FXAM: classifies ST(0) into C3/C2/C0 with its sign in C1; never raises.
    public mutating func examine() {
        let sign: UInt16 = self[st: 0].isNegative ? X87Bits.c1 : 0
        if isEmpty(st: 0) {
            statusWord = (statusWord & ~X87Bits.conditionCodes) | X87Bits.c3 | X87Bits.c0 | sign
            return
        }
        var a = self[st: 0]
        let status = x87h_examine(hostWords, &a)
        statusWord = (statusWord & ~X87Bits.conditionCodes) | (status & X87Bits.conditionCodes)
    }

    @inline(__always)
    private mutating func compareWithMemory(pop: Bool, _ host: (X87HostWords, inout X87Register) -> UInt16) {
        if isEmpty(st: 0) {
            compareStackUnderflow(pops: pop ? 1 : 0)
            return
        }
        var a = self[st: 0]
        finishCompare(host(hostWords, &a), pops: pop ? 1 : 0)
    }

    /// The condition codes are set even when an unmasked invalid exception
    /// aborts the comparison; only the pops are skipped then.
    @inline(__always)
    private mutating func finishCompare(_ status: UInt16, pops: Int) {
        guard absorb(status) else { return }
        for _ in 0..<pops { pop() }
    }

    /// An empty operand compares "unordered"; the pops happen only when IE is masked.
    private mutating func compareStackUnderflow(pops: Int) {
        let masked = stackFault(overflow: false)
        statusWord |= Self.unorderedCodes
        guard masked else { return }
        for _ in 0..<pops { pop() }
    }
}

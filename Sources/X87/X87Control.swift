/// Stack management and control instructions: FXCH, FFREE, FINCSTP/FDECSTP,
/// FCMOVcc, FNINIT, FNCLEX, FLDCW, and recording the last-instruction pointers.
extension X87State {
    /// FXCH ST(i). With an empty operand and IE masked, the empty side becomes
    /// the QNaN indefinite before the exchange.
    public mutating func exchange(st i: Int) {
        if isEmpty(st: 0) || isEmpty(st: i) {
            guard stackFault(overflow: false) else { return }
            if isEmpty(st: 0) { write(st: 0, .indefinite) }
            if isEmpty(st: i) { write(st: i, .indefinite) }
        } else {
            clearC1()
        }
        let a = self[st: 0]
        self[st: 0] = self[st: i]
        self[st: i] = a
    }

    /// FFREE ST(i) (and the undocumented FFREEP, which then pops).
    public mutating func free(st i: Int, pop: Bool) {
        setEmpty(st: i)
        clearC1()
        if pop { self.pop() }
    }

    /// The reserved alias D9 D8+i, documented by Intel as FSTP ST(i)
    /// ("FSTP1"). The AMD host this module is checked against does not report
    /// an empty ST(0) there: it then only pops, leaving ST(i) alone.
    public mutating func storeAliasWithoutUnderflow(st i: Int) {
        if isEmpty(st: 0) {
            pop()
            clearC1()
        } else {
            store(st: i, pop: true)
        }
    }

    /// FINCSTP/FDECSTP rotate TOP without touching the tags.
    public mutating func incrementTop() {
        top = (top &+ 1) & 7
        clearC1()
    }

    public mutating func decrementTop() {
        top = (top &- 1) & 7
        clearC1()
    }

    /// FCMOVcc: ST(0) = ST(i) when `condition` (evaluated by the caller from
    /// EFLAGS, see `X87Condition`) holds.
    public mutating func conditionalMove(st i: Int, condition: Bool) {
        if isEmpty(st: 0) || isEmpty(st: i) {
            if stackFault(overflow: false) { write(st: 0, .indefinite) }
            return
        }
        if condition { self[st: 0] = self[st: i] }
    }

    /// FNINIT (FINIT is FWAIT + FNINIT).
    public mutating func initialize() {
        controlWord = 0x037F
        statusWord = 0
        tagValid = 0
        fop = 0
        fip = 0
        fcs = 0
        fdp = 0
        fds = 0
    }

    /// FNCLEX: clears the exception flags, SF, ES and B.
    public mutating func clearExceptions() {
        statusWord &= ~(X87Bits.exceptions | X87Bits.stackFault | X87Bits.errorSummary | X87Bits.busy)
    }

    /// FLDCW. Unmasking an already-flagged exception makes it pending.
    public mutating func loadControlWord(_ value: UInt16) {
        controlWord = value & Self.controlWordWritableBits | Self.controlWordFixedBits
        refreshErrorSummary()
    }

    /// Bits kept by FLDCW; bit 6 always reads as 1, bits 7 and 13-15 as 0.
    static let controlWordWritableBits: UInt16 = 0x1F3F
    static let controlWordFixedBits: UInt16 = 0x0040

    /// Records a non-control instruction for FSTENV/FSAVE/FXSAVE: `opcode` is
    /// the FOP value (see `X87Encoding.fop`), `ip`/`cs` its address, and
    /// `dataPointer`/`ds` its memory operand's (pass the previous values for
    /// register forms if the CPU model keeps them).
    @inline(__always)
    public mutating func recordInstruction(opcode: UInt16, ip: UInt32, cs: UInt16, dataPointer: UInt32, ds: UInt16) {
        fop = opcode
        fip = ip
        fcs = cs
        fdp = dataPointer
        fds = ds
    }
}

/// The FCMOVcc conditions in encoding order of DA/DB C0-DF: B, E, BE, U.
public enum X87Condition {
    /// Whether condition `index` (0 B, 1 E, 2 BE, 3 U) holds, negated for the DB forms.
    @inline(__always)
    public static func holds(_ index: Int, negated: Bool, eflags: UInt32) -> Bool {
        let value: Bool
        switch index & 3 {
        case 0: value = eflags & X87Bits.carryFlag != 0
        case 1: value = eflags & X87Bits.zeroFlag != 0
        case 2: value = eflags & (X87Bits.carryFlag | X87Bits.zeroFlag) != 0
        default: value = eflags & X87Bits.parityFlag != 0
        }
        return value != negated
    }
}

import CX87Host

/// How exceptions reported by the host (or detected on the register stack)
/// end up in the guest status word, and whether the destination is written.
extension X87State {
    /// Sets ES and B exactly when some flagged exception is unmasked (after
    /// FLDCW, FCLEX and the like).
    /// The guest words the host runs an operation with.
    @inline(__always)
    var hostWords: X87HostWords { X87HostWords(control: controlWord, status: statusWord) }

    @inline(__always)
    mutating func refreshErrorSummary() {
        if statusWord & ~controlWord & X87Bits.exceptions != 0 {
            statusWord |= X87Bits.errorSummary | X87Bits.busy
        } else {
            statusWord &= ~(X87Bits.errorSummary | X87Bits.busy)
        }
    }

    /// Merges the status the host produced for one operation: its exception
    /// flags are ORed in (sticky) and its condition codes replace the guest's.
    /// The host started from the guest's condition codes, so the ones the
    /// instruction leaves alone come back unchanged, whether it completed or not.
    ///
    /// Returns whether the operation completes, that is whether the real CPU
    /// writes the destination and adjusts the stack: not when one of the
    /// `aborting` exceptions is unmasked. Arithmetic is aborted by unmasked
    /// invalid, denormal and zero-divide (a register destination with unmasked
    /// overflow/underflow gets the exponent-biased result, which the host
    /// computed since it ran with the guest's masks); stores to memory also by
    /// overflow and underflow; loads only by invalid (a denormal m32/m64 is
    /// still pushed).
    @inline(__always)
    mutating func absorb(_ hostStatus: UInt16, aborting: UInt16 = Self.abortsArithmetic) -> Bool {
        let raised = hostStatus & X87Bits.exceptions
        let unmasked = raised & ~controlWord
        let completes = unmasked & aborting == 0
        var status = (statusWord | raised) & ~X87Bits.conditionCodes | (hostStatus & X87Bits.conditionCodes)
        if unmasked != 0 {
            status |= X87Bits.errorSummary | X87Bits.busy
        }
        statusWord = status
        return completes
    }

    static let abortsArithmetic: UInt16 = X87Bits.invalid | X87Bits.denormal | X87Bits.zeroDivide
    static let abortsStore: UInt16 = abortsArithmetic | X87Bits.overflow | X87Bits.underflow
    static let abortsLoad: UInt16 = X87Bits.invalid

    /// Stack overflow or underflow (#IS): IE and SF set, C1 tells which.
    /// Returns true when IE is masked, and the caller then applies the masked
    /// response (usually writing the QNaN indefinite); when unmasked nothing
    /// else changes and #MF is pending.
    @inline(__always)
    mutating func stackFault(overflow: Bool) -> Bool {
        var status = statusWord | X87Bits.invalid | X87Bits.stackFault
        let masked = controlWord & X87Bits.invalid != 0
        status = overflow ? status | X87Bits.c1 : status & ~X87Bits.c1
        if !masked { status |= X87Bits.errorSummary | X87Bits.busy }
        statusWord = status
        return masked
    }

    @inline(__always)
    mutating func clearC1() { statusWord &= ~X87Bits.c1 }
}

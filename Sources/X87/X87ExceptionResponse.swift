/// How exceptions reported by the host (or detected on the register stack)
/// end up in the guest status word, and whether the destination is written.
extension X87State {
    /// Sets ES and B exactly when some flagged exception is unmasked (after
    /// FLDCW, FCLEX and the like).
    @inline(__always)
    mutating func refreshErrorSummary() {
        if statusWord & ~controlWord & X87Bits.exceptions != 0 {
            statusWord |= X87Bits.errorSummary | X87Bits.busy
        } else {
            statusWord &= ~(X87Bits.errorSummary | X87Bits.busy)
        }
    }

    /// Merges the status the host produced for one operation: its exception
    /// flags are ORed in (sticky), and when the operation completes the
    /// condition codes in `conditions` are taken from the host.
    ///
    /// Returns whether the operation completes, that is whether the real CPU
    /// writes the destination and adjusts the stack. An unmasked invalid,
    /// denormal or zero-divide exception aborts it; a store to memory is also
    /// aborted by an unmasked overflow or underflow. (A register destination
    /// with unmasked overflow/underflow gets the exponent-biased result, which
    /// the host computed since it ran with the guest's masks.)
    @inline(__always)
    mutating func absorb(_ hostStatus: UInt16, conditions: UInt16, memoryDestination: Bool = false) -> Bool {
        let raised = hostStatus & X87Bits.exceptions
        let unmasked = raised & ~controlWord
        let aborting: UInt16 = memoryDestination ? 0x1F : 0x07
        let completes = unmasked & aborting == 0
        var status = statusWord | raised
        if completes {
            status = (status & ~conditions) | (hostStatus & conditions)
        }
        if unmasked != 0 {
            status |= X87Bits.errorSummary | X87Bits.busy
        }
        statusWord = status
        return completes
    }

    /// Stack overflow or underflow (#IS): IE and SF set, C1 tells which.
    /// Returns true when IE is masked, and the caller then applies the masked
    /// response (usually writing the QNaN indefinite); when unmasked nothing
    /// else changes and #MF is pending.
    @inline(__always)
    mutating func stackFault(overflow: Bool) -> Bool {
        var status = statusWord | X87Bits.invalid | X87Bits.stackFault
        status = overflow ? status | X87Bits.c1 : status & ~X87Bits.c1
        let masked = controlWord & X87Bits.invalid != 0
        if !masked { status |= X87Bits.errorSummary | X87Bits.busy }
        statusWord = status
        return masked
    }

    @inline(__always)
    mutating func clearC1() { statusWord &= ~X87Bits.c1 }
}

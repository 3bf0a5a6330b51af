import X86Frontend
import X86State

/// The SSE state's runtime half: availability, MXCSR loads, the SIMD
/// floating-point exceptions, and the XMM part of FXSAVE/FXRSTOR.
extension X86CPU {
    /// SSE instructions run only with CR4.OSFXSR set and CR0.EM clear (else #UD).
    var sseEnabled: Bool {
        state.pointee.cr4 & ControlRegister.cr4OSFXSR != 0 && state.pointee.cr0 & ControlRegister.emulation == 0
    }

    /// LDMXCSR (and FXRSTOR's MXCSR): a reserved bit set raises #GP(0) and changes nothing.
    func loadMXCSR(_ value: UInt32) {
        guard value & ~MXCSR.writableMask == 0 else {
            return raiseException(ExceptionVector.generalProtection, errorCode: 0)
        }
        state.pointee.simd.setMXCSR(value)
        updateSIMDExceptionsMasked()
    }

    /// `HiddenFlags.simdExceptionsMasked` after MXCSR changed (the translator
    /// ends the block after LDMXCSR and FXRSTOR).
    func updateSIMDExceptionsMasked() {
        let masked = HiddenFlags.simdExceptionsMasked.rawValue
        let flags = state.pointee.hiddenFlags
        state.pointee.hiddenFlags = state.pointee.simd.masksEveryException ? flags | masked : flags & ~masked
    }

    /// The flags a host-run instruction raised (bits 0-5, not all zero).
    /// Masked ones are ORed into MXCSR, and the result is written after.
    /// An unmasked one leaves the destination as it was: when it is a
    /// pre-computation exception (invalid, denormal, divide by zero) only
    /// those flags are recorded, as the later checks do not happen; when it
    /// is overflow or underflow, inexact is not recorded (no result is
    /// delivered to be inexact), as the host CPU does (`SSEFaultTests`).
    /// The hardware still records inexact from another element of a packed
    /// operation; the flags of one run do not tell the elements apart, so
    /// that case records no inexact here;
    /// then #XM with CR4.OSXMMEXCPT set, #UD without it (SDM Vol. 1, 11.5).
    func simdException(raised: UInt32) {
        let mxcsr = state.pointee.simd.mxcsr
        let unmasked = raised & ~(mxcsr >> MXCSR.maskShift) & MXCSR.exceptionFlags
        if unmasked == 0 {
            state.pointee.simd.mxcsr = mxcsr | raised
            return
        }
        var recorded = raised
        if unmasked & MXCSR.precomputation != 0 {
            recorded = raised & MXCSR.precomputation
        } else if unmasked & (MXCSR.overflow | MXCSR.underflow) != 0 {
            recorded = raised & ~MXCSR.precision
        }
        state.pointee.simd.mxcsr = mxcsr | recorded
        let vector = state.pointee.cr4 & ControlRegister.cr4OSXMMEXCPT != 0
            ? ExceptionVector.simdFloatingPoint : ExceptionVector.invalidOpcode
        raiseException(vector, errorCode: nil)
    }

    /// Bytes of the FXSAVE image this CPU writes and reads: the x87 part,
    /// and with CR4.OSFXSR MXCSR, MXCSR_MASK and XMM0-7 (bytes 160-287).
    var fxsaveBytes: Int { state.pointee.cr4 & ControlRegister.cr4OSFXSR != 0 ? 288 : 160 }

    /// FXSAVE's SSE part into `buffer` (when OSFXSR is set).
    func fxsaveSIMD(to buffer: UnsafeMutableRawPointer) {
        let simd = state.pointee.simd
        (buffer + 24).storeBytes(of: simd.mxcsr.littleEndian, as: UInt32.self)
        (buffer + 28).storeBytes(of: MXCSR.writableMask.littleEndian, as: UInt32.self)
        for index in 0..<8 {
            let register = simd.register(index)
            (buffer + 160 + 16 * index).storeBytes(of: register.low.littleEndian, as: UInt64.self)
            (buffer + 168 + 16 * index).storeBytes(of: register.high.littleEndian, as: UInt64.self)
        }
    }

    /// The MXCSR of an FXRSTOR image, nil (after raising #GP(0)) when it sets a reserved bit.
    func fxrstorMXCSR(from buffer: UnsafeRawPointer) -> UInt32? {
        let value = UInt32(littleEndian: (buffer + 24).loadUnaligned(as: UInt32.self))
        guard value & ~MXCSR.writableMask == 0 else {
            raiseException(ExceptionVector.generalProtection, errorCode: 0)
            return nil
        }
        return value
    }

    /// FXRSTOR's SSE part from `buffer`, its MXCSR already checked.
    func fxrstorSIMD(from buffer: UnsafeRawPointer, mxcsr: UInt32) {
        state.pointee.simd.setMXCSR(mxcsr)
        updateSIMDExceptionsMasked()
        for index in 0..<8 {
            state.pointee.simd.setRegister(index, low: UInt64(littleEndian: (buffer + 160 + 16 * index).loadUnaligned(as: UInt64.self)),
                                           high: UInt64(littleEndian: (buffer + 168 + 16 * index).loadUnaligned(as: UInt64.self)))
        }
    }
}

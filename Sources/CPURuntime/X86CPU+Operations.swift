import PCEmuSupport
import X86Frontend
import X86State

/// The complicated instructions' semantics, called from helpers.
extension X86CPU {
    // MARK: registers

    func register(_ number: Int) -> UInt32 {
        withUnsafeBytes(of: &state.pointee.registers) { UInt32(truncatingIfNeeded: $0.load(fromByteOffset: 8 * number, as: UInt64.self)) }
    }

    func setRegister(_ number: Int, _ value: UInt32, bytes: Int = 4) {
        withUnsafeMutableBytes(of: &state.pointee.registers) { raw in
            let old = raw.load(fromByteOffset: 8 * number, as: UInt64.self)
            // A 32-bit write clears bits 63-32 in 64-bit mode (and keeps them elsewhere).
            let mask: UInt64 = bytes == 4 ? (HiddenFlags.isCode64(state.pointee.hiddenFlags) ? ~0 : 0xFFFF_FFFF)
                                          : (bytes == 2 ? 0xFFFF : 0xFF)
            raw.storeBytes(of: (old & ~mask) | (UInt64(value) & mask), toByteOffset: 8 * number, as: UInt64.self)
        }
    }

    var protectedMode: Bool { state.pointee.cr0 & ControlRegister.protectionEnable != 0 }
    var virtual8086: Bool { protectedMode && state.pointee.eflags & EFLAGS.virtual8086 != 0 }
    /// Protected mode proper, where selectors name descriptors.
    var descriptorMode: Bool { protectedMode && !virtual8086 }

    // MARK: stack (for helpers)

    /// SS's B bit picks ESP or SP, in real mode too (a big SS kept from protected mode).
    private var stackIs32: Bool { !virtual8086 && segment(.ss).isBig }

    /// Outside protected mode a stack access must fit under SS's limit: a word at
    /// offset FFFF (with the usual 64 KiB limit) raises #SS, as an i386 does.
    /// Records the fault and answers true when `pointer` does not fit.
    func stackLimitFault(at pointer: UInt32, bytes: Int) -> Bool {
        guard !protectedMode, pointer > segment(.ss).limit &- UInt32(bytes - 1) || segment(.ss).limit < UInt32(bytes - 1) else { return false }
        raiseException(ExceptionVector.stackFault, errorCode: 0)
        return true
    }

    /// Pushes for a helper; a push that faults changes nothing.
    func push(_ value: UInt32, bytes: Int) {
        let pointer = (register(Register.esp.rawValue) &- UInt32(bytes)) & (stackIs32 ? ~0 : 0xFFFF)
        if stackLimitFault(at: pointer, bytes: bytes) { return }
        mmu.store(linear(segment(.ss).base, pointer), UInt64(value), bytes: bytes, mmu: 0)
        setRegister(Register.esp.rawValue, pointer, bytes: stackIs32 ? 4 : 2)
    }

    /// Pops for a helper; a pop that faults changes nothing and gives 0.
    func pop(bytes: Int) -> UInt32 {
        let pointer = register(Register.esp.rawValue) & (stackIs32 ? ~0 : 0xFFFF)
        if stackLimitFault(at: pointer, bytes: bytes) { return 0 }
        let value = UInt32(truncatingIfNeeded: mmu.load(linear(segment(.ss).base, pointer), bytes: bytes, mmu: 0))
        setRegister(Register.esp.rawValue, pointer &+ UInt32(bytes), bytes: stackIs32 ? 4 : 2)
        return value
    }

    // MARK: flags

    func writeFlags(_ value: UInt32, operandBytes: Int) {
        var writable = EFLAGS.arithmetic | EFLAGS.trap | EFLAGS.direction | EFLAGS.nestedTask
        if operandBytes == 4 { writable |= EFLAGS.alignmentCheck | EFLAGS.identification }
        let cpl = state.pointee.hiddenFlags & HiddenFlags.cplMask
        let iopl = (state.pointee.eflags & EFLAGS.iopl) >> EFLAGS.ioplShift
        if !protectedMode || cpl == 0 { writable |= EFLAGS.iopl | EFLAGS.interrupt } else if cpl <= iopl { writable |= EFLAGS.interrupt }
        if operandBytes == 2 { writable &= 0xFFFF }
        LazyFlagsEvaluation.setFullFlags(state, value, writable: writable)
        updateHiddenFlags()
    }

    // MARK: segments and far transfers

    func loadSegment(_ target: Segment, selector: UInt16) {
        if descriptorMode {
            do {
                try loadProtectedSegment(target, selector: selector)
                if target == .ss { state.pointee.hiddenFlags |= HiddenFlags.interruptShadow.rawValue }
                updateHiddenFlags()
            } catch { raise(error) }
            return
        }
        var cache = segment(target)
        cache.selector = UInt32(selector)
        cache.base = LinearAddress(selector) << 4
        if virtual8086 { cache = .realMode(selector: selector, code: target == .cs) }
        setSegment(target, cache)
        if target == .ss { state.pointee.hiddenFlags |= HiddenFlags.interruptShadow.rawValue }
        updateHiddenFlags()
    }

    func farJump(selector: UInt16, offset: UInt32, bytes: Int) {
        if descriptorMode {
            do { try protectedFarJump(selector: selector, offset: offset, bytes: bytes) } catch { raise(error) }
            return
        }
        var cache = segment(.cs)
        cache.selector = UInt32(selector)
        cache.base = LinearAddress(selector) << 4
        setSegment(.cs, cache)
        state.pointee.eip = UInt64(bytes == 2 ? offset & 0xFFFF : offset)
        updateHiddenFlags()
    }

    /// The EIP after the current instruction, `length` bytes long, wrapped at
    /// 64 KiB in 16-bit code as the translator wraps it.
    func nextInstructionAddress(length: UInt8) -> UInt32 {
        let next = UInt32(truncatingIfNeeded: state.pointee.currentInstruction) &+ UInt32(length)
        return state.pointee.hiddenFlags & HiddenFlags.code32.rawValue != 0 ? next : next & 0xFFFF
    }

    /// The same in long mode: the whole RIP in 64-bit mode.
    func nextInstructionAddress64(length: UInt8) -> UInt64 {
        guard HiddenFlags.isCode64(state.pointee.hiddenFlags) else { return UInt64(nextInstructionAddress(length: length)) }
        return state.pointee.currentInstruction &+ UInt64(length)
    }

    func farCall(selector: UInt16, offset: UInt32, bytes: Int, returnAddress: UInt32) {
        if descriptorMode {
            do { try protectedFarCall(selector: selector, offset: offset, bytes: bytes, returnAddress: returnAddress) } catch { raise(error) }
            return
        }
        let stackPointer = register(Register.esp.rawValue)
        push(segment(.cs).selector, bytes: bytes)
        push(returnAddress, bytes: bytes)
        // A frame that does not fit leaves SP as it was.
        if state.pointee.pendingException >= 0 { return setRegister(Register.esp.rawValue, stackPointer) }
        farJump(selector: selector, offset: offset, bytes: bytes)
    }

    func farReturn(bytes: Int, release: UInt32) {
        if descriptorMode {
            do { try protectedFarReturn(bytes: bytes, release: release) } catch { raise(error) }
            return
        }
        let stackPointer = register(Register.esp.rawValue)
        let offset = pop(bytes: bytes)
        let selector = UInt16(truncatingIfNeeded: pop(bytes: bytes))
        if state.pointee.pendingException >= 0 { return setRegister(Register.esp.rawValue, stackPointer) }
        let pointer = register(Register.esp.rawValue) &+ release
        setRegister(Register.esp.rawValue, pointer, bytes: stackIs32 ? 4 : 2)
        farJump(selector: selector, offset: offset, bytes: bytes)
    }

    func interruptReturn(bytes: Int) {
        if protectedMode {
            do { try protectedInterruptReturn(bytes: bytes) } catch { raise(error) }
            return
        }
        let stackPointer = register(Register.esp.rawValue)
        let offset = pop(bytes: bytes)
        let selector = UInt16(truncatingIfNeeded: pop(bytes: bytes))
        let flags = pop(bytes: bytes)
        if state.pointee.pendingException >= 0 { return setRegister(Register.esp.rawValue, stackPointer) }
        farJump(selector: selector, offset: offset, bytes: bytes)
        writeFlags(flags, operandBytes: bytes)
    }

    // MARK: arithmetic

    /// DIV/IDIV of eDX:eAX (or AX) by `divisor`; #DE on zero or a quotient that does not fit.
    func divide(by divisor: UInt64, bytes: Int, signed: Bool) {
        if bytes == 8 { return divide64(by: divisor, signed: signed) }
        let divisor = UInt32(truncatingIfNeeded: divisor)
        let bits = UInt64(8 * bytes)
        let mask: UInt64 = bytes == 4 ? 0xFFFF_FFFF : (1 << bits) - 1
        let divisorValue = UInt64(divisor) & mask
        guard divisorValue != 0 else { return raiseException(ExceptionVector.divideError) }
        let dividend: UInt64
        if bytes == 1 {
            dividend = UInt64(register(0) & 0xFFFF)
        } else {
            dividend = (UInt64(register(Register.edx.rawValue)) & mask) << bits | (UInt64(register(0)) & mask)
        }
        var quotient: UInt64, remainder: UInt64
        if signed {
            let dividendBits = 2 * bits
            let signedDividend = Int64(bitPattern: dividend << (64 - dividendBits)) >> (64 - dividendBits)
            let signedDivisor = Int64(bitPattern: divisorValue << (64 - bits)) >> (64 - bits)
            let (q, overflow) = signedDividend.dividedReportingOverflow(by: signedDivisor)
            let limit = Int64(1) << (bits - 1)
            guard !overflow, q >= -limit, q < limit else { return raiseException(ExceptionVector.divideError) }
            quotient = UInt64(bitPattern: q) & mask
            remainder = UInt64(bitPattern: signedDividend.remainderReportingOverflow(dividingBy: signedDivisor).partialValue) & mask
        } else {
            quotient = dividend / divisorValue
            remainder = dividend % divisorValue
            guard quotient <= mask else { return raiseException(ExceptionVector.divideError) }
        }
        if bytes == 1 {
            setRegister(0, UInt32(quotient | remainder << 8), bytes: 2)
        } else {
            setRegister(0, UInt32(quotient), bytes: bytes)
            setRegister(Register.edx.rawValue, UInt32(remainder), bytes: bytes)
        }
    }

    /// DIV/IDIV r/m64: RDX:RAX by a quadword; #DE for a zero divisor or a
    /// quotient that does not fit.
    func divide64(by divisor: UInt64, signed: Bool) {
        guard divisor != 0 else { return raiseException(ExceptionVector.divideError) }
        let high = register64(Register.edx.rawValue), low = register64(0)
        let quotient: UInt64, remainder: UInt64
        if signed {
            // Magnitudes, then the signs: the quotient's is the XOR of both, the remainder's the dividend's.
            let negativeDividend = Int64(bitPattern: high) < 0, negativeDivisor = Int64(bitPattern: divisor) < 0
            var (magnitudeHigh, magnitudeLow) = (high, low)
            if negativeDividend {
                magnitudeLow = ~low &+ 1
                magnitudeHigh = ~high &+ (magnitudeLow == 0 ? 1 : 0)
            }
            let magnitudeDivisor = negativeDivisor ? ~divisor &+ 1 : divisor
            guard magnitudeHigh < magnitudeDivisor else { return raiseException(ExceptionVector.divideError) }
            let (q, r) = magnitudeDivisor.dividingFullWidth((magnitudeHigh, magnitudeLow))
            let negativeQuotient = negativeDividend != negativeDivisor
            guard negativeQuotient ? q <= 1 << 63 : q < 1 << 63 else { return raiseException(ExceptionVector.divideError) }
            quotient = negativeQuotient ? ~q &+ 1 : q
            remainder = negativeDividend ? ~r &+ 1 : r
        } else {
            guard high < divisor else { return raiseException(ExceptionVector.divideError) }
            (quotient, remainder) = divisor.dividingFullWidth((high, low))
        }
        setRegister64(0, quotient)
        setRegister64(Register.edx.rawValue, remainder)
    }

    /// AAA AAS DAA DAS AAM AAD on AL/AH and the flags.
    func decimalAdjust(opcode: UInt8, base: UInt8) {
        var flags = LazyFlagsEvaluation.fullFlags(state)
        var ax = register(0) & 0xFFFF
        var al = ax & 0xFF
        let carry = flags & EFLAGS.carry != 0
        let auxiliary = flags & EFLAGS.auxiliary != 0
        var newCarry = false, newAuxiliary = false
        switch opcode {
        case 0x27, 0x2F:  // DAA, DAS
            let oldAL = al
            if al & 0xF > 9 || auxiliary {
                newCarry = carry || (opcode == 0x27 ? al + 6 > 0xFF : al < 6)
                al = (opcode == 0x27 ? al &+ 6 : al &- 6) & 0xFF
                newAuxiliary = true
            }
            if oldAL > 0x99 || carry {
                al = (opcode == 0x27 ? al &+ 0x60 : al &- 0x60) & 0xFF
                newCarry = true
            }
            ax = (ax & 0xFF00) | al
        case 0x37, 0x3F:  // AAA, AAS
            if al & 0xF > 9 || auxiliary {
                // AX moves as a whole (a borrow out of AL reaches AH), then AH by one more.
                ax = opcode == 0x37 ? ax &+ 0x106 : (ax &- 6) &- 0x100
                newCarry = true
                newAuxiliary = true
            }
            ax = ax & 0xFF0F
        case 0xD4:  // AAM
            guard base != 0 else { return raiseException(ExceptionVector.divideError) }
            ax = (al / UInt32(base)) << 8 | (al % UInt32(base))
        default:  // AAD
            al = (al &+ (ax >> 8) &* UInt32(base)) & 0xFF
            ax = al
        }
        setRegister(0, ax, bytes: 2)
        let result = ax & 0xFF
        flags &= ~EFLAGS.arithmetic
        if newCarry { flags |= EFLAGS.carry }
        if newAuxiliary { flags |= EFLAGS.auxiliary }
        if result == 0 { flags |= EFLAGS.zero }
        if result & 0x80 != 0 { flags |= EFLAGS.sign }
        if result.nonzeroBitCount & 1 == 0 { flags |= EFLAGS.parity }
        LazyFlagsEvaluation.setFullFlags(state, flags, writable: EFLAGS.arithmetic)
    }
}

import X86State

/// Computes the arithmetic flags from the lazy cc_op/cc_src/cc_dst/cc_src2,
/// the runtime half of `LazyFlags` in the translator.
enum LazyFlagsEvaluation {
    static func flags(_ state: UnsafeMutablePointer<CPUState>) -> UInt32 {
        let operation = ConditionCodeOperation(rawValue: state.pointee.ccOp)
        let source = state.pointee.ccSource
        if operation.kind == .eflags { return UInt32(truncatingIfNeeded: source) & EFLAGS.arithmetic }
        // Values are cut to the operation's width: 8, 16, 32 or 64 bits.
        let bits = UInt64(8) << UInt64(operation.sizeShift)
        let mask: UInt64 = bits == 64 ? ~0 : (1 << bits) - 1
        let sign: UInt64 = 1 << (bits - 1)
        let result = state.pointee.ccDestination & mask
        let second = source & mask
        let carryIn = state.pointee.ccSource2 & 1
        var carry = false, overflow = false, auxiliary = false
        switch operation.kind {
        case .add, .adc:
            let first = (result &- second &- (operation.kind == .adc ? carryIn : 0)) & mask
            carry = operation.kind == .adc && carryIn != 0 ? result <= first : result < first
            overflow = (first ^ result) & (second ^ result) & sign != 0
            auxiliary = (first ^ second ^ result) & 0x10 != 0
        case .sub, .sbb:
            let first = (result &+ second &+ (operation.kind == .sbb ? carryIn : 0)) & mask
            carry = operation.kind == .sbb && carryIn != 0 ? first <= second : first < second
            overflow = (first ^ second) & (first ^ result) & sign != 0
            auxiliary = (first ^ second ^ result) & 0x10 != 0
        case .logic:
            break
        case .inc:
            carry = source & 1 != 0
            overflow = result == sign
            auxiliary = result & 0xF == 0
        case .dec:
            carry = source & 1 != 0
            overflow = result == sign - 1
            auxiliary = result & 0xF == 0xF
        case .shl:
            carry = source & sign != 0
            overflow = (source ^ result) & sign != 0
        case .sar:
            carry = source & 1 != 0
            overflow = (source ^ result) & sign != 0
        case .mul:
            carry = source != 0
            overflow = carry
        case .eflags:
            break
        }
        var flags: UInt32 = 0
        if carry { flags |= EFLAGS.carry }
        if (result & 0xFF).nonzeroBitCount & 1 == 0 { flags |= EFLAGS.parity }
        if auxiliary { flags |= EFLAGS.auxiliary }
        if result == 0 { flags |= EFLAGS.zero }
        if result & sign != 0 { flags |= EFLAGS.sign }
        if overflow { flags |= EFLAGS.overflow }
        return flags
    }

    /// The whole EFLAGS register as software sees it.
    static func fullFlags(_ state: UnsafeMutablePointer<CPUState>) -> UInt32 {
        var value = (state.pointee.eflags & ~(EFLAGS.arithmetic | EFLAGS.direction)) | flags(state) | EFLAGS.reserved1
        if state.pointee.direction < 0 { value |= EFLAGS.direction }
        return value
    }

    /// Replaces EFLAGS (the bits in `writable`), keeping the others.
    static func setFullFlags(_ state: UnsafeMutablePointer<CPUState>, _ value: UInt32, writable: UInt32) {
        let current = fullFlags(state)
        let merged = (current & ~writable) | (value & writable)
        state.pointee.ccOp = ConditionCodeOperation.eflags.rawValue
        state.pointee.ccSource = UInt64(merged & EFLAGS.arithmetic)
        state.pointee.direction = merged & EFLAGS.direction != 0 ? -1 : 1
        state.pointee.eflags = (merged & ~(EFLAGS.arithmetic | EFLAGS.direction)) | EFLAGS.reserved1
    }
}

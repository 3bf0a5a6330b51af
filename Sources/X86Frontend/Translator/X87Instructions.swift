import IR
import X86State
import X87

/// x87 escapes D8-DF, WAIT/FWAIT, FXSAVE/FXRSTOR: availability checks in IR,
/// then one call of the `x87` helper, which runs the instruction on the
/// state's `X87State` and does its memory accesses itself.
extension TranslationContext {
    /// WAIT/FWAIT.
    func translateWait() {
        // On the host FPU nothing can be pending, and with CR0.TS clear
        // (the block's flags say so) WAIT cannot raise #NM: it does nothing.
        if flags.contains(.x87OnHost) && !flags.contains(.fpuUnavailable) { return }
        // WAIT: #NM only when CR0.MP and CR0.TS are both set, which the
        // block's flags do not say: the helper checks CR0 when it runs.
        b.call(X86Helper.x87.index, [b.constant(record: X87Call(kind: X87Call.wait)), constant(0),
                                      addressValue(instructionAddress)])
    }

    /// An x87 escape (`kind` 0...7 for D8...DF), FXSAVE or FXRSTOR (`X87Call.fxsave`, `.fxrstor`).
    func translateX87(kind: UInt8) {
        mmxReady = false
        if instructionSetMissing {  // FISTTP without SSE3
            raiseException(ExceptionVector.invalidOpcode)
            return
        }
        if flags.contains(.fpuUnavailable) {
            raiseException(ExceptionVector.deviceNotAvailable)
            return
        }
        if kind < 8 && flags.contains(.x87OnHost) && translateX87OnHost(escape: kind) { return }
        let modrm = instruction.modrmByte
        if kind < 8 && !flags.contains(.x87OnHost) && X87Encoding.isWaiting(escape: kind, modrm: modrm) {
            checkPendingX87Exception()
        }
        var linear = constant(0)
        if instruction.hasMemoryOperand {
            guard let bytes = x87MemoryBytes(kind: kind) else {
                raiseException(ExceptionVector.invalidOpcode)
                return
            }
            linear = linearAddress(effectiveAddress(), segment: memorySegment, bytes: bytes)
        }
        let call = X87Call(kind: kind, modrm: modrm, memory: instruction.hasMemoryOperand,
                           operand32: operandBytes == 4, segment: memorySegment.rawValue)
        b.call(X86Helper.x87.index, [b.constant(record: call), linear, addressValue(instructionAddress)])
        // The helper took the FPU back from the host's.
        hostX87Acquired = false
        x87HelperCalled = true
        // A new control word or environment may end running x87 code on the
        // host; FXRSTOR's MXCSR may unmask SIMD exceptions.
        if (flags.contains(.x87OnHost) && changesX87Mode(kind: kind)) || kind == X87Call.fxrstor {
            endBlockAfterInstruction()
            return
        }
        // FCOMI, FUCOMI and their popping forms (DB/DF E8-F7) rewrite ZF/PF/CF.
        if (kind == 3 || kind == 7) && !instruction.hasMemoryOperand && (instruction.reg == 5 || instruction.reg == 6) {
            knownConditionCodes = nil
        }
    }

    /// A waiting instruction first delivers an unmasked exception a previous
    /// one left pending (SW.ES): #MF, or FERR# with CR0.NE clear. Tested
    /// inline so the common case costs no call, and before the operand's
    /// address is checked, as the pending exception belongs to an earlier instruction.
    private func checkPendingX87Exception() {
        let status = b.loadState(offset: CPUStateLayout.x87StatusWord, .u16)
        let clear = b.newLabel()
        b.branch(if: .testEq, status, constant(UInt32(X87Bits.errorSummary)), to: clear)
        b.call(X86Helper.x87.index, [b.constant(record: X87Call(kind: X87Call.wait)), constant(0),
                                      addressValue(instructionAddress)])
        b.setLabel(clear)
    }

    /// FLDCW, FLDENV, FRSTOR, FXRSTOR: they may unmask exceptions.
    private func changesX87Mode(kind: UInt8) -> Bool {
        if kind == X87Call.fxrstor { return true }
        guard kind < 8, instruction.hasMemoryOperand else { return false }
        switch (kind, instruction.reg) {
        case (1, 5), (1, 4), (5, 4): return true
        default: return false
        }
    }

    /// Bytes the memory operand spans (for the segment-limit check), nil for reserved encodings.
    private func x87MemoryBytes(kind: UInt8) -> Int? {
        if kind == X87Call.fxsave || kind == X87Call.fxrstor { return 512 }
        let environment = operandBytes == 4 ? 28 : 14
        switch X87Encoding.memoryOperand(escape: kind, reg: instruction.reg) {
        case .none: return nil
        case let .bytes(count): return count
        case .environment: return environment
        case .saveArea: return environment + 80
        }
    }
}

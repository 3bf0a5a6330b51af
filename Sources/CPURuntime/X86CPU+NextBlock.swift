import X64Backend
import X86State

/// The next-block lookup generated code calls when it leaves with exit code
/// 0 (an indirect jump or return, a jump to another page, the end of a block
/// after a mode change): the jump cache's block for the new CS:EIP and mode,
/// entered at its body, so control stays in generated code. Anything the run
/// loop must see first (an exception to deliver, an interrupt it may take,
/// an interrupt shadow, single-stepping, HLT, a stop, an exit request) or a
/// block not yet translated answers 0, and the loop takes over.
extension X86CPU {
    static let nextBlockLookup: NextBlockLookup = { state in
        // No retain/release of the CPU: it outlives every block it runs.
        Unmanaged<X86CPU>.fromOpaque(state.assumingMemoryBound(to: CPUState.self).pointee.owner!)
            ._withUnsafeGuaranteedRef { $0.nextBlockBody() }
    }

    private func nextBlockBody() -> UInt64 {
        let s = state
        let unchainable = HiddenFlags.interruptShadow.rawValue | HiddenFlags.singleStep.rawValue
        guard s.pointee.pendingException < 0, s.pointee.exitRequest == 0,
              s.pointee.hiddenFlags & unchainable == 0, !halted, !tripleFault, stopReason == nil,
              !(interruptLine && s.pointee.eflags & EFLAGS.interrupt != 0) else { return 0 }
        let codeBase = (UnsafeRawPointer(s) + codeBaseOffset).load(as: UInt32.self)
        let linear = codeBase &+ UInt32(truncatingIfNeeded: s.pointee.eip)
        guard let handle = jumpCache.lookupHandle(linearPC: linear, codeSegmentBase: codeBase,
                                                  flags: s.pointee.hiddenFlags) else { return 0 }
        return handle._withUnsafeGuaranteedRef { block in
            block.code.compiled.map { UInt64(UInt(bitPattern: $0.body)) } ?? 0
        }
    }
}

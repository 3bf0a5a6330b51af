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

    /// The jump cache as generated code probes it, with where the key and
    /// the pending-exception word sit in the state.
    static func jumpCacheLayout(_ cache: JumpCache) -> JumpCacheLayout {
        var layout = cache.layout
        layout.eipOffset = CPUStateLayout.eip
        layout.codeSegmentBaseStateOffset = CPUStateLayout.segmentBase(.cs)
        layout.flagsStateOffset = CPUStateLayout.hiddenFlags
        layout.pendingExceptionOffset = CPUStateLayout.pendingException
        layout.unchainableFlags = HiddenFlags.interruptShadow.rawValue | HiddenFlags.singleStep.rawValue
        layout.eflagsOffset = CPUStateLayout.eflags
        layout.interruptFlag = EFLAGS.interrupt
        return layout
    }

    /// The inline probe goes to the runtime while the loop may have to act
    /// before the next block: HLT, a triple fault, a stop, a debugger's
    /// breakpoints or watchpoints (its loop looks at every block), or INTR raised
    /// (taken or not depending on IF, which the runtime checks).
    func updateJumpCacheBypass() {
        if halted || tripleFault || stopReason != nil || debugger.active {
            jumpCache.bypass = 2
        } else {
            jumpCache.bypass = interruptLine ? JumpCacheLayout.bypassUnlessInterruptsOff : 0
        }
    }

    private func nextBlockBody() -> UInt64 {
        let s = state
        guard s.pointee.pendingException < 0, s.pointee.exitRequest == 0,
              s.pointee.hiddenFlags & unchainableFlags == 0, !halted, !tripleFault, stopReason == nil, !debugger.active,
              !(interruptLine && s.pointee.eflags & EFLAGS.interrupt != 0) else { return 0 }
        let (linear, codeBase) = codeAddress()
        let body = jumpCache.lookupBody(linearPC: linear, codeSegmentBase: codeBase, flags: s.pointee.hiddenFlags)
        if body != 0 { return body }
        // Not in the jump cache (emptied by a TLB flush, or another block in
        // its slot): the translation cache by physical PC, without translating.
        guard let block = translatedBlock(linearPC: linear, codeSegmentBase: codeBase) else { return 0 }
        return block._withUnsafeGuaranteedRef { block in
            block.code.compiled.map { UInt64(UInt(bitPattern: $0.body)) } ?? 0
        }
    }
}

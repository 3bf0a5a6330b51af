import X86State

/// Register access by number for tests, debuggers and the monitor.
extension X86CPU {
    public func testRegister(_ number: Int) -> UInt32 { register(number) }
    public func setTestRegister(_ number: Int, _ value: UInt32) { setRegister(number, value) }
    public func testSegmentSelector(_ target: Segment) -> UInt32 { segment(target).selector }

    /// Loads a segment register as real mode does.
    public func setTestSegment(_ target: Segment, selector: UInt16) {
        setSegment(target, .realMode(selector: selector, code: target == .cs))
        updateHiddenFlags()
    }

    /// Runs at `level` from now on: CS's RPL and SS's DPL (where the CPL lives) set to it.
    public func setTestPrivilege(_ level: UInt32) {
        var code = segment(.cs), stack = segment(.ss)
        code.selector = code.selector & ~3 | level & 3
        stack.selector = stack.selector & ~3 | level & 3
        stack.flags = stack.flags & ~(3 << SegmentCache.dplShift) | (level & 3) << SegmentCache.dplShift
        setSegment(.cs, code)
        setSegment(.ss, stack)
        updateHiddenFlags()
    }

    public func testFlags() -> UInt32 { LazyFlagsEvaluation.fullFlags(state) }

    public func setTestFlags(_ value: UInt32) {
        LazyFlagsEvaluation.setFullFlags(state, value, writable: ~0)
        updateHiddenFlags()
    }
}

extension X86CPU {
    /// Sets CR0 as MOV CR0 would (mode bits recomputed), for tests of
    /// CR0-dependent behaviour until the guest can write it.
    public func setTestCR0(_ value: UInt32) {
        state.pointee.cr0 = value
        updateHiddenFlags()
    }
}

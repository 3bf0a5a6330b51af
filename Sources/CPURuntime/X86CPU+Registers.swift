import Memory
import X86State

/// The CPU's registers as the rest of the machine sees them: for programs
/// that set the CPU up before running it (pcemu-bench), for saved state, and
/// for the monitor and a debugger. A write has the side effects the
/// instruction writing that register has: the mode bits blocks are keyed on
/// are recomputed, and a control-register write drops what MOV to CRn drops
/// from the TLB and the jump cache.
extension X86CPU {
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI and EDI by their encoding (0-7).
    public func generalRegister(_ number: Int) -> UInt32 { register(number & 7) }

    public func setGeneralRegister(_ number: Int, _ value: UInt32) { setRegister(number & 7, value) }

    public var instructionPointer: UInt32 {
        get { UInt32(truncatingIfNeeded: state.pointee.eip) }
        set { state.pointee.eip = UInt64(newValue) }
    }

    /// EFLAGS whole: the lazily kept arithmetic flags are computed on reading.
    public var flags: UInt32 {
        get { LazyFlagsEvaluation.fullFlags(state) }
        set {
            LazyFlagsEvaluation.setFullFlags(state, newValue, writable: ~0)
            updateHiddenFlags()
        }
    }

    /// A segment register with its hidden part (base, limit, attributes).
    public func segmentRegister(_ target: Segment) -> SegmentCache { segment(target) }

    /// Sets a segment register's selector and hidden part as given, with no
    /// descriptor read: what a debugger or a loaded snapshot does.
    public func setSegmentRegister(_ target: Segment, _ value: SegmentCache) {
        setSegment(target, value)
        updateHiddenFlags()
    }

    /// Loads a segment register as a real-mode MOV does: the base is the
    /// selector times 16 (and the other attributes those of a real-mode segment).
    public func loadRealModeSegment(_ target: Segment, selector: UInt16) {
        setSegmentRegister(target, .realMode(selector: selector, code: target == .cs))
    }

    /// CR0, CR2, CR3 or CR4 (other numbers read 0).
    public func controlRegister(_ number: Int) -> UInt64 {
        switch number {
        case 0: return state.pointee.cr0
        case 2: return state.pointee.cr2
        case 3: return state.pointee.cr3
        case 4: return state.pointee.cr4
        default: return 0
        }
    }

    /// Writes CR4, CR3 and CR0, in that order (enabling paging with PAE
    /// needs PAE set before PG), each as MOV to CRn would, without its checks.
    public func setControlRegisters(cr0: UInt64? = nil, cr3: UInt64? = nil, cr4: UInt64? = nil) {
        if let cr4 {
            let old = state.pointee.cr4
            state.pointee.cr4 = cr4
            translationChanged(register: 4, from: old, to: cr4)
        }
        if let cr3 {
            let old = state.pointee.cr3
            state.pointee.cr3 = cr3
            translationChanged(register: 3, from: old, to: cr3)
        }
        if let cr0 {
            let old = state.pointee.cr0
            state.pointee.cr0 = cr0
            translationChanged(register: 0, from: old, to: cr0)
        }
        updateHiddenFlags()
    }

    /// The physical address of a linear one through the current page tables,
    /// without touching them or the TLB (the monitor's `x`, a debugger); nil
    /// where nothing is mapped.
    public func physicalAddress(ofLinear linear: LinearAddress) -> PhysicalAddress? { mmu.walker.peek(linear) }

    /// CR2 is only stored: nothing depends on it.
    public func setPageFaultAddress(_ value: LinearAddress) { state.pointee.cr2 = value }
}

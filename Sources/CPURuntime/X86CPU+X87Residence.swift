import X64Backend
import X86State
import X87

/// Where the guest's FPU lives when the JIT runs x87 instructions on the host
/// FPU (`HiddenFlags.x87OnHost`): in the host FPU while generated code runs,
/// in the FNSAVE image its epilogue writes on the way out, or in
/// `CPUState.x87`, which everything outside generated code reads. Only
/// generated code and these functions touch the host FPU on the CPU thread.
extension X86CPU {
    /// Makes `state.x87` the guest's FPU again, from the host FPU (inside a
    /// helper called by generated code) or from the image.
    @inline(__always)
    func takeX87FromHost() {
        let residence = state.pointee.x87Residence
        if residence != X87Residence.state { takeX87(from: residence) }
    }

    @inline(never)
    private func takeX87(from residence: UInt8) {
        let image = stateBlock.x87Image
        if residence == X87Residence.host { X87HostResidence.save(to: image) }
        // The pointers are the guest's own as generated code recorded them;
        // the image holds the host's.
        let x87 = state.pointee.x87
        state.pointee.x87.restore(.protected32, from: image)
        state.pointee.x87.fop = x87.fop
        state.pointee.x87.fip = x87.fip
        state.pointee.x87.fcs = x87.fcs
        state.pointee.x87.fdp = x87.fdp
        state.pointee.x87.fds = x87.fds
        state.pointee.x87Residence = X87Residence.state
    }

    /// The `x87Acquire` helper: loads the guest's FPU into the host's.
    func giveX87ToHost() {
        let image = stateBlock.x87Image
        if state.pointee.x87Residence == X87Residence.state {
            var copy = state.pointee.x87
            copy.save(.protected32, to: image)
        }
        X87HostResidence.load(from: image)
        state.pointee.x87Residence = X87Residence.host
    }

    /// True when blocks may run x87 instructions on the host: the JIT runs
    /// them, and the guest masks every exception with none pending, so the
    /// host FPU can neither trap nor leave #MF pending.
    var x87MayRunOnHost: Bool {
        guard jit != nil else { return false }
        let x87 = state.pointee.x87
        return x87.controlWord & X87Bits.exceptions == X87Bits.exceptions && !x87.hasPendingException
    }

    /// The layout generated code saves a resident FPU with.
    static let hostX87Layout = HostX87Layout(
        residenceOffset: CPUStateLayout.x87Residence, imageOffset: CPUStateBlock.x87ImageOffset,
        host: X87Residence.host, image: X87Residence.image)
}

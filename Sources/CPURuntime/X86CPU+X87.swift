import X86Frontend
import X86State
import X87

/// The `x87` helper: runs one x87 instruction on `state.x87`, doing its
/// memory accesses through the MMU so that a faulting access leaves the FPU
/// unchanged: loads read memory before the FPU changes; stores run on a copy
/// of the FPU state, write memory, then commit the copy.
extension X86CPU {
    func x87(_ call: X87Call, linear: LinearAddress, eip: UInt32) {
        takeX87FromHost()
        switch call.kind {
        case X87Call.wait: x87Wait()
        case X87Call.fxsave, X87Call.fxrstor: x87FXState(save: call.kind == X87Call.fxsave, linear: linear)
        default: x87Escape(call, linear: linear, eip: eip)
        }
        // A new control word or status may allow or forbid running on the host.
        let onHost = HiddenFlags.x87OnHost.rawValue
        let flags = state.pointee.hiddenFlags
        state.pointee.hiddenFlags = x87MayRunOnHost ? flags | onHost : flags & ~onHost
    }

    /// WAIT/FWAIT, and the check every waiting x87 instruction starts with.
    /// An unmasked exception left pending is delivered as #MF with CR0.NE set;
    /// with NE clear (the PC/AT way) FERR# asserts, which the machine routes to
    /// IRQ 13 through `ferr`, and execution goes on as QEMU's does (the IRQ 13
    /// handler writes port F0 to release it, then clears the exception).
    private func x87Wait() {
        let cr0 = state.pointee.cr0
        let monitorAndSwitched = ControlRegister.monitorCoprocessor | ControlRegister.taskSwitched
        if cr0 & monitorAndSwitched == monitorAndSwitched {
            return raiseException(ExceptionVector.deviceNotAvailable)
        }
        guard state.pointee.x87.hasPendingException else { return }
        if cr0 & ControlRegister.numericError != 0 {
            raiseException(ExceptionVector.floatingPoint)
        } else {
            ferr?()
        }
    }

    private var x87MMUIndex: Int { state.pointee.hiddenFlags & HiddenFlags.cplMask == 3 ? 1 : 0 }

    /// D8-DF. The translator has checked #NM and the pending exception.
    private func x87Escape(_ call: X87Call, linear: LinearAddress, eip: UInt32) {
        let escape = call.escape, modrm = call.modrm
        let control = X87Encoding.isControl(escape: escape, modrm: modrm)
        var outcome: X87Outcome
        if call.isMemoryForm {
            let reg = (modrm >> 3) & 7
            switch X87Encoding.memoryOperand(escape: escape, reg: reg) {
            case .none:
                return raiseException(ExceptionVector.invalidOpcode)
            case let .bytes(count):
                guard let result = x87MemoryOperand(escape: escape, reg: reg, bytes: count, linear: linear) else { return }
                outcome = result
            case .environment, .saveArea:
                x87BlockOperand(call, linear: linear)
                return
            }
        } else {
            let fcmov = (escape == 2 || escape == 3) && modrm & 0x38 < 0x20
            let eflags = fcmov ? LazyFlagsEvaluation.flags(state) : 0
            outcome = state.pointee.x87.executeRegisterForm(escape: escape, modrm: modrm, eflags: eflags)
        }
        if outcome.effects.contains(.invalidOpcode) { return raiseException(ExceptionVector.invalidOpcode) }
        if outcome.effects.contains(.writesEFLAGS) {
            // ZF PF CF from the comparison; OF SF AF cleared.
            LazyFlagsEvaluation.setFullFlags(state, outcome.eflags, writable: EFLAGS.arithmetic)
        }
        if outcome.effects.contains(.writesAX) { setRegister(0, UInt32(outcome.ax), bytes: 2) }
        if !control { x87Record(call, linear: linear, eip: eip) }
    }

    /// A memory form with an operand of 2 to 10 bytes; nil when the access
    /// faulted (nothing changed) or the encoding is reserved.
    private func x87MemoryOperand(escape: UInt8, reg: UInt8, bytes: Int, linear: LinearAddress) -> X87Outcome? {
        let mmuIndex = x87MMUIndex
        if X87Encoding.memoryFormStores(escape: escape, reg: reg) {
            var fpu = state.pointee.x87
            var operand = X87Operand()
            let outcome = fpu.executeMemoryForm(escape: escape, reg: reg, operand: &operand)
            if outcome.effects.contains(.storesMemory) {
                if bytes == 10 {
                    mmu.store(linear, operand.low, bytes: 8, mmu: mmuIndex)
                    if state.pointee.pendingException < 0 { mmu.store(addressSize.mask(linear &+ 8), UInt64(operand.high), bytes: 2, mmu: mmuIndex) }
                } else {
                    mmu.store(linear, operand.low, bytes: bytes, mmu: mmuIndex)
                }
                if state.pointee.pendingException >= 0 { return nil }
            }
            state.pointee.x87 = fpu
            return outcome
        }
        var operand = X87Operand()
        if bytes == 10 {
            operand.low = mmu.load(linear, bytes: 8, mmu: mmuIndex)
            operand.high = UInt16(truncatingIfNeeded: mmu.load(addressSize.mask(linear &+ 8), bytes: 2, mmu: mmuIndex))
        } else {
            operand.low = mmu.load(linear, bytes: bytes, mmu: mmuIndex)
        }
        if state.pointee.pendingException >= 0 { return nil }
        return state.pointee.x87.executeMemoryForm(escape: escape, reg: reg, operand: &operand)
    }

    /// FLDENV, FNSTENV, FRSTOR, FNSAVE: the layout follows the mode (the
    /// real-mode one in real and virtual-8086 mode) and the operand size.
    private func x87BlockOperand(_ call: X87Call, linear: LinearAddress) {
        let layout: X87EnvironmentLayout = descriptorMode ? (call.operand32 ? .protected32 : .protected16)
                                                          : (call.operand32 ? .real32 : .real16)
        let whole = call.escape == 5  // DD: FRSTOR/FNSAVE; D9: FLDENV/FNSTENV
        let bytes = whole ? layout.saveAreaSize : layout.environmentSize
        let stores = (call.modrm >> 3) & 7 == 6  // /6 stores, /4 loads
        let buffer = x87Buffer
        if stores {
            var fpu = state.pointee.x87
            if whole { fpu.save(layout, to: buffer) } else { fpu.storeEnvironment(layout, to: buffer) }
            guard writeGuest(linear, bytes: bytes, from: buffer) else { return }
            state.pointee.x87 = fpu
        } else {
            guard readGuest(linear, bytes: bytes, into: buffer) else { return }
            if whole { state.pointee.x87.restore(layout, from: buffer) } else { state.pointee.x87.loadEnvironment(layout, from: buffer) }
        }
    }

    /// FXSAVE/FXRSTOR (0F AE /0, /1): the x87 part of the 512-byte image,
    /// and with CR4.OSFXSR MXCSR, MXCSR_MASK and XMM0-7 (`X86CPU+SIMD`);
    /// without it, bytes 24-31 are stored as zero and ignored on restore.
    /// Bytes past the XMM registers (reserved) are neither written nor read.
    /// The image must be 16-byte aligned (#GP(0)); a save probes its last
    /// byte first, so a fault on a second page leaves the first unwritten.
    private func x87FXState(save: Bool, linear: LinearAddress) {
        guard linear & 15 == 0 else { return raiseException(ExceptionVector.generalProtection, errorCode: 0) }
        let buffer = x87Buffer
        let bytes = fxsaveBytes
        let withSIMD = bytes > 160
        if save {
            state.pointee.x87.fxsave(to: buffer)
            (buffer + 24).storeBytes(of: UInt64(0), as: UInt64.self)
            if withSIMD { fxsaveSIMD(to: buffer) }
            _ = mmu.translate(addressSize.mask(linear &+ LinearAddress(bytes - 1)), access: .write, mmu: x87MMUIndex)
            if state.pointee.pendingException >= 0 { return }
            _ = writeGuest(linear, bytes: bytes, from: buffer)
        } else {
            guard readGuest(linear, bytes: bytes, into: buffer) else { return }
            var mxcsr: UInt32 = 0
            if withSIMD {
                guard let value = fxrstorMXCSR(from: buffer) else { return }
                mxcsr = value
            }
            state.pointee.x87.fxrstor(from: buffer)
            if withSIMD { fxrstorSIMD(from: buffer, mxcsr: mxcsr) }
        }
    }

    /// FIP/FCS/FOP and, for memory forms, FDP/FDS: offsets and selectors in
    /// protected mode, linear addresses in real and virtual-8086 mode (what the
    /// real-mode FSTENV layout stores). Register forms keep FDP/FDS.
    private func x87Record(_ call: X87Call, linear: LinearAddress, eip: UInt32) {
        let code = segment(.cs)
        let protected = descriptorMode
        var dataPointer = state.pointee.x87.fdp
        var dataSelector = state.pointee.x87.fds
        if call.isMemoryForm, let target = Segment(rawValue: call.segment) {
            let data = segment(target)
            dataPointer = UInt32(truncatingIfNeeded: protected ? linear &- data.base : linear)
            dataSelector = UInt16(truncatingIfNeeded: data.selector)
        }
        state.pointee.x87.recordInstruction(opcode: X87Encoding.fop(escape: call.escape, modrm: call.modrm),
                                            ip: protected ? eip : UInt32(truncatingIfNeeded: self.linear(code.base, eip)),
                                            cs: UInt16(truncatingIfNeeded: code.selector),
                                            dataPointer: dataPointer, ds: dataSelector)
    }

    // MARK: block operands

    /// Copies guest memory into `buffer` (even `bytes`); false when an access faulted.
    private func readGuest(_ linear: LinearAddress, bytes: Int, into buffer: UnsafeMutableRawPointer) -> Bool {
        let mmuIndex = x87MMUIndex
        var offset = 0
        while offset < bytes {
            let chunk = bytes - offset >= 8 ? 8 : (bytes - offset >= 4 ? 4 : 2)
            let value = mmu.load(addressSize.mask(linear &+ LinearAddress(offset)), bytes: chunk, mmu: mmuIndex)
            if state.pointee.pendingException >= 0 { return false }
            switch chunk {
            case 8: (buffer + offset).storeBytes(of: value.littleEndian, as: UInt64.self)
            case 4: (buffer + offset).storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, as: UInt32.self)
            default: (buffer + offset).storeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian, as: UInt16.self)
            }
            offset += chunk
        }
        return true
    }

    /// Copies `buffer` to guest memory (even `bytes`); false when an access faulted.
    /// Without paging only the first access can fault, so nothing is half written.
    private func writeGuest(_ linear: LinearAddress, bytes: Int, from buffer: UnsafeRawPointer) -> Bool {
        let mmuIndex = x87MMUIndex
        var offset = 0
        while offset < bytes {
            let chunk = bytes - offset >= 8 ? 8 : (bytes - offset >= 4 ? 4 : 2)
            let value: UInt64
            switch chunk {
            case 8: value = UInt64(littleEndian: (buffer + offset).loadUnaligned(as: UInt64.self))
            case 4: value = UInt64(UInt32(littleEndian: (buffer + offset).loadUnaligned(as: UInt32.self)))
            default: value = UInt64(UInt16(littleEndian: (buffer + offset).loadUnaligned(as: UInt16.self)))
            }
            mmu.store(addressSize.mask(linear &+ LinearAddress(offset)), value, bytes: chunk, mmu: mmuIndex)
            if state.pointee.pendingException >= 0 { return false }
            offset += chunk
        }
        return true
    }
}

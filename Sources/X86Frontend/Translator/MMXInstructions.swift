import IR
import X86State
import X87

/// MMX instructions (and the SSE and SSSE3 forms naming MMX registers), run
/// on the host's MMX unit (`hostSIMD` ops with the MMX bit) over the x87
/// registers MM0-7 alias: MMn is the significand of physical register Rn in
/// `CPUState.x87`. Before the first one in a block the `x87` helper's WAIT
/// brings the FPU back from the host's (where host-run x87 code may have left
/// it) and delivers a pending x87 exception; the host instruction then reads
/// and writes the registers in the state, and leaves the host's x87 empty
/// (EMMS). What an MMX instruction does to the x87 besides is written here:
/// TOP = 0, every register tagged valid, and all ones in the exponent field
/// of the register it writes; EMMS tags every register empty (and TOP = 0).
extension TranslationContext {
    /// #UD with CR0.EM set, #NM with CR0.TS set (the block's flags say only
    /// that one of them is: CR0 is read when it runs), #MF for a pending x87
    /// exception; the FPU is then in `CPUState.x87`.
    private func mmxAvailable(shape: SIMDForm.Shape? = nil) -> Bool {
        // In 64-bit mode REX.R/B do not reach MMX registers (MM0-7 only) but
        // do reach R8-R15. REX.W widens only MOVD (to MOVQ, translated apart).
        let wideGeneral = long64 && instruction.rexW && (shape == .ve || shape == .ev || shape == .gw)
            && !isWideMOVQ
        if instructionSetMissing || wideGeneral {
            raiseException(ExceptionVector.invalidOpcode)
            return false
        }
        if flags.contains(.fpuUnavailable) {
            let emulated = b.newLabel()
            let cr0 = b.loadState(offset: CPUStateLayout.cr0, .u32)
            b.branch(if: .testNe, cr0, constant(UInt32(ControlRegister.emulation)), to: emulated)
            raiseException(ExceptionVector.deviceNotAvailable)
            b.setLabel(emulated)
            raiseException(ExceptionVector.invalidOpcode)
            return false
        }
        if !mmxReady || hostX87Acquired {
            b.call(X86Helper.x87.index, [b.constant(record: X87Call(kind: X87Call.wait)), constant(0),
                                          addressValue(instructionAddress)])
            hostX87Acquired = false
            x87HelperCalled = true
            mmxReady = true
        }
        return true
    }

    func translateMMX(_ form: SIMDForm) {
        guard mmxAvailable(shape: form.shape) else { return }
        if isWideMOVQ {
            translateWideMOVQ()
            return
        }
        if form.shape == .maskedStore {
            translateMaskedStore(bytes: 8, mmx: true)
            markMMXState(written: nil)
            return
        }
        let i = instruction
        let memory = i.hasMemoryOperand
        let shape = form.shape
        if memory && (shape == .shiftImmediate || (shape == .gw && form.memoryBytes == 16)) {
            raiseException(ExceptionVector.invalidOpcode)
            return
        }
        let immediate: UInt8? = i.operand2 == .Ib || i.operand3 == .Ib ? UInt8(truncatingIfNeeded: i.immediate) : nil
        let bytes = form.memoryBytes
        let transfer = CPUStateLayout.simdTransfer
        var rmIsTransfer = memory
        var destination = HostSIMDInstruction.Destination.none
        var written: UInt8?
        var storeTo: Temp?
        switch shape {
        case .vw, .ve:
            if memory {
                loadMMXOperand(bytes: bytes)
            } else if shape == .ve {
                b.storeState(withWordType(.i32) { readRegister(i.rmRegister, bytes: 4) }, offset: transfer, .u32, .i32)
                rmIsTransfer = true
            }
            destination = .regRegister
            written = i.reg
        case .gw:
            destination = .generalToResult
        case .wv, .ev:
            if memory {
                storeTo = linearAddress(effectiveAddress(), segment: memorySegment, bytes: bytes, access: .write)
            } else if shape == .ev {
                rmIsTransfer = true
            } else {
                destination = .rmRegister
                written = i.rm
            }
        case .shiftImmediate:
            destination = .rmRegister
            written = i.rm
        default:
            raiseException(ExceptionVector.invalidOpcode)
            return
        }
        let map: UInt8 = i.opcode >> 8 == 0x38 ? 2 : i.opcode >> 8 == 0x3A ? 3 : 1
        b.hostSIMD(HostSIMDInstruction(
            opcode: UInt8(truncatingIfNeeded: i.opcode), map: map, prefix: 0, reg: i.reg, rm: i.rm,
            rmIsTransfer: rmIsTransfer, destination: destination, immediate: immediate,
            regIsExtension: shape == .shiftImmediate, floatingPoint: false, mmx: true))
        switch shape {
        case .gw:
            writeRegister(i.regRegister, bytes: 4, b.loadState(offset: CPUStateLayout.simdResult, .u32, .i32))
        case .ev:
            let value = b.loadState(offset: transfer, .u32, .i32)
            if let storeTo { b.storeGuest(storeTo, value, .u32, mmu: mmuIndex, .i32) } else { writeRegister(i.rmRegister, bytes: 4, value) }
        case .wv:
            if let storeTo { b.storeGuest(storeTo, b.loadState(offset: transfer, .u64, .i64), .u64, mmu: mmuIndex, .i64) }
        default:
            break
        }
        markMMXState(written: written)
    }

    /// REX.W 0F 6E / 0F 7E in 64-bit mode: MOVQ mm, r/m64 and MOVQ r/m64, mm.
    private var isWideMOVQ: Bool {
        long64 && instruction.rexW && (instruction.opcode == 0x0F6E || instruction.opcode == 0x0F7E)
    }

    /// MOVQ between an MMX register and a 64-bit general register or memory:
    /// a plain move of the register's significand.
    private func translateWideMOVQ() {
        let i = instruction
        let mm = mmxRegister(i.reg)
        if i.opcode == 0x0F6E {
            let value: Temp
            if i.hasMemoryOperand {
                value = b.loadGuest(linearAddress(effectiveAddress(), segment: memorySegment, bytes: 8), .u64, mmu: mmuIndex, .i64)
            } else {
                value = readRegister(i.rmRegister, bytes: 8)
            }
            b.storeState(value, offset: mm, .u64, .i64)
            markMMXState(written: i.reg)
        } else {
            let value = b.loadState(offset: mm, .u64, .i64)
            if i.hasMemoryOperand {
                let linear = linearAddress(effectiveAddress(), segment: memorySegment, bytes: 8, access: .write)
                b.storeGuest(linear, value, .u64, mmu: mmuIndex, .i64)
            } else {
                writeRegister(i.rmRegister, bytes: 8, value)
            }
            markMMXState(written: nil)
        }
    }

    /// MOVQ2DQ xmm, mm: the MMX register into the low quadword, the high one
    /// zeroed. MOVDQ2Q mm, xmm: the low quadword into the MMX register. Both
    /// are SSE2 (#UD without CR4.OSFXSR) and MMX-state instructions (TOP = 0,
    /// every register valid).
    func translateMoveBetweenMMXAndXMM() {
        if instructionSetMissing {
            raiseException(ExceptionVector.invalidOpcode)
            return
        }
        guard sseAvailable(), mmxAvailable() else { return }
        let i = instruction
        if i.simdPrefix == .pF3 {
            let xmm = CPUStateLayout.xmm(Int(i.regRegister))
            b.storeState(b.loadState(offset: mmxRegister(i.rm), .u64, .i64),
                         offset: xmm, .u64, .i64)
            b.storeState(b.constant(0, .i64), offset: xmm + 8, .u64, .i64)
            markMMXState(written: nil)
        } else {
            b.storeState(b.loadState(offset: CPUStateLayout.xmm(Int(i.rmRegister)), .u64, .i64),
                         offset: mmxRegister(i.reg), .u64, .i64)
            markMMXState(written: i.reg)
        }
    }

    /// CVTPI2PS/CVTPI2PD xmm, mm/m64 and CVTPS2PI/CVTTPS2PI mm, xmm/m64,
    /// CVTPD2PI/CVTTPD2PI mm, xmm/m128 (aligned), on the host: SSE (#UD
    /// without CR4.OSFXSR) and, but for CVTPI2PD from memory, MMX-state
    /// instructions. The result waits in the result field until the SIMD
    /// exception check passes; an MMX destination's exponent field is then set
    /// as any MMX write sets it.
    func translateConversionBetweenMMXAndXMM(_ form: SIMDForm) {
        let i = instruction
        if instructionSetMissing {
            raiseException(ExceptionVector.invalidOpcode)
            return
        }
        let toXMM = i.opcode == 0x0F2A
        let touchesMMX = !(toXMM && i.simdPrefix == .p66 && i.hasMemoryOperand)
        guard sseAvailable() else { return }
        if touchesMMX { guard mmxAvailable() else { return } }
        if i.hasMemoryOperand { loadTransfer(linear: sseAddress(form, access: .read), bytes: form.memoryBytes) }
        b.hostSIMD(HostSIMDInstruction(
            opcode: UInt8(truncatingIfNeeded: i.opcode), prefix: i.simdPrefix.rawValue,
            reg: toXMM ? UInt8(i.regRegister) : i.reg & 7, rm: toXMM ? i.rm & 7 : UInt8(i.rmRegister),
            rmIsTransfer: i.hasMemoryOperand, destination: .regResult, floatingPoint: true))
        checkSIMDExceptions()
        if toXMM {
            copyResult(toXMM: i.regRegister)
        } else {
            b.storeState(b.loadState(offset: CPUStateLayout.simdResult, .u64, .i64), offset: mmxRegister(i.reg), .u64, .i64)
        }
        if touchesMMX { markMMXState(written: toXMM ? nil : i.reg) }
    }

    /// MMn's field: the significand of physical x87 register Rn.
    private func mmxRegister(_ number: UInt8) -> Int { CPUStateLayout.mmx + CPUStateLayout.mmxStride * Int(number & 7) }

    /// EMMS: every x87 register tagged empty, and TOP = 0 as after any MMX
    /// instruction (SDM Vol. 3, 12.2; the host CPU does the same).
    func translateEMMS() {
        guard mmxAvailable() else { return }
        clearTop()
        b.storeState(constant(0), offset: CPUStateLayout.x87TagValid, .u8)
    }

    private func clearTop() {
        let status = b.loadState(offset: CPUStateLayout.x87StatusWord, .u16)
        b.storeState(b.and(status, UInt64(~X87Bits.topMask)), offset: CPUStateLayout.x87StatusWord, .u16)
    }

    /// A memory source read into the transfer field before anything changes.
    private func loadMMXOperand(bytes: Int) {
        let linear = linearAddress(effectiveAddress(), segment: memorySegment, bytes: bytes)
        let access = bytes == 8 ? MemoryAccess.u64 : MemoryAccess.unsigned(bytes: bytes)
        if bytes == 8 {
            b.storeState(b.loadGuest(linear, access, mmu: mmuIndex, .i64), offset: CPUStateLayout.simdTransfer, access, .i64)
        } else {
            b.storeState(b.loadGuest(linear, access, mmu: mmuIndex), offset: CPUStateLayout.simdTransfer, access)
        }
    }

    /// TOP = 0, all registers valid, and the written register's exponent field all ones.
    private func markMMXState(written: UInt8?) {
        if let written {
            b.storeState(constant(0xFFFF), offset: CPUStateLayout.mmxExponent(Int(written & 7)), .u16)
        }
        clearTop()
        b.storeState(constant(0xFF), offset: CPUStateLayout.x87TagValid, .u8)
    }
}

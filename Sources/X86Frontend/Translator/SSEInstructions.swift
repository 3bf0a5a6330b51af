import IR
import X86State

/// SSE, SSE2, SSE3, SSSE3, SSE4.1 and SSE4.2 instructions (and POPCNT), run
/// on the host's SSE unit (`hostSIMD` ops).
///
/// The translator moves the operands: a memory source is read from guest
/// memory into the transfer field before the host instruction runs, a
/// general register is copied there, and a memory destination is written
/// from it afterwards, so a faulting access changes nothing. While MXCSR
/// masks every exception (`HiddenFlags.simdExceptionsMasked`) a
/// floating-point instruction writes its register at once and the backend
/// ORs its flags into MXCSR. Otherwise it leaves its result in the result
/// field with the flags it raised; flags raised go through the
/// `simdException` helper (which raises #XM or #UD for an unmasked one, the
/// destination unwritten, as the hardware does), and only then does the
/// result reach its destination.
extension TranslationContext {
    /// #UD with CR0.EM set or CR4.OSFXSR clear, #NM with CR0.TS set.
    func sseAvailable() -> Bool {
        if flags.contains(.sseUnavailable) {
            raiseException(ExceptionVector.invalidOpcode)
            return false
        }
        if flags.contains(.fpuUnavailable) {
            raiseException(ExceptionVector.deviceNotAvailable)
            return false
        }
        return true
    }

    func translateSSE(_ form: SIMDForm) {
        if instructionSetMissing {
            raiseException(ExceptionVector.invalidOpcode)
            return
        }
        // CRC32 and POPCNT touch no XMM state: CR0 and CR4 do not matter to them.
        if form.shape == .general {
            translateGeneralOnHost(form)
            return
        }
        guard sseAvailable() else { return }
        if form.shape == .maskedStore {
            translateMaskedStore(bytes: 16, mmx: false)
            return
        }
        if translateSSEMove(form) { return }
        let i = instruction
        let memory = i.hasMemoryOperand
        let shape = form.shape
        // Register-only forms (MOVMSKPS, PEXTRW, PMOVMSKB, the shifts) with a memory operand.
        if memory && (shape == .shiftImmediate || (shape == .gw && form.memoryBytes == 16)) {
            raiseException(ExceptionVector.invalidOpcode)
            return
        }
        let immediate: UInt8? = i.operand2 == .Ib || i.operand3 == .Ib ? UInt8(truncatingIfNeeded: i.immediate) : nil
        // In 64-bit mode REX.R and REX.B reach XMM8-15 and R8-R15; REX.W
        // makes a general-register operand (and MOVD's memory one) 64 bits.
        let wide = long64 && i.rexW && (shape == .ve || shape == .ev || shape == .gw)
        let bytes = wide && form.memoryBytes == 4 && shape != .gw ? 8 : form.memoryBytes
        let xmmReg = shape == .shiftImmediate ? i.reg : UInt8(i.regRegister)
        let transfer = CPUStateLayout.simdTransfer
        let result = CPUStateLayout.simdResult
        // With every exception masked nothing can trap: the result goes
        // straight to its register, and the backend ORs the flags raised into
        // MXCSR (`HostSIMDInstruction.flagsDeferred`).
        let exceptionsMasked = flags.contains(.simdExceptionsMasked)
        var rmIsTransfer = memory
        var destination: HostSIMDInstruction.Destination
        var storeTo: Temp?
        switch shape {
        case .vw, .ve, .blendVariable:
            if memory {
                loadTransfer(linear: sseAddress(form, access: .read), bytes: bytes)
            } else if shape == .ve {
                if wide {
                    b.storeState(readRegister(i.rmRegister, bytes: 8), offset: transfer, .u64, .i64)
                } else {
                    b.storeState(withWordType(.i32) { readRegister(i.rmRegister, bytes: 4) }, offset: transfer, .u32, .i32)
                }
                rmIsTransfer = true
            }
            destination = form.isFloatingPoint && !exceptionsMasked ? .regResult : .regRegister
        case .gw, .flags:
            if memory { loadTransfer(linear: sseAddress(form, access: .read), bytes: bytes) }
            destination = shape == .gw ? .generalToResult : .flagsToResult
        case .stringIndex, .stringMask:
            if memory { loadTransfer(linear: sseAddress(form, access: .read), bytes: bytes) }
            // The explicit lengths (PCMPESTRx) in EAX and EDX.
            b.storeState(readRegister(Register.eax.rawValue, bytes: 4), offset: result, .u32)
            b.storeState(readRegister(Register.edx.rawValue, bytes: 4), offset: result + 4, .u32)
            destination = shape == .stringIndex ? .indexAndFlags : .maskAndFlags
        case .wv, .ev:
            if memory {
                // The address (and its segment and alignment checks) before anything runs.
                storeTo = sseAddress(form, access: .write)
                destination = .none
            } else if shape == .ev {
                rmIsTransfer = true
                destination = .none
            } else {
                destination = .rmRegister
            }
        case .shiftImmediate:
            destination = .rmRegister
        case .general, .maskedStore:
            return
        }
        b.hostSIMD(HostSIMDInstruction(
            opcode: UInt8(truncatingIfNeeded: i.opcode), map: opcodeMap, prefix: i.simdPrefix.rawValue, reg: xmmReg,
            rm: UInt8(i.rmRegister), rmIsTransfer: rmIsTransfer, destination: destination, immediate: immediate,
            regIsExtension: shape == .shiftImmediate, floatingPoint: form.isFloatingPoint,
            implicitXMM0: shape == .blendVariable, wide: wide, flagsDeferred: form.isFloatingPoint && exceptionsMasked))
        if form.isFloatingPoint && !exceptionsMasked { checkSIMDExceptions() }
        switch shape {
        case .vw, .ve, .blendVariable:
            if form.isFloatingPoint && !exceptionsMasked {
                copyResult(toXMM: i.regRegister)
            }
        case .gw:
            if wide {
                writeRegister(i.regRegister, bytes: 8, b.loadState(offset: result, .u64, .i64))
            } else {
                writeRegister(i.regRegister, bytes: 4, b.loadState(offset: result, .u32, .i32))
            }
        case .flags:
            // As compared (COMISS: ZF PF CF; PTEST: ZF CF); the host clears the others.
            setFlags(value: b.and(b.loadState(offset: result, .u32), UInt64(EFLAGS.arithmetic)))
        case .stringIndex, .stringMask:
            setFlags(value: b.and(b.loadState(offset: transfer, .u32), UInt64(EFLAGS.arithmetic)))
            if shape == .stringIndex {
                writeRegister(Register.ecx.rawValue, bytes: 4, b.loadState(offset: result, .u32))
            } else {
                copyResult(toXMM: 0)
            }
        case .wv, .ev:
            if let storeTo {
                storeTransfer(linear: storeTo, bytes: bytes)
            } else if shape == .ev {
                // PEXTRB/PEXTRW zero-extend into the register; REX.W: MOVQ, PEXTRQ.
                if wide {
                    writeRegister(i.rmRegister, bytes: 8, b.loadState(offset: transfer, MemoryAccess.unsigned(bytes: bytes), .i64))
                } else {
                    writeRegister(i.rmRegister, bytes: 4, b.loadState(offset: transfer, MemoryAccess.unsigned(bytes: bytes), .i32))
                }
            }
        case .shiftImmediate, .general, .maskedStore:
            break
        }
    }

    /// MASKMOVDQU, MASKMOVQ: the destination DS:(E)DI (DS may be overridden)
    /// is read into the transfer field, the host instruction stores the
    /// selected bytes there (its implicit [RDI]), and the field is written
    /// back; a fault on either access leaves memory and registers unchanged.
    func translateMaskedStore(bytes: Int, mmx: Bool) {
        let i = instruction
        let addressBytes = Int(i.addressSize) / 8
        let di = withWordType(addressBytes == 8 ? .i64 : .i32) { readRegister(Register.edi.rawValue, bytes: addressBytes) }
        let segment = i.segmentOverride.map { Segment(rawValue: Int($0.rawValue))! } ?? .ds
        let linear = linearAddress(di, segment: segment, bytes: bytes, access: .write)
        loadTransfer(linear: linear, bytes: bytes)
        b.hostSIMD(HostSIMDInstruction(
            opcode: UInt8(truncatingIfNeeded: i.opcode), prefix: i.simdPrefix.rawValue,
            reg: mmx ? i.reg : UInt8(i.regRegister), rm: mmx ? i.rm : UInt8(i.rmRegister),
            rmIsTransfer: false, destination: .none, floatingPoint: false, mmx: mmx, storesThroughRDI: true))
        storeTransfer(linear: linear, bytes: bytes)
    }

    /// The instruction's opcode map for `HostSIMDInstruction`: 1 = 0F, 2 = 0F 38, 3 = 0F 3A.
    private var opcodeMap: UInt8 {
        switch instruction.opcode >> 8 {
        case 0x38: return 2
        case 0x3A: return 3
        default: return 1
        }
    }

    func copyResult(toXMM register: Int) {
        let target = CPUStateLayout.xmm(register)
        let result = CPUStateLayout.simdResult
        b.storeState(b.loadState(offset: result, .u64, .i64), offset: target, .u64, .i64)
        b.storeState(b.loadState(offset: result + 8, .u64, .i64), offset: target + 8, .u64, .i64)
    }

    /// CRC32 and POPCNT, on general registers: the r/m operand (by the
    /// operand size, or a byte for CRC32's F0 form) goes through the transfer
    /// field and the reg operand through the result field. CRC32 writes all of
    /// r32 and leaves the flags; POPCNT writes r16/r32 and sets ZF, clearing
    /// the other five.
    private func translateGeneralOnHost(_ form: SIMDForm) {
        let i = instruction
        let transfer = CPUStateLayout.simdTransfer
        let result = CPUStateLayout.simdResult
        let isCRC32 = i.opcode >> 8 == 0x38
        // REX.W (64-bit mode): POPCNT r64 and CRC32 r64 (of a byte or a quadword).
        let wide = long64 && i.rexW
        let bytes = form.memoryBytes == 1 ? 1 : (wide ? 8 : Int(i.operandSizeAttribute) / 8)
        let type: IRType = bytes == 8 ? .i64 : .i32
        let access = MemoryAccess.unsigned(bytes: bytes)
        if i.hasMemoryOperand {
            let linear = linearAddress(effectiveAddress(), segment: memorySegment, bytes: bytes)
            b.storeState(b.loadGuest(linear, access, mmu: mmuIndex, type), offset: transfer, access, type)
        } else {
            b.storeState(withWordType(type) { readRegister(i.rmRegister, bytes: bytes) }, offset: transfer, access, type)
        }
        if wide {
            b.storeState(readRegister(i.regRegister, bytes: 8), offset: result, .u64, .i64)
        } else {
            b.storeState(withWordType(.i32) { readRegister(i.regRegister, bytes: 4) }, offset: result, .u32, .i32)
        }
        b.hostSIMD(HostSIMDInstruction(
            opcode: UInt8(truncatingIfNeeded: i.opcode), map: opcodeMap, prefix: i.simdPrefix.rawValue, reg: 0, rm: 0,
            rmIsTransfer: true, destination: .generalAndFlags, floatingPoint: false, operandSize16: bytes == 2, wide: wide))
        if isCRC32 {
            if wide {
                writeRegister(i.regRegister, bytes: 8, b.loadState(offset: result, .u64, .i64))
            } else {
                writeRegister(i.regRegister, bytes: 4, b.loadState(offset: result, .u32, .i32))
            }
        } else {
            writeRegister(i.regRegister, bytes: bytes, b.loadState(offset: result, access, type))
            withWordType(.i32) { setFlags(value: b.and(b.loadState(offset: transfer + 8, .u32), UInt64(EFLAGS.arithmetic))) }
        }
    }

    /// The memory operand's linear address, with its segment check and, for
    /// the aligned forms, #GP(0) unless it is a multiple of 16.
    func sseAddress(_ form: SIMDForm, access: SegmentAccess) -> Temp {
        let linear = linearAddress(effectiveAddress(), segment: memorySegment, bytes: form.memoryBytes, access: access)
        if form.isAligned {
            let aligned = b.newLabel()
            b.branch(if: .testEq, linear, b.constant(15, addressType), to: aligned, addressType)
            b.call(X86Helper.raiseInterrupt.index, [constant(ExceptionVector.generalProtection), addressValue(instructionAddress),
                                                     constant(InterruptKind.exception.rawValue)])
            b.exitBlock(0)
            b.setLabel(aligned)
        }
        return linear
    }

    func loadTransfer(linear: Temp, bytes: Int) {
        let transfer = CPUStateLayout.simdTransfer
        switch bytes {
        case 16:
            let low = b.loadGuest(linear, .u64, mmu: mmuIndex, .i64)
            let high = b.loadGuest(b.binary(.add, linear, constant: 8, addressType), .u64, mmu: mmuIndex, .i64)
            b.storeState(low, offset: transfer, .u64, .i64)
            b.storeState(high, offset: transfer + 8, .u64, .i64)
        case 8:
            b.storeState(b.loadGuest(linear, .u64, mmu: mmuIndex, .i64), offset: transfer, .u64, .i64)
        default:
            let access = MemoryAccess.unsigned(bytes: bytes)
            b.storeState(b.loadGuest(linear, access, mmu: mmuIndex), offset: transfer, access)
        }
    }

    /// Writes the transfer field to guest memory.
    private func storeTransfer(linear: Temp, bytes: Int) {
        storeFromState(offset: CPUStateLayout.simdTransfer, linear: linear, bytes: bytes)
    }

    /// Writes `bytes` of the state at `transfer` to guest memory. A 16-byte
    /// store that crosses a page probes the second page first, so a fault
    /// there leaves the first unwritten.
    func storeFromState(offset source: Int, linear: Temp, bytes: Int) {
        switch bytes {
        case 16:
            let inPage = b.newLabel()
            b.branch(if: .leu, b.binary(.and, linear, constant: 0xFFF, addressType), b.constant(0xFF0, addressType), to: inPage, addressType)
            _ = system(.probeWrite, address: b.binary(.add, linear, constant: 15, addressType))
            b.setLabel(inPage)
            b.storeGuest(linear, b.loadState(offset: source, .u64, .i64), .u64, mmu: mmuIndex, .i64)
            b.storeGuest(b.binary(.add, linear, constant: 8, addressType), b.loadState(offset: source + 8, .u64, .i64), .u64, mmu: mmuIndex, .i64)
        case 8:
            b.storeGuest(linear, b.loadState(offset: source, .u64, .i64), .u64, mmu: mmuIndex, .i64)
        default:
            let access = MemoryAccess.unsigned(bytes: bytes)
            b.storeGuest(linear, b.loadState(offset: source, access), access, mmu: mmuIndex)
        }
    }

    /// With some exception unmasked: no flag raised, nothing to do; only
    /// masked ones ORed into MXCSR inline; else the helper records them and
    /// raises the exception.
    func checkSIMDExceptions() {
        let raised = b.and(b.loadState(offset: CPUStateLayout.simdRaisedFlags, .u32), UInt64(MXCSR.exceptionFlags))
        let done = b.newLabel()
        b.branch(if: .eq, raised, constant(0), to: done)
        let mxcsr = b.loadState(offset: CPUStateLayout.mxcsr, .u32)
        // The flags raised whose mask bit (7 places up) is clear.
        let unmasked = b.and(raised, b.xor(b.and(b.shr(mxcsr, UInt64(MXCSR.maskShift)), UInt64(MXCSR.exceptionFlags)),
                                           constant(MXCSR.exceptionFlags)))
        let exception = b.newLabel()
        b.branch(if: .ne, unmasked, constant(0), to: exception)
        b.storeState(b.or(mxcsr, raised), offset: CPUStateLayout.mxcsr, .u32)
        b.branch(to: done)
        b.setLabel(exception)
        b.call(X86Helper.simdException.index, [raised])
        b.setLabel(done)
    }

    /// LDMXCSR m32.
    func translateLoadMXCSR() {
        guard sseAvailable() else { return }
        let linear = linearAddress(effectiveAddress(), segment: memorySegment, bytes: 4)
        b.call(X86Helper.loadMXCSR.index, [b.loadGuest(linear, .u32, mmu: mmuIndex)])
        // The masks may have changed: blocks are keyed on whether all are set.
        endBlockAfterInstruction()
    }

    /// STMXCSR m32.
    func translateStoreMXCSR() {
        guard sseAvailable() else { return }
        let linear = linearAddress(effectiveAddress(), segment: memorySegment, bytes: 4, access: .write)
        b.storeGuest(linear, b.loadState(offset: CPUStateLayout.mxcsr, .u32), .u32, mmu: mmuIndex)
    }

    /// Fences and cache hints: one CPU over plain memory orders its accesses
    /// already. CLFLUSH checks its segment; PREFETCHh never faults.
    func translateSSEHint() {
        if instruction.hasMemoryOperand && instruction.reg == 7 {
            _ = linearAddress(effectiveAddress(), segment: memorySegment, bytes: 1)
        }
    }
}

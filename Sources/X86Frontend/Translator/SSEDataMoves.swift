import IR
import X86State

/// SSE's plain data moves, done as IR loads and stores on the XMM
/// registers' fields in the state, not as host instructions: they compute
/// nothing, raise no SIMD exception, and are most of the SSE a program runs
/// (memcpy and memset, spills, every scalar double's load and store). The
/// checks stay those of every SSE instruction (`sseAddress`: segment,
/// alignment); a 16-byte load reads both halves before writing the register,
/// and a 16-byte store probes a second page first (`storeFromState`), so a
/// fault changes nothing. The non-temporal stores are plain stores.
extension TranslationContext {
    /// Translates the instruction if it is one of the moves; false otherwise.
    func translateSSEMove(_ form: SIMDForm) -> Bool {
        let i = instruction
        let memory = i.hasMemoryOperand
        let reg = CPUStateLayout.xmm(Int(i.regRegister))
        let rm = CPUStateLayout.xmm(Int(i.rmRegister))
        // LDDQU and the non-temporal stores have no register form (#UD as before).
        if !memory && (i.opcode == 0x0FF0 || i.opcode == 0x0F2B || i.opcode == 0x0FE7) { return false }
        switch (i.opcode, i.simdPrefix) {
        // MOVUPS, MOVUPD, MOVAPS, MOVAPD, MOVDQA, MOVDQU, LDDQU: xmm = xmm/m128.
        case (0x0F10, .none), (0x0F10, .p66), (0x0F28, .none), (0x0F28, .p66),
             (0x0F6F, .p66), (0x0F6F, .pF3), (0x0FF0, .pF2):
            if memory {
                let linear = sseAddress(form, access: .read)
                let low = b.loadGuest(linear, .u64, mmu: mmuIndex, .i64)
                let high = b.loadGuest(b.binary(.add, linear, constant: 8, addressType), .u64, mmu: mmuIndex, .i64)
                storeXMM(reg, low: low, high: high)
            } else {
                storeXMM(reg, low: loadQword(rm), high: loadQword(rm + 8))
            }
        // The same moves' stores, and MOVNTPS, MOVNTPD, MOVNTDQ: xmm/m128 = xmm.
        case (0x0F11, .none), (0x0F11, .p66), (0x0F29, .none), (0x0F29, .p66),
             (0x0F7F, .p66), (0x0F7F, .pF3), (0x0F2B, .none), (0x0F2B, .p66), (0x0FE7, .p66):
            if memory {
                storeFromState(offset: reg, linear: sseAddress(form, access: .write), bytes: 16)
            } else {
                storeXMM(rm, low: loadQword(reg), high: loadQword(reg + 8))
            }
        // MOVSS, MOVSD: from memory the scalar with the rest zeroed, between
        // registers only the scalar.
        case (0x0F10, .pF3), (0x0F10, .pF2):
            let bytes = i.simdPrefix == .pF3 ? 4 : 8
            if memory {
                let linear = sseAddress(form, access: .read)
                let low = bytes == 8 ? b.loadGuest(linear, .u64, mmu: mmuIndex, .i64)
                    : b.unary(.extu32to64, b.loadGuest(linear, .u32, mmu: mmuIndex, .i32), .i64)
                storeXMM(reg, low: low, high: b.constant(0, .i64))
            } else {
                copyScalar(bytes: bytes, from: rm, to: reg)
            }
        case (0x0F11, .pF3), (0x0F11, .pF2):
            let bytes = i.simdPrefix == .pF3 ? 4 : 8
            if memory {
                storeFromState(offset: reg, linear: sseAddress(form, access: .write), bytes: bytes)
            } else {
                copyScalar(bytes: bytes, from: reg, to: rm)
            }
        // MOVQ xmm, xmm/m64: the low quadword, the high one zeroed.
        case (0x0F7E, .pF3):
            let low = memory ? b.loadGuest(sseAddress(form, access: .read), .u64, mmu: mmuIndex, .i64) : loadQword(rm)
            storeXMM(reg, low: low, high: b.constant(0, .i64))
        // MOVQ xmm/m64, xmm: likewise the other way.
        case (0x0FD6, .p66):
            if memory {
                storeFromState(offset: reg, linear: sseAddress(form, access: .write), bytes: 8)
            } else {
                storeXMM(rm, low: loadQword(reg), high: b.constant(0, .i64))
            }
        // MOVD/MOVQ xmm, r/m32 (r/m64 with REX.W): zero-extended into the register.
        case (0x0F6E, .p66):
            let wide = long64 && i.rexW
            let low: Temp
            if memory {
                let linear = linearAddress(effectiveAddress(), segment: memorySegment, bytes: wide ? 8 : 4)
                low = wide ? b.loadGuest(linear, .u64, mmu: mmuIndex, .i64)
                    : b.unary(.extu32to64, b.loadGuest(linear, .u32, mmu: mmuIndex, .i32), .i64)
            } else if wide {
                low = readRegister(i.rmRegister, bytes: 8)
            } else {
                low = b.unary(.extu32to64, withWordType(.i32) { readRegister(i.rmRegister, bytes: 4) }, .i64)
            }
            storeXMM(reg, low: low, high: b.constant(0, .i64))
        // MOVD/MOVQ r/m32 (r/m64), xmm.
        case (0x0F7E, .p66):
            let bytes = long64 && i.rexW ? 8 : 4
            if memory {
                let linear = linearAddress(effectiveAddress(), segment: memorySegment, bytes: bytes, access: .write)
                storeFromState(offset: reg, linear: linear, bytes: bytes)
            } else if bytes == 8 {
                writeRegister(i.rmRegister, bytes: 8, loadQword(reg))
            } else {
                writeRegister(i.rmRegister, bytes: 4, b.loadState(offset: reg, .u32, .i32))
            }
        // MOVLPS/MOVLPD and MOVHPS/MOVHPD from memory: one quadword replaced
        // (their register forms are MOVHLPS and MOVLHPS, which compute).
        case (0x0F12, .none), (0x0F12, .p66), (0x0F16, .none), (0x0F16, .p66):
            guard memory else { return false }
            let value = b.loadGuest(sseAddress(form, access: .read), .u64, mmu: mmuIndex, .i64)
            b.storeState(value, offset: reg + (i.opcode == 0x0F16 ? 8 : 0), .u64, .i64)
        case (0x0F13, .none), (0x0F13, .p66), (0x0F17, .none), (0x0F17, .p66):
            guard memory else { return false }
            storeFromState(offset: reg + (i.opcode == 0x0F17 ? 8 : 0), linear: sseAddress(form, access: .write), bytes: 8)
        default:
            return false
        }
        return true
    }

    private func loadQword(_ offset: Int) -> Temp { b.loadState(offset: offset, .u64, .i64) }

    private func storeXMM(_ offset: Int, low: Temp, high: Temp) {
        b.storeState(low, offset: offset, .u64, .i64)
        b.storeState(high, offset: offset + 8, .u64, .i64)
    }

    /// MOVSS/MOVSD between registers: the low dword or quadword only.
    private func copyScalar(bytes: Int, from source: Int, to target: Int) {
        let access = MemoryAccess.unsigned(bytes: bytes)
        let type: IRType = bytes == 8 ? .i64 : .i32
        b.storeState(b.loadState(offset: source, access, type), offset: target, access, type)
    }
}

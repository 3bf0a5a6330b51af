import IR

/// The host code of a `hostSIMD` op, used twice: inline by the JIT, and as a
/// small stub the interpreter calls (`stub`), so both backends run the very
/// same host instruction and their results cannot differ.
///
/// The guest's reg operand is XMM0 (EAX for a general-register result; XMM2
/// when the guest's XMM0 is an implicit operand, then in XMM0), its r/m
/// operand XMM1 or the transfer field. A floating-point instruction runs
/// under the guest's rounding, DAZ and FTZ with every exception masked and
/// the flags clear (`mxcsrOnHost`), so the host never traps; the MXCSR it
/// leaves is stored for the translator's exception check, and the host's own
/// MXCSR is put back before anything else runs. The state pointer is in RBX.
public enum HostSIMDEncoder {
    /// A register or memory operand [RBX + disp32] in a ModRM byte.
    private static func stateOperand(_ a: inout X64Assembler, reg: UInt8, offset: Int) {
        a.byte(0x80 | (reg & 7) << 3 | 3)
        a.int32(UInt32(truncatingIfNeeded: offset))
    }

    /// MOVDQU xmm(reg), [RBX + offset].
    private static func loadXMM(_ a: inout X64Assembler, _ reg: UInt8, _ offset: Int) {
        a.byte(0xF3); a.byte(0x0F); a.byte(0x6F)
        stateOperand(&a, reg: reg, offset: offset)
    }

    /// MOVDQU [RBX + offset], xmm(reg).
    private static func storeXMM(_ a: inout X64Assembler, _ reg: UInt8, _ offset: Int) {
        a.byte(0xF3); a.byte(0x0F); a.byte(0x7F)
        stateOperand(&a, reg: reg, offset: offset)
    }

    /// The low `bytes` (4 or 8) of xmm(reg) to or from [RBX + offset]:
    /// MOVD/MOVQ, the load zeroing the rest of the register.
    private static func moveScalar(_ a: inout X64Assembler, store: Bool, bytes: Int, _ reg: UInt8, _ offset: Int) {
        if bytes == 8 {
            a.byte(store ? 0x66 : 0xF3); a.byte(0x0F); a.byte(store ? 0xD6 : 0x7E)
        } else {
            a.byte(0x66); a.byte(0x0F); a.byte(store ? 0x7E : 0x6E)
        }
        stateOperand(&a, reg: reg, offset: offset)
    }

    /// The guest's MXCSR into the host's, for a run of floating-point
    /// instructions with deferred flags: the host's saved, the guest's
    /// modes loaded with every exception masked and no flag set.
    public static func enterGuestMXCSR(layout: HostSIMDLayout, into a: inout X64Assembler) {
        mxcsr(&a, store: true, layout.hostMXCSROffset)
        mxcsr(&a, store: false, layout.mxcsrOnHostOffset)
    }

    /// The host's MXCSR back, and the flags the run raised ORed into the
    /// guest's MXCSR (through EAX, which this clobbers, as it does the flags).
    public static func leaveGuestMXCSR(layout: HostSIMDLayout, into a: inout X64Assembler) {
        mxcsr(&a, store: true, layout.raisedFlagsOffset)
        mxcsr(&a, store: false, layout.hostMXCSROffset)
        orRaisedFlags(layout: layout, into: &a)
    }

    /// MOV EAX, [raised]; AND EAX, 3Fh; OR [MXCSR], EAX.
    private static func orRaisedFlags(layout: HostSIMDLayout, into a: inout X64Assembler) {
        moveGeneral(&a, load: true, 0, layout.raisedFlagsOffset)
        a.byte(0x83); a.byte(0xE0); a.byte(0x3F)
        a.byte(0x09); stateOperand(&a, reg: 0, offset: layout.mxcsrOffset)
    }

    /// MOVQ mm(reg), [RBX + offset] or MOVQ [RBX + offset], mm(reg).
    private static func moveMMX(_ a: inout X64Assembler, store: Bool, _ reg: UInt8, _ offset: Int) {
        a.byte(0x0F); a.byte(store ? 0x7F : 0x6F)
        stateOperand(&a, reg: reg, offset: offset)
    }

    /// LDMXCSR (/2) or STMXCSR (/3) [RBX + offset].
    private static func mxcsr(_ a: inout X64Assembler, store: Bool, _ offset: Int) {
        a.byte(0x0F); a.byte(0xAE)
        stateOperand(&a, reg: store ? 3 : 2, offset: offset)
    }

    /// MOV r32, [RBX + offset] (load) or MOV [RBX + offset], r32.
    private static func moveGeneral(_ a: inout X64Assembler, load: Bool, _ reg: UInt8, _ offset: Int, wide: Bool = false) {
        if wide { a.byte(0x48) }   // REX.W: all of RAX
        a.byte(load ? 0x8B : 0x89)
        stateOperand(&a, reg: reg, offset: offset)
    }

    /// The guest's opcode (0F, 0F 38 or 0F 3A map), a ModRM naming host
    /// register `reg` (or the opcode extension) and register 1 or the
    /// transfer field, and the immediate.
    private static func opcodeAndOperands(_ instruction: HostSIMDInstruction, reg: UInt8, layout: HostSIMDLayout,
                                          into a: inout X64Assembler) {
        a.byte(0x0F)
        if instruction.map == 2 { a.byte(0x38) } else if instruction.map == 3 { a.byte(0x3A) }
        a.byte(instruction.opcode)
        let reg = instruction.regIsExtension ? instruction.reg & 7 : reg
        if instruction.rmIsTransfer {
            stateOperand(&a, reg: reg, offset: layout.transferOffset)
        } else {
            a.byte(0xC0 | reg << 3 | 1)
        }
        if instruction.hasImmediate { a.byte(instruction.immediate) }
    }

    /// PUSH RDI; LEA RDI, [RBX + offset]: the implicit destination of MASKMOVDQU/MASKMOVQ.
    private static func pointRDI(_ a: inout X64Assembler, at offset: Int) {
        a.byte(0x57)
        a.byte(0x48); a.byte(0x8D); stateOperand(&a, reg: 7, offset: offset)
    }

    /// PUSHFQ; POP qword [RBX + offset].
    private static func storeFlags(_ a: inout X64Assembler, _ offset: Int) {
        a.byte(0x9C)
        a.byte(0x8F); stateOperand(&a, reg: 0, offset: offset)
    }

    /// With `guestMXCSRResident` (the JIT, for an instruction with deferred
    /// flags) the host's MXCSR already holds the guest's (`enterGuestMXCSR`)
    /// and the instruction runs with no switch; otherwise it is switched
    /// around it, and deferred flags are ORed into the guest's MXCSR after.
    public static func emit(_ instruction: HostSIMDInstruction, layout: HostSIMDLayout, into a: inout X64Assembler,
                            guestMXCSRResident: Bool = false) {
        if instruction.isMMX {
            emitMMX(instruction, layout: layout, into: &a)
            return
        }
        if instruction.mixesRegisterFiles {
            emitConversionBetweenMMXAndXMM(instruction, layout: layout, into: &a)
            return
        }
        let regOffset = layout.xmmOffset + 16 * Int(instruction.reg)
        let rmOffset = layout.xmmOffset + 16 * Int(instruction.rm)
        let destination = instruction.destination
        // With the guest's XMM0 an implicit operand, host XMM0 holds it and XMM2 the reg operand.
        let regHost: UInt8 = instruction.implicitXMM0 ? 2 : 0
        let general = destination == .generalToResult || destination == .generalAndFlags
        let string = destination == .indexAndFlags || destination == .maskAndFlags
        // A scalar operation straight to its register moves only the low lane.
        let scalar = destination == .regRegister ? instruction.scalarBytes : nil
        if let scalar {
            moveScalar(&a, store: false, bytes: scalar, regHost, regOffset)
            if !instruction.rmIsTransfer { moveScalar(&a, store: false, bytes: scalar, 1, rmOffset) }
        } else {
            if !instruction.regIsExtension && !general { loadXMM(&a, regHost, regOffset) }
            if instruction.implicitXMM0 { loadXMM(&a, 0, layout.xmmOffset) }
            if !instruction.rmIsTransfer { loadXMM(&a, 1, rmOffset) }
        }
        let switchesMXCSR = instruction.isFloatingPoint && !guestMXCSRResident
        if switchesMXCSR {
            mxcsr(&a, store: true, layout.hostMXCSROffset)
            mxcsr(&a, store: false, layout.mxcsrOnHostOffset)
        }
        // The general registers the instruction uses are the host's: saved around it.
        if general || string { a.byte(0x50) }                       // PUSH RAX
        if instruction.storesThroughRDI { pointRDI(&a, at: layout.transferOffset) }
        if string {
            a.byte(0x51); a.byte(0x52)                               // PUSH RCX; PUSH RDX
            moveGeneral(&a, load: true, 0, layout.resultOffset)      // EAX, EDX: the explicit lengths
            moveGeneral(&a, load: true, 2, layout.resultOffset + 4)
        }
        if destination == .generalAndFlags { moveGeneral(&a, load: true, 0, layout.resultOffset, wide: instruction.isWide) }
        // The instruction itself.
        if instruction.operandSize16 { a.byte(0x66) }
        switch instruction.prefix {
        case 1: a.byte(0x66)
        case 2: a.byte(0xF3)
        case 3: a.byte(0xF2)
        default: break
        }
        if instruction.isWide { a.byte(0x48) }   // REX.W, after the mandatory prefix
        opcodeAndOperands(instruction, reg: general ? 0 : regHost, layout: layout, into: &a)
        if instruction.storesThroughRDI { a.byte(0x5F) }            // POP RDI
        switch destination {
        case .flagsToResult: storeFlags(&a, layout.resultOffset)
        case .indexAndFlags, .maskAndFlags: storeFlags(&a, layout.transferOffset)
        case .generalAndFlags: storeFlags(&a, layout.transferOffset + 8)
        default: break
        }
        if switchesMXCSR {
            mxcsr(&a, store: true, layout.raisedFlagsOffset)
            mxcsr(&a, store: false, layout.hostMXCSROffset)
        }
        switch destination {
        case .regRegister:
            if let scalar {
                moveScalar(&a, store: true, bytes: scalar, regHost, regOffset)
            } else {
                storeXMM(&a, regHost, regOffset)
            }
        case .regResult: storeXMM(&a, regHost, layout.resultOffset)
        case .generalToResult, .generalAndFlags:
            moveGeneral(&a, load: false, 0, layout.resultOffset, wide: instruction.isWide)  // MOV [result], EAX (RAX)
            a.byte(0x58)                                          // POP RAX
        case .rmRegister: storeXMM(&a, 1, rmOffset)
        case .indexAndFlags, .maskAndFlags:
            if destination == .indexAndFlags {
                moveGeneral(&a, load: false, 1, layout.resultOffset)  // MOV [result], ECX
            } else {
                storeXMM(&a, 0, layout.resultOffset)
            }
            a.byte(0x5A); a.byte(0x59); a.byte(0x58)                  // POP RDX; POP RCX; POP RAX
        case .none, .flagsToResult: break
        }
        if switchesMXCSR && instruction.flagsDeferred {
            a.byte(0x50)                                             // PUSH RAX
            orRaisedFlags(layout: layout, into: &a)
            a.byte(0x58)                                             // POP RAX
        }
    }

    /// An MMX instruction: the guest's reg operand in MM0, its r/m operand in
    /// MM1 or the transfer field, both read from and written back to the
    /// x87 registers' significands; EMMS after it, so the host's x87 is left
    /// empty as it was (the translator keeps the guest's tags, TOP and
    /// exponent fields).
    private static func emitMMX(_ instruction: HostSIMDInstruction, layout: HostSIMDLayout, into a: inout X64Assembler) {
        let regOffset = layout.mmxOffset + layout.mmxStride * Int(instruction.reg & 7)
        let rmOffset = layout.mmxOffset + layout.mmxStride * Int(instruction.rm & 7)
        let destination = instruction.destination
        if !instruction.regIsExtension && destination != .generalToResult { moveMMX(&a, store: false, 0, regOffset) }
        if !instruction.rmIsTransfer { moveMMX(&a, store: false, 1, rmOffset) }
        if destination == .generalToResult { a.byte(0x50) }  // PUSH RAX
        if instruction.storesThroughRDI { pointRDI(&a, at: layout.transferOffset) }
        opcodeAndOperands(instruction, reg: 0, layout: layout, into: &a)
        if instruction.storesThroughRDI { a.byte(0x5F) }      // POP RDI
        switch destination {
        case .regRegister: moveMMX(&a, store: true, 0, regOffset)
        case .rmRegister: moveMMX(&a, store: true, 1, rmOffset)
        case .generalToResult:
            moveGeneral(&a, load: false, 0, layout.resultOffset)  // MOV [result], EAX
            a.byte(0x58)                                          // POP RAX
        default: break
        }
        a.byte(0x0F); a.byte(0x77)                                // EMMS
    }

    /// CVTPI2PS/PD (0F 2A): XMM0 = the guest's reg register, MM1 its r/m
    /// MMX register; CVT(T)PS2PI/CVT(T)PD2PI (0F 2C/2D): MM0 the result,
    /// XMM1 the guest's r/m register. The r/m operand may be the transfer
    /// field. Run under the guest's MXCSR, the result (XMM0 whole, or MM0) to
    /// the result field, then EMMS.
    private static func emitConversionBetweenMMXAndXMM(_ instruction: HostSIMDInstruction, layout: HostSIMDLayout,
                                                       into a: inout X64Assembler) {
        let toXMM = instruction.opcode == 0x2A
        if toXMM {
            loadXMM(&a, 0, layout.xmmOffset + 16 * Int(instruction.reg))
            if !instruction.rmIsTransfer { moveMMX(&a, store: false, 1, layout.mmxOffset + layout.mmxStride * Int(instruction.rm & 7)) }
        } else if !instruction.rmIsTransfer {
            loadXMM(&a, 1, layout.xmmOffset + 16 * Int(instruction.rm))
        }
        mxcsr(&a, store: true, layout.hostMXCSROffset)
        mxcsr(&a, store: false, layout.mxcsrOnHostOffset)
        if instruction.prefix == 1 { a.byte(0x66) }
        opcodeAndOperands(instruction, reg: 0, layout: layout, into: &a)
        mxcsr(&a, store: true, layout.raisedFlagsOffset)
        mxcsr(&a, store: false, layout.hostMXCSROffset)
        if toXMM { storeXMM(&a, 0, layout.resultOffset) } else { moveMMX(&a, store: true, 0, layout.resultOffset) }
        a.byte(0x0F); a.byte(0x77)                                // EMMS
    }

    /// A C-callable function (state pointer in RDI) running the instruction,
    /// for the interpreter: PUSH RBX; MOV RBX, RDI; the op; POP RBX; RET.
    public static func stub(_ instruction: HostSIMDInstruction, layout: HostSIMDLayout) -> [UInt8] {
        var a = X64Assembler()
        a.byte(0x53)
        a.byte(0x48); a.byte(0x89); a.byte(0xFB)
        emit(instruction, layout: layout, into: &a)
        a.byte(0x5B)
        a.byte(0xC3)
        return a.bytes
    }
}

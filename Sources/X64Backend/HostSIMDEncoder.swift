import IR

/// The host code of a `hostSIMD` op, used twice: inline by the JIT, and as a
/// small stub the interpreter calls (`stub`), so both backends run the very
/// same host instruction and their results cannot differ.
///
/// The guest's reg operand is XMM0 (EAX for a general-register result), its
/// r/m operand XMM1 or the transfer field. A floating-point instruction runs
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

    /// LDMXCSR (/2) or STMXCSR (/3) [RBX + offset].
    private static func mxcsr(_ a: inout X64Assembler, store: Bool, _ offset: Int) {
        a.byte(0x0F); a.byte(0xAE)
        stateOperand(&a, reg: store ? 3 : 2, offset: offset)
    }

    public static func emit(_ instruction: HostSIMDInstruction, layout: HostSIMDLayout, into a: inout X64Assembler) {
        let regOffset = layout.xmmOffset + 16 * Int(instruction.reg)
        let rmOffset = layout.xmmOffset + 16 * Int(instruction.rm)
        let destination = instruction.destination
        if !instruction.regIsExtension && destination != .generalToResult { loadXMM(&a, 0, regOffset) }
        if !instruction.rmIsTransfer { loadXMM(&a, 1, rmOffset) }
        if instruction.isFloatingPoint {
            mxcsr(&a, store: true, layout.hostMXCSROffset)
            mxcsr(&a, store: false, layout.mxcsrOnHostOffset)
        }
        if destination == .generalToResult { a.byte(0x50) }  // PUSH RAX
        // The instruction itself.
        switch instruction.prefix {
        case 1: a.byte(0x66)
        case 2: a.byte(0xF3)
        case 3: a.byte(0xF2)
        default: break
        }
        if instruction.isWide { a.byte(0x48) }   // REX.W, after the mandatory prefix
        a.byte(0x0F)
        if instruction.map == 2 { a.byte(0x38) } else if instruction.map == 3 { a.byte(0x3A) }
        a.byte(instruction.opcode)
        let reg: UInt8 = instruction.regIsExtension ? instruction.reg & 7 : 0
        if instruction.rmIsTransfer {
            stateOperand(&a, reg: reg, offset: layout.transferOffset)
        } else {
            a.byte(0xC0 | reg << 3 | 1)
        }
        if instruction.hasImmediate { a.byte(instruction.immediate) }
        if destination == .flagsToResult {
            a.byte(0x9C)                              // PUSHFQ
            a.byte(0x8F); stateOperand(&a, reg: 0, offset: layout.resultOffset)  // POP [result]
        }
        if instruction.isFloatingPoint {
            mxcsr(&a, store: true, layout.raisedFlagsOffset)
            mxcsr(&a, store: false, layout.hostMXCSROffset)
        }
        switch destination {
        case .regRegister: storeXMM(&a, 0, regOffset)
        case .regResult: storeXMM(&a, 0, layout.resultOffset)
        case .generalToResult:
            if instruction.isWide { a.byte(0x48) }                                // (RAX with REX.W)
            a.byte(0x89); stateOperand(&a, reg: 0, offset: layout.resultOffset)  // MOV [result], EAX
            a.byte(0x58)                                                          // POP RAX
        case .rmRegister: storeXMM(&a, 1, rmOffset)
        case .none, .flagsToResult: break
        }
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

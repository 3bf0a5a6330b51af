/// The kinds of operand an opcode table entry declares, in Intel's SDM
/// notation (Volume 2, Appendix A.2): the capital letter says where the operand
/// comes from, the lower-case letters its size.
///   E = ModRM r/m (register or memory)   G = ModRM reg, general register
///   M = ModRM r/m, memory only           R = ModRM r/m, register only
///   S/C/D = ModRM reg as segment/control/debug register
///   I = immediate   J = relative branch offset   A = far pointer ptr16:16/32
///   O = moffs (offset by address size, no ModRM)
///   X = DS:[eSI]   Y = ES:[eDI] (string operands)
///   Z = general register in the low three opcode bits
///   b = byte, w = word, d = dword, v = 16/32 by operand size,
///   z = 16/32 immediate by operand size, p = far pointer, q = qword
/// Sizes of v/z operands are the instruction's `operandSize`.
public enum OperandKind: UInt8, Sendable {
    case none
    case Eb, Ew, Ed, Ev
    case Gb, Gw, Gd, Gv
    case M, Mp, Ma, Mq
    case Rd
    case Sw, Cd, Dd
    /// Unsigned byte immediate (port, interrupt, shift count, ENTER level).
    case Ib
    /// Byte immediate sign-extended to the operand size (83 /x, 6A, 6B).
    case IbS
    case Iw, Iz
    case Jb, Jz
    case Ap
    case Ob, Ov
    case AL, CL, DX, AX, eAX
    /// The constant 1 of D0/D1 shifts.
    case one
    case Zb, Zv
    case ES, CS, SS, DS, FS, GS
    case Xb, Xv, Yb, Yv
    /// MMX register in ModRM reg / MMX register or memory in r/m.
    case Pq, Qq
    /// MMX register in ModRM r/m (register only).
    case Nq
    /// XMM register in ModRM reg / XMM register or memory in r/m.
    case Vx, Wx
    /// XMM register in ModRM r/m (register only).
    case Ux
    /// x87 stack top / ST(i) from ModRM rm (only used in descriptions).
    case ST0, STi

    /// Whether the operand lives in the ModRM r/m field.
    var usesRM: Bool {
        switch self {
        case .Eb, .Ew, .Ed, .Ev, .M, .Mp, .Ma, .Mq, .Rd, .Qq, .Nq, .Wx, .Ux: return true
        default: return false
        }
    }

    /// Whether the operand lives in the ModRM reg field.
    var usesReg: Bool {
        switch self {
        case .Gb, .Gw, .Gd, .Gv, .Sw, .Cd, .Dd, .Pq, .Vx: return true
        default: return false
        }
    }

    /// Operands that make an instruction a byte form (operand size 8).
    var isByteSized: Bool {
        switch self {
        case .Eb, .Gb, .AL, .Zb, .Ob, .Xb, .Yb: return true
        default: return false
        }
    }

    /// Operands whose size follows the operand-size attribute.
    var isOperandSized: Bool {
        switch self {
        case .Ev, .Gv, .Iz, .Ov, .eAX, .Zv, .Xv, .Yv: return true
        default: return false
        }
    }
}

/// How an opcode uses the ModRM byte.
public enum ModRMUse: UInt8, Sendable {
    case none
    /// Register or memory.
    case any
    /// mod = 11 is #UD.
    case memoryOnly
    /// mod != 11 is #UD.
    case registerOnly
    /// MOV to/from CRn/DRn: the mod field is ignored and r/m is always a register,
    /// so no displacement ever follows.
    case alwaysRegister
}

/// The immediate bytes that follow the opcode (and ModRM/SIB/displacement).
public enum ImmediateKind: UInt8, Sendable {
    case none
    /// ib, zero-extended into `immediate`.
    case byte
    /// ib, sign-extended to 32 bits into `immediate`.
    case byteSignExtended
    /// iw (RET/RETF imm16).
    case word
    /// iw or id by operand size (for byte forms: see `byte`).
    case operandSized
    /// ENTER: iw into `immediate`, ib into `immediate2`.
    case wordThenByte
    /// rel8, sign-extended into `immediate`.
    case relative8
    /// rel16/rel32 by operand size, sign-extended into `immediate`.
    case relativeOperandSized
    /// moffs16/moffs32 by address size, into `memory.displacement`.
    case addressSized
    /// ptr16:16 / ptr16:32: offset into `immediate`, selector into `immediate2`.
    case farPointer
}

/// The architecture extension an opcode belongs to, so that the translator can
/// raise #UD for what the emulated CPU does not have.
public enum InstructionSet: UInt8, Sendable {
    /// i386/i486/Pentium/P6 integer instructions, including CMOVcc, RDPMC, SYSENTER.
    case base
    case x87
    case mmx
    /// FXSAVE/FXRSTOR (Pentium II).
    case fxsr
    case sse
    case sse2
    /// MOVSLDUP, ADDSUBPS, HADDPS, LDDQU... (CPUID pni).
    case sse3
    /// The 0F 38 00-0F row and PALIGNR.
    case ssse3
    case sse41
    /// SSE4.2 without POPCNT, which has its own CPUID bit.
    case sse42
    case popcnt
    /// An opcode defined to raise #UD (UD2 0F 0B, UD1 0F B9, UD0 0F FF).
    case undefinedOpcode
}

/// A memory operand from ModRM/SIB (or the moffs of A0-A3): the effective
/// address is `base + (index << scaleShift) + displacement`, truncated to the
/// address size, in segment `segment`.
public struct MemoryOperand: Sendable, Equatable {
    /// Register number of the base (GPR encoding 0=eAX ... 7=eDI), or `MemoryOperand.noRegister`.
    /// 16-bit forms use BX=3, BP=5, SI=6, DI=7 with the same numbering.
    public var base: UInt8
    /// Register number of the index, or `noRegister`.
    public var index: UInt8
    /// log2 of the scale factor (0...3); always 0 with 16-bit addressing.
    public var scaleShift: UInt8
    /// Sign-extended displacement (disp8, disp16 and disp32 alike; moffs as its bit pattern).
    public var displacement: Int32
    /// The segment: the override if there is one, else DS, or SS for eBP/eSP-based forms.
    public var segment: SegmentRegister
    /// True when `segment` came from the default rule and not an override prefix.
    public var segmentIsDefault: Bool

    public static let noRegister: UInt8 = 0xFF
    /// `base` of a RIP-relative operand (64-bit mode, mod 00 r/m 101): the
    /// displacement counts from the next instruction's address.
    public static let instructionPointer: UInt8 = 0x10

    public var hasBase: Bool { base != Self.noRegister }
    public var hasIndex: Bool { index != Self.noRegister }
    public var scale: UInt8 { 1 << scaleShift }

    static let none = MemoryOperand(base: noRegister, index: noRegister, scaleShift: 0,
                                    displacement: 0, segment: .ds, segmentIsDefault: true)
}

/// One decoded guest instruction: a plain value with everything the translator
/// needs and no references, so decoding never allocates.
public struct DecodedInstruction: Sendable, Equatable {
    /// Total length in bytes, prefixes included (1...15).
    public var length: UInt8
    /// The opcode: 0x00xx for one-byte opcodes, 0x0Fxx for two-byte ones.
    /// For group opcodes the operation is further selected by `reg`.
    public var opcode: UInt16
    /// Every prefix seen (of F2/F3 only the last one), including a 66/F2/F3 that
    /// selected an MMX/SSE variant (see `simdPrefix`).
    public var prefixes: Prefixes
    /// The last segment override prefix, if any.
    public var segmentOverride: SegmentRegister?
    /// For MMX/SSE opcodes, the prefix that selected the variant (66/F2/F3 are then
    /// not operand-size or REP prefixes); `.none` for everything else.
    public var simdPrefix: SIMDPrefix
    /// The code segment's default size: true for 32-bit code.
    public var codeSize32: Bool
    /// Effective operand size in bits: 8 for byte forms, else 16 or 32 (always 32
    /// for MMX/SSE opcodes, where 66 selects a variant instead).
    public var operandSize: UInt8
    /// Effective address size in bits: 16 or 32.
    public var addressSize: UInt8
    public var isa: InstructionSet

    public var hasModRM: Bool
    /// The ModRM byte's fields (0 when `hasModRM` is false). MOV to/from CRn/DRn
    /// ignore the mod bits and always use a register: `mod` is then reported as 3.
    public var mod: UInt8
    public var reg: UInt8
    public var rm: UInt8
    /// Whether there is a memory operand (ModRM mod != 11, or moffs): then
    /// `memory` describes it. ModRM register operands are `rm`.
    public var hasMemoryOperand: Bool
    public var memory: MemoryOperand

    /// First immediate: ib/iw/id (sign-extended when the encoding says so),
    /// a relative branch displacement (sign-extended), or a far pointer's offset.
    public var immediate: UInt32
    /// Second immediate: ENTER's nesting level (ib) or a far pointer's selector.
    public var immediate2: UInt16

    /// The operand kinds from the opcode table, in Intel order (destination first).
    public var operand1: OperandKind
    public var operand2: OperandKind
    public var operand3: OperandKind
    /// #UD in real and virtual-8086 mode.
    public var isProtectedModeOnly: Bool
    /// The translation the opcode table names for the instruction.
    var semantics: Semantics

    // 64-bit mode (`decode64`); zero or false in every other mode.
    /// Decoded as 64-bit code: operand sizes may be 64, address sizes 64 or
    /// 32, register numbers 0-15, and `memory.base` may be `MemoryOperand.instructionPointer`.
    public var is64BitMode = false
    /// The REX prefix (40-4F) that directly preceded the opcode, or 0.
    public var rex: UInt8 = 0
    /// The high half of a 64-bit immediate (MOV r64, imm64) or moffs (A0-A3).
    public var immediateHigh: UInt32 = 0

    /// The operand-size attribute (16 or 32) even for byte forms: what a near
    /// branch, PUSH/POP of a segment register or a far pointer uses.
    public var operandSizeAttribute: UInt8 {
        (codeSize32 != prefixes.contains(.operandSize)) ? 32 : 16
    }

    /// REX.W, .R, .X, .B as 0 or 8: what each adds to a 3-bit register field.
    public var rexW: Bool { rex & 8 != 0 }
    var rexR: UInt8 { (rex & 4) << 1 }
    var rexB: UInt8 { (rex & 1) << 3 }

    /// The register the ModRM reg field names (0-15 in 64-bit mode).
    public var regRegister: Int { Int(reg | rexR) }
    /// The register the ModRM r/m field names when mod = 11.
    public var rmRegister: Int { Int(rm | rexB) }
    /// The register in the opcode's low bits (50+r, B8+r, 0F C8+r...).
    public var opcodeRegister: Int { Int(UInt8(opcode & 7) | rexB) }
    /// Byte registers 4-7 are SPL BPL SIL DIL (not AH CH DH BH) with any REX.
    public var byteRegistersUniform: Bool { rex != 0 }
    /// The immediate with its high half: MOV r64, imm64's value, or a moffs64.
    public var immediate64: UInt64 { UInt64(immediateHigh) << 32 | UInt64(immediate) }

    /// The ModRM r/m operand is a register (mod = 11).
    public var isRegisterOperand: Bool { hasModRM && mod == 3 }

    /// x87: the escape 0...7 for D8...DF, or nil.
    public var x87Escape: UInt8? {
        (opcode >= 0xD8 && opcode <= 0xDF) ? UInt8(opcode - 0xD8) : nil
    }

    /// The ModRM byte reassembled.
    public var modrmByte: UInt8 { mod << 6 | reg << 3 | rm }

    /// The immediate as a signed value.
    public var signedImmediate: Int32 { Int32(bitPattern: immediate) }

    /// The destination of a relative branch, given the address of this instruction
    /// (an offset in CS): wraps to 16 bits when the operand size is 16, as the CPU does.
    public func branchTarget(instructionAddress: UInt32) -> UInt32 {
        let target = instructionAddress &+ UInt32(length) &+ immediate
        return operandSizeAttribute == 16 ? target & 0xFFFF : target
    }
}

/// What `decode` found at the start of the bytes it was given.
public enum DecodeResult: Sendable, Equatable {
    case instruction(DecodedInstruction)
    /// The bytes end before the instruction does: give more (up to 15).
    case truncated
    /// Not an instruction on i686: #UD.
    case invalid
    /// Longer than 15 bytes: #GP(0).
    case tooLong
}

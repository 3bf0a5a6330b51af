/// Properties of one opcode table entry.
struct OpcodeFlags: OptionSet, Sendable {
    let rawValue: UInt16

    /// The encoding exists on i686 (otherwise #UD).
    static let valid = OpcodeFlags(rawValue: 1 << 0)
    /// LOCK is allowed when the destination is memory.
    static let lockable = OpcodeFlags(rawValue: 1 << 1)
    /// The ModRM reg field selects the operation: look it up in `GroupTable`.
    static let group = OpcodeFlags(rawValue: 1 << 2)
    /// An x87 escape (D8-DF): look it up in `X87Opcodes`.
    static let x87 = OpcodeFlags(rawValue: 1 << 3)
    /// An MMX/SSE opcode whose 66/F2/F3 prefix selects the variant.
    static let simd = OpcodeFlags(rawValue: 1 << 4)
    /// #UD in real mode and virtual-8086 mode (LAR, LSL, ARPL, SLDT...).
    static let protectedModeOnly = OpcodeFlags(rawValue: 1 << 5)
    /// Operates on bytes: operand size 8.
    static let byteForm = OpcodeFlags(rawValue: 1 << 6)
    /// A string instruction: F2/F3 are REP prefixes and the segment override
    /// applies to the DS:[eSI] source.
    static let string = OpcodeFlags(rawValue: 1 << 7)
}

/// One entry of an opcode table: everything the decoder needs to find the
/// instruction's length and operands, the mnemonic for the disassembly, and
/// the translation (`Semantics`) the translator dispatches on.
struct OpcodeEntry: Sendable {
    /// The translator's routine for the instruction.
    var semantics: Semantics
    var mnemonic: StaticString
    var operand1: OperandKind
    var operand2: OperandKind
    var operand3: OperandKind
    var modrm: ModRMUse
    var immediate: ImmediateKind
    var isa: InstructionSet
    var flags: OpcodeFlags
    /// Index into `GroupTable` when `flags` has `.group`.
    var group: UInt8
    /// For SIMD opcodes: bit set of the `SIMDPrefix` variants that exist.
    var simdVariants: UInt8
    /// For SIMD opcodes: each variant's translation (`semantics` is then the selected one's).
    var simdSemantics = SIMDSemantics.unavailable

    static let invalid = OpcodeEntry(
        semantics: .invalidOpcode, mnemonic: "(bad)", operand1: .none, operand2: .none, operand3: .none,
        modrm: .none, immediate: .none, isa: .base, flags: [], group: 0, simdVariants: 0)

    var isValid: Bool { flags.contains(.valid) }

    /// Builds an entry whose ModRM use, immediate and byte form follow from its operands.
    init(_ semantics: Semantics, _ mnemonic: StaticString, _ a: OperandKind = .none, _ b: OperandKind = .none,
         _ c: OperandKind = .none, isa: InstructionSet = .base, flags: OpcodeFlags = []) {
        self.semantics = semantics
        self.mnemonic = mnemonic
        operand1 = a
        operand2 = b
        operand3 = c
        self.isa = isa
        self.flags = flags.union(.valid)
        group = 0
        simdVariants = 0
        modrm = .none
        immediate = .none
        var sawByte = false, sawSized = false
        for kind in [a, b, c] {
            if kind.usesRM || kind.usesReg, modrm == .none { modrm = .any }
            switch kind {
            case .M, .Mp, .Ma, .Mq: modrm = .memoryOnly
            case .Nq, .Ux: modrm = .registerOnly
            case .Rd: modrm = .alwaysRegister
            case .Ib: immediate = immediate == .word ? .wordThenByte : .byte
            case .IbS: immediate = .byteSignExtended
            case .Iw: immediate = .word
            case .Iz: immediate = .operandSized
            case .Jb: immediate = .relative8
            case .Jz: immediate = .relativeOperandSized
            case .Ap: immediate = .farPointer
            case .Ob, .Ov: immediate = .addressSized
            default: break
            }
            sawByte = sawByte || kind.isByteSized
            sawSized = sawSized || kind.isOperandSized
        }
        if sawByte && !sawSized { self.flags.insert(.byteForm) }
    }

    private init(semantics: Semantics, mnemonic: StaticString, operand1: OperandKind, operand2: OperandKind,
                 operand3: OperandKind, modrm: ModRMUse, immediate: ImmediateKind,
                 isa: InstructionSet, flags: OpcodeFlags, group: UInt8, simdVariants: UInt8) {
        self.semantics = semantics
        self.mnemonic = mnemonic
        self.operand1 = operand1
        self.operand2 = operand2
        self.operand3 = operand3
        self.modrm = modrm
        self.immediate = immediate
        self.isa = isa
        self.flags = flags
        self.group = group
        self.simdVariants = simdVariants
    }

    /// An opcode whose ModRM reg field selects one of eight entries of `group`.
    /// `a` sizes the ModRM use (its operand kind decides the byte form).
    static func group(_ group: GroupTable.Group, _ a: OperandKind = .Ev) -> OpcodeEntry {
        var entry = OpcodeEntry(.invalidOpcode, "(group)", a)
        entry.flags.insert(.group)
        entry.group = group.rawValue
        return entry
    }

    /// An MMX/SSE opcode with ModRM; `variants` lists the prefixes it exists with
    /// (SIMDVariants.none, .p66, .pF3, .pF2); `isa` is the plain (no prefix) variant's set;
    /// `semantics` names each variant's translation (none yet: #UD, as on a CPU without them).
    static func simd(_ mnemonic: StaticString, _ a: OperandKind, _ b: OperandKind,
                     _ c: OperandKind = .none, isa: InstructionSet, variants: UInt8,
                     semantics: SIMDSemantics = .unavailable) -> OpcodeEntry {
        var entry = OpcodeEntry(.invalidOpcode, mnemonic, a, b, c, isa: isa, flags: .simd)
        entry.simdVariants = variants
        entry.simdSemantics = semantics
        return entry
    }

    func with(_ extra: OpcodeFlags) -> OpcodeEntry {
        var copy = self
        copy.flags.formUnion(extra)
        return copy
    }

    func with(modrm: ModRMUse) -> OpcodeEntry {
        var copy = self
        copy.modrm = modrm
        return copy
    }
}

/// Bits of `OpcodeEntry.simdVariants`.
enum SIMDVariants {
    static let none: UInt8 = 1 << SIMDPrefix.none.rawValue
    static let p66: UInt8 = 1 << SIMDPrefix.p66.rawValue
    static let pF3: UInt8 = 1 << SIMDPrefix.pF3.rawValue
    static let pF2: UInt8 = 1 << SIMDPrefix.pF2.rawValue
    static let all: UInt8 = none | p66 | pF3 | pF2
}

/// Every IR operation, declared once. `IROpcode.properties` says what each
/// reads, writes and may do; the builder, printer, validator, optimizer and
/// every backend read that table rather than knowing opcodes by heart.
public enum IROpcode: UInt8, CaseIterable, Sendable {
    // Moves and constants.
    case mov            // out0 = in0
    case movi           // out0 = constant
    // Two-operand arithmetic: out0 = in0 op in1 (in the op's type, wrapping).
    case add, sub, mul, and, or, xor
    case shl, shr, sar, rotl, rotr  // the count is taken modulo the type's width
    // One-operand arithmetic.
    case neg, not
    /// Sign/zero extension of the low 8, 16 or 32 bits (32 only in i64).
    case ext8s, ext8u, ext16s, ext16u, ext32s, ext32u
    /// i32 <-> i64: zero/sign-extend an i32 to i64, or take the low/high half of an i64.
    case extu32to64, exts32to64, low64to32, high64to32
    /// out0 = in0 with `size` bits at `position` replaced by the low bits of in1 (aux: position, constant: size).
    case deposit
    /// out0 = (in0 >> position) & mask(size), zero- or sign-extended (aux: position, constant: size).
    case extract, sextract
    /// out0 = cond(in0, in1) ? 1 : 0.
    case setcond
    /// out0 = cond(in0, in1) ? in2 : in3.
    case movcond
    /// CPU state: out0 = load(env + constant), or store(env + constant) = in0; `memory` gives size and sign.
    case loadState, storeState
    /// Guest memory through the software MMU: out0 = load(in0) / store(in0) = in1.
    /// aux: MemoryAccess; constant: the MMU index. May fault.
    case loadGuest, storeGuest
    /// A call to a registered helper: out0 (optional) = helper(env, in0, in1, in2).
    case call
    /// Control flow inside the block.
    case label, br, brcond
    /// The start of a guest instruction at address `constant`: exceptions
    /// raised before the next insnStart are reported at this address.
    case insnStart
    /// Leave the block: the loop continues with the state as stored. constant: the exit code.
    case exitBlock
    /// Leave through chaining slot `constant` (0 or 1): a direct jump the
    /// runtime may patch to go straight to the next block.
    case gotoBlock
    /// One x87 instruction run on the host's FPU as is (JIT only): constant is
    /// a `HostX87Instruction` (escape, ModRM; a memory form addresses the
    /// state at the offset it carries). No temps: operands move through state fields.
    case hostX87
    /// One SSE instruction run on the host's SSE unit: constant is a
    /// `HostSIMDInstruction`. No temps: operands move through state fields.
    case hostSIMD
}

/// What an opcode reads, writes and does, for the passes and backends.
public struct OpcodeProperties: Sendable {
    public var outputs: Int
    public var inputs: Int
    /// Takes a label id (label, br, brcond).
    public var usesLabel = false
    /// Has effects beyond its output: may not be removed even when the output is dead.
    public var sideEffects = false
    /// May raise a guest exception (and so leave the block early).
    public var mayFault = false
    /// Ends the basic block: nothing after it runs on this path.
    public var endsBlock = false
    /// Reads or writes CPU state behind the IR's back (a helper, a state load):
    /// globals must be in memory, up to date, before it.
    public var touchesState = false

    @inlinable
    public init(outputs: Int, inputs: Int, usesLabel: Bool = false, sideEffects: Bool = false, mayFault: Bool = false,
                endsBlock: Bool = false, touchesState: Bool = false) {
        self.outputs = outputs
        self.inputs = inputs
        self.usesLabel = usesLabel
        self.sideEffects = sideEffects
        self.mayFault = mayFault
        self.endsBlock = endsBlock
        self.touchesState = touchesState
    }
}

extension IROpcode {
    /// A switch the compiler inlines into every module (a table behind a
    /// lazily initialised global cost a call and a once-check per use).
    @inlinable @inline(__always)
    public var properties: OpcodeProperties {
        switch self {
        case .mov, .neg, .not, .ext8s, .ext8u, .ext16s, .ext16u, .ext32s, .ext32u,
             .extu32to64, .exts32to64, .low64to32, .high64to32, .extract, .sextract:
            return OpcodeProperties(outputs: 1, inputs: 1)
        case .movi:
            return OpcodeProperties(outputs: 1, inputs: 0)
        case .add, .sub, .mul, .and, .or, .xor, .shl, .shr, .sar, .rotl, .rotr, .setcond, .deposit:
            return OpcodeProperties(outputs: 1, inputs: 2)
        case .movcond:
            return OpcodeProperties(outputs: 1, inputs: 4)
        case .loadState:
            return OpcodeProperties(outputs: 1, inputs: 0, touchesState: true)
        case .storeState:
            return OpcodeProperties(outputs: 0, inputs: 1, sideEffects: true, touchesState: true)
        case .loadGuest:
            return OpcodeProperties(outputs: 1, inputs: 1, sideEffects: true, mayFault: true, touchesState: true)
        case .storeGuest:
            return OpcodeProperties(outputs: 0, inputs: 2, sideEffects: true, mayFault: true, touchesState: true)
        case .call:
            // Inputs and output are optional; `IROp` marks absent ones with `Temp.none`.
            return OpcodeProperties(outputs: 1, inputs: 3, sideEffects: true, mayFault: true, touchesState: true)
        case .label:
            return OpcodeProperties(outputs: 0, inputs: 0, usesLabel: true, sideEffects: true)
        case .br:
            return OpcodeProperties(outputs: 0, inputs: 0, usesLabel: true, sideEffects: true, endsBlock: true)
        case .brcond:
            return OpcodeProperties(outputs: 0, inputs: 2, usesLabel: true, sideEffects: true)
        case .insnStart:
            return OpcodeProperties(outputs: 0, inputs: 0, sideEffects: true)
        case .exitBlock, .gotoBlock:
            return OpcodeProperties(outputs: 0, inputs: 0, sideEffects: true, endsBlock: true, touchesState: true)
        case .hostX87:
            // It reads and writes only its transfer field and the FPU, never a global's field.
            return OpcodeProperties(outputs: 0, inputs: 0, sideEffects: true)
        case .hostSIMD:
            // It reads and writes the XMM, MXCSR and transfer fields, never a global's.
            return OpcodeProperties(outputs: 0, inputs: 0, sideEffects: true)
        }
    }

    public var name: String {
        switch self {
        case .mov: return "mov"
        case .movi: return "movi"
        case .add: return "add"
        case .sub: return "sub"
        case .mul: return "mul"
        case .and: return "and"
        case .or: return "or"
        case .xor: return "xor"
        case .shl: return "shl"
        case .shr: return "shr"
        case .sar: return "sar"
        case .rotl: return "rotl"
        case .rotr: return "rotr"
        case .neg: return "neg"
        case .not: return "not"
        case .ext8s: return "ext8s"
        case .ext8u: return "ext8u"
        case .ext16s: return "ext16s"
        case .ext16u: return "ext16u"
        case .ext32s: return "ext32s"
        case .ext32u: return "ext32u"
        case .extu32to64: return "extu_i32_i64"
        case .exts32to64: return "exts_i32_i64"
        case .low64to32: return "extrl_i64_i32"
        case .high64to32: return "extrh_i64_i32"
        case .deposit: return "deposit"
        case .extract: return "extract"
        case .sextract: return "sextract"
        case .setcond: return "setcond"
        case .movcond: return "movcond"
        case .loadState: return "ld_state"
        case .storeState: return "st_state"
        case .loadGuest: return "ld_guest"
        case .storeGuest: return "st_guest"
        case .call: return "call"
        case .label: return "label"
        case .br: return "br"
        case .brcond: return "brcond"
        case .insnStart: return "insn_start"
        case .exitBlock: return "exit_tb"
        case .gotoBlock: return "goto_tb"
        case .hostX87: return "host_x87"
        case .hostSIMD: return "host_simd"
        }
    }
}

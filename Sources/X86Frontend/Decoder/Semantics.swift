import X86State

/// The translation an opcode table entry names: which routine of the
/// translator emits its IR, with the little that tells a row of similar
/// opcodes apart (the ALU operation, the condition code, the segment). The
/// routine takes its operands from the entry's operand kinds.
///
/// A plain enum of one or two bytes: copied into `DecodedInstruction` by the
/// decoder, then switched on once (`TranslationContext.translateInstruction`),
/// so dispatch costs one jump table and no reference counting.
enum Semantics: Equatable, Sendable {
    /// No translation: #UD (UD0/UD1/UD2, opcodes of extensions the CPU lacks, RSM, RDPMC).
    case invalidOpcode

    // Arithmetic and logic.
    /// ADD OR ADC SBB AND SUB XOR CMP: operand1 op= operand2.
    case alu(ALUOperation)
    case increment, decrement
    /// TEST: the AND of the operands sets the flags.
    case test
    case not, neg
    /// MUL/IMUL of the accumulator by operand1 (`signed`), result in eAX/eDX.
    case multiplyAccumulator(signed: Bool)
    /// IMUL with two or three operands: operand1 = operand2 * (operand3 or operand1).
    case multiplySigned
    /// DIV/IDIV of eDX:eAX by operand1.
    case divide(signed: Bool)
    /// DAA DAS AAA AAS AAM AAD, through the helper.
    case decimalAdjust

    // Data movement.
    case move
    /// MOV r/m, Sreg (MOV Sreg, r/m is a `move`).
    case moveFromSegment
    case loadEffectiveAddress
    case exchange
    case nop
    /// CBW/CWDE and CWD/CDQ.
    case signExtendAccumulator, signExtendIntoDX
    case storeFlagsIntoAH, loadFlagsFromAH
    case setALFromCarry
    case translateByte
    /// LES LDS LSS LFS LGS.
    case loadFarPointer(Segment)
    case moveZeroExtend, moveSignExtend
    case conditionalMove(UInt8)
    case setOnCondition(UInt8)
    case byteSwap
    case exchangeAndAdd
    case compareExchange
    case compareExchange8Bytes

    // Stack.
    case push, pop
    /// POP into a segment register (its load may fault before ESP moves).
    case popSegment
    case pushAll, popAll, pushFlags, popFlags
    case enter, leave

    // Control flow.
    case jumpRelative, callRelative
    case jumpConditional(UInt8)
    /// JCXZ/JECXZ.
    case jumpIfCounterZero
    /// LOOPNE (0), LOOPE (1), LOOP (2).
    case loop(UInt8)
    case jumpIndirect, callIndirect
    case returnNear, returnFar, interruptReturn
    /// Far JMP/CALL to the pointer in operand1 (immediate or memory).
    case jumpFar, callFar
    case breakpoint, interrupt, interruptOnOverflow, debugTrap

    // Shifts and rotates.
    /// ROL ROR RCL RCR SHL SHR SAL SAR by the ModRM reg number, count in operand2.
    case shift(UInt8)
    /// SHLD (left) / SHRD, count in operand3.
    case doubleShift(left: Bool)

    // Bits.
    /// BT BTS BTR BTC (0...3), bit index in operand2.
    case bitTest(UInt8)
    case bitScan(forward: Bool)

    // Strings, with REP.
    case moveString, compareString, storeString, loadString, scanString, inputString, outputString

    // Flags and I/O.
    /// CLC (0), STC (1), CMC (2).
    case carryFlag(UInt8)
    case clearDirection, setDirection
    case clearInterrupts, setInterrupts
    case halt
    case input, output
    case cpuid, readTimeStampCounter
    case checkBounds

    // Descriptor tables and control registers.
    /// SLDT STR SMSW: 16 bits to memory, the operand size to a register.
    case storeSystemRegister(SystemOperation)
    /// LLDT LTR.
    case loadSystemRegister(SystemOperation)
    /// VERR VERW.
    case verifySegment(SystemOperation)
    /// SGDT SIDT LGDT LIDT.
    case descriptorTableRegister(SystemOperation)
    case loadMachineStatus
    case invalidatePage
    /// LAR LSL.
    case loadSegmentInformation(SystemOperation)
    case clearTaskSwitched
    case moveFromControlRegister, moveToControlRegister, moveFromDebugRegister, moveToDebugRegister
    case readMSR, writeMSR
    case systemEnter, systemExit
    case invalidateCaches
    case adjustRPL

    // x87 and the FPU state.
    /// The escapes D8-DF.
    case x87
    case wait
    case fxsave, fxrstor

    // SSE.
    /// An SSE instruction run on the host's SSE unit, its operands as the form says.
    case sse(SIMDForm)
    case loadMXCSR, storeMXCSR
    /// LFENCE, MFENCE, SFENCE, PREFETCHh, CLFLUSH: ordering and cache hints, nothing to do
    /// for one CPU over plain memory beyond the checks of the address.
    case sseHint
    /// SYSCALL, SYSRET; 0F 01 F8 SWAPGS and 0F 01 F9 RDTSCP (the register form of 0F 01 /7, by r/m).
    case fastSystemCall, fastSystemReturn, swapGS, readTimeStampCounterAndProcessor
    /// An MMX instruction (or an SSE/SSSE3 form naming MMX registers) run on
    /// the host's MMX unit over the x87 registers it aliases.
    case mmx(SIMDForm)
    case emms
    /// MOVQ2DQ xmm, mm (F3 0F D6) and MOVDQ2Q mm, xmm (F2 0F D6): a quadword
    /// between the two register files.
    case moveBetweenMMXAndXMM
    /// CVTPI2PS/PD xmm, mm/m64 and CVT(T)PS2PI/CVT(T)PD2PI mm, xmm/m: a
    /// floating-point conversion between the two register files.
    case convertBetweenMMXAndXMM(SIMDForm)
}

/// The eight ALU operations in opcode-row order (ADD = row 0 ... CMP = row 7),
/// which is also their ModRM reg number in the 80-83 groups.
enum ALUOperation: UInt8, CaseIterable, Sendable {
    case add = 0, or, adc, sbb, and, sub, xor, cmp

    var mnemonic: StaticString {
        switch self {
        case .add: return "add"
        case .or: return "or"
        case .adc: return "adc"
        case .sbb: return "sbb"
        case .and: return "and"
        case .sub: return "sub"
        case .xor: return "xor"
        case .cmp: return "cmp"
        }
    }
}

/// The translations of an MMX/SSE opcode's variants, one for each prefix
/// that can select it (none, 66, F3, F2: `DecodedInstruction.simdPrefix`),
/// e.g. ADDPS, ADDPD, ADDSS, ADDSD for 0F 58. The decoder puts the selected
/// one in the instruction; a variant without its own routine is #UD.
struct SIMDSemantics: Sendable {
    var none: Semantics
    var p66: Semantics
    var pF3: Semantics
    var pF2: Semantics

    /// No variant translated: #UD, as on a CPU without the extension.
    static let unavailable = SIMDSemantics(none: .invalidOpcode, p66: .invalidOpcode, pF3: .invalidOpcode, pF2: .invalidOpcode)

    @inline(__always)
    subscript(prefix: SIMDPrefix) -> Semantics {
        switch prefix {
        case .none: return none
        case .p66: return p66
        case .pF3: return pF3
        case .pF2: return pF2
        }
    }
}

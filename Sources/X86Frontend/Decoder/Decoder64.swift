/// Decodes the instruction at the start of `bytes` as 64-bit mode code (a
/// code segment with L = 1 in long mode; SDM vol. 2, 2.2.1 and appendix A):
/// REX prefixes, 64-bit operand and address sizes, RIP-relative operands,
/// registers 8-15, and the opcodes 64-bit mode removes. Compatibility mode
/// decodes as legacy code (`decode(_:codeSize32:)`).
public func decode64(_ bytes: UnsafeRawBufferPointer) -> DecodeResult {
    do {
        return .instruction(try X86Decoder.decode64(bytes))
    } catch {
        switch error {
        case .truncated: return .truncated
        case .invalid: return .invalid
        case .tooLong: return .tooLong
        }
    }
}

/// Convenience for tests and tools: decodes 64-bit code from an array.
public func decode64(_ bytes: [UInt8]) -> DecodeResult {
    bytes.withUnsafeBytes { decode64($0) }
}

extension X86Decoder {
    static func decode64(_ bytes: UnsafeRawBufferPointer) throws(DecodeStop) -> DecodedInstruction {
        var reader = ByteReader(bytes)

        // Legacy prefixes as in the other modes; a REX counts only when the
        // opcode follows it directly (a legacy prefix after it cancels it).
        // ES, CS, SS and DS overrides are accepted and ignored: those
        // segments have no base in 64-bit mode.
        var prefixes: Prefixes = []
        var segmentOverride: SegmentRegister?
        var rex: UInt8 = 0
        var byte = try reader.byte()
        prefixLoop: while true {
            switch byte {
            case 0x40...0x4F:
                rex = byte
                byte = try reader.byte()
                continue prefixLoop
            case 0x66: prefixes.insert(.operandSize)
            case 0x67: prefixes.insert(.addressSize)
            case 0xF0: prefixes.insert(.lock)
            case 0xF2: prefixes.remove(.rep); prefixes.insert(.repne)
            case 0xF3: prefixes.remove(.repne); prefixes.insert(.rep)
            case 0x26, 0x2E, 0x36, 0x3E: break
            case 0x64, 0x65:
                segmentOverride = Prefixes.segmentOverride(for: byte)
                prefixes.insert(.segment)
            default: break prefixLoop
            }
            rex = 0
            byte = try reader.byte()
        }

        var opcode = UInt16(byte)
        var entry: OpcodeEntry
        if byte == 0x0F {
            (opcode, entry) = try escapedOpcode(&reader)
        } else {
            guard !LongModeOpcodes.removed(byte) else { throw .invalid }
            entry = byte == 0x63 ? LongModeOpcodes.moveSignExtendDword : OneByteOpcodeTable.entries[Int(byte)]
        }
        guard entry.isValid else { throw .invalid }

        let addressSize32 = prefixes.contains(.addressSize)
        let rexW = rex & 8 != 0
        let fields = try resolveModRM(entry, byte: byte, opcode: opcode, prefixes: prefixes, reader: &reader)
        entry = fields.entry
        let (isa, simdPrefix, hasModRM) = (fields.isa, fields.simdPrefix, fields.hasModRM)
        let (mod, reg, rm) = (fields.mod, fields.reg, fields.rm)
        var memory = MemoryOperand.none
        var hasMemoryOperand = false
        if hasModRM {
            try LongModeOpcodes.checkRegisterFields(opcode: opcode, reg: reg | (rex & 4) << 1)
            if mod != 3 {
                memory = try reader.memoryOperand64(mod: mod, rm: rm, rex: rex, override: segmentOverride)
                hasMemoryOperand = true
            }
        }

        if prefixes.contains(.lock) {
            guard entry.flags.contains(.lockable) && hasMemoryOperand else { throw .invalid }
        }

        let operandSize: UInt8
        if entry.flags.contains(.byteForm) {
            operandSize = 8
        } else if entry.flags.contains(.simd) {
            operandSize = 32
        } else {
            switch LongModeOpcodes.operandSizeRule(opcode, reg: reg) {
            case .always64: operandSize = 64
            case .default64: operandSize = rexW ? 64 : (prefixes.contains(.operandSize) ? 16 : 64)
            case .normal: operandSize = rexW ? 64 : (prefixes.contains(.operandSize) ? 16 : 32)
            }
        }

        var immediate: UInt32 = 0
        var immediateHigh: UInt32 = 0
        var immediate2: UInt16 = 0
        switch entry.immediate {
        case .none: break
        case .byte: immediate = try reader.value(bytes: 1)
        case .byteSignExtended, .relative8: immediate = try reader.signExtendedByte()
        case .word: immediate = try reader.value(bytes: 2)
        case .operandSized:
            // Iz stays 32 bits (sign-extended) with a 64-bit operand, except MOV r64, imm64.
            immediate = try reader.value(bytes: operandSize == 16 ? 2 : 4)
            if operandSize == 64 && opcode >= 0xB8 && opcode <= 0xBF { immediateHigh = try reader.value(bytes: 4) }
        case .relativeOperandSized:
            // rel32 for a 64-bit branch, rel16 for one with 66 (see `operandSizeRule`).
            immediate = operandSize == 16 ? try reader.signExtendedWord() : try reader.value(bytes: 4)
        case .wordThenByte:
            immediate = try reader.value(bytes: 2)
            immediate2 = UInt16(try reader.value(bytes: 1))
        case .addressSized:
            memory.displacement = Int32(bitPattern: try reader.value(bytes: 4))
            if !addressSize32 { immediateHigh = try reader.value(bytes: 4) }
            if let segmentOverride {
                memory.segment = segmentOverride
                memory.segmentIsDefault = false
            }
            hasMemoryOperand = true
        case .farPointer:
            throw .invalid   // JMP/CALL ptr16:32 do not exist in 64-bit mode
        }

        var instruction = DecodedInstruction(
            length: UInt8(reader.position), opcode: opcode, prefixes: prefixes,
            segmentOverride: segmentOverride, simdPrefix: simdPrefix, codeSize32: true,
            operandSize: operandSize, addressSize: addressSize32 ? 32 : 64, isa: isa,
            hasModRM: hasModRM, mod: mod, reg: reg, rm: rm,
            hasMemoryOperand: hasMemoryOperand, memory: memory,
            immediate: immediate, immediate2: immediate2,
            operand1: entry.operand1, operand2: entry.operand2, operand3: entry.operand3,
            isProtectedModeOnly: entry.flags.contains(.protectedModeOnly), semantics: entry.semantics)
        instruction.is64BitMode = true
        instruction.rex = rex
        instruction.immediateHigh = immediateHigh
        return instruction
    }
}

/// What 64-bit mode changes in the one-byte map, and its operand-size rules
/// (SDM vol. 2, appendix A.2.5 and table 2-4 "instructions that default to
/// 64-bit operand size").
enum LongModeOpcodes {
    /// Opcodes that are #UD in 64-bit mode: PUSH/POP of ES CS SS DS, the
    /// decimal adjusts, PUSHA/POPA, BOUND, 82 (the alias of 80), far
    /// CALL/JMP with a pointer, LES/LDS (VEX prefixes on later CPUs), INTO,
    /// AAM/AAD and SALC. 40-4F never reach here: they are REX prefixes.
    @inline(__always)
    static func removed(_ opcode: UInt8) -> Bool {
        switch opcode {
        case 0x06, 0x07, 0x0E, 0x16, 0x17, 0x1E, 0x1F, 0x27, 0x2F, 0x37, 0x3F,
             0x60, 0x61, 0x62, 0x82, 0x9A, 0xC4, 0xC5, 0xCE, 0xD4, 0xD5, 0xD6, 0xEA:
            return true
        default:
            return false
        }
    }

    /// 63 is MOVSXD Gv, Ed in 64-bit mode (ARPL elsewhere): a sign-extending move.
    static let moveSignExtendDword = OpcodeEntry(.moveSignExtend, "movsxd", .Gv, .Ed)

    enum OperandSizeRule { case normal, default64, always64 }

    /// Near branches and stack operations default to 64 bits: REX.W changes
    /// nothing and 66 makes them 16-bit, as AMD CPUs (and QEMU's qemu64, an
    /// AMD model) decode them; Intel CPUs ignore 66 on near branches. MOV to
    /// and from control and debug registers always uses 64-bit registers.
    @inline(__always)
    static func operandSizeRule(_ opcode: UInt16, reg: UInt8) -> OperandSizeRule {
        switch opcode {
        case 0x0F20...0x0F23:
            return .always64
        case 0x50...0x5F, 0x68, 0x6A, 0x8F, 0x9C, 0x9D, 0xC8, 0xC9, 0x0FA0, 0x0FA1, 0x0FA8, 0x0FA9,
             0x70...0x7F, 0xE0...0xE3, 0xE8, 0xE9, 0xEB, 0xC2, 0xC3, 0x0F80...0x0F8F:
            return .default64
        case 0xFF:
            // CALL and JMP near indirect (/2, /4) and PUSH (/6).
            return reg == 2 || reg == 4 || reg == 6 ? .default64 : .normal
        default:
            return .normal
        }
    }

    /// Register numbers (with REX.R) in the reg field that do not exist:
    /// segment registers above GS, CS as a destination, control registers
    /// other than CR0, CR2-CR4 and CR8, debug registers above DR7.
    @inline(__always)
    static func checkRegisterFields(opcode: UInt16, reg: UInt8) throws(DecodeStop) {
        switch opcode {
        case 0x8C: if reg > 5 { throw .invalid }
        case 0x8E: if reg > 5 || reg == 1 { throw .invalid }
        case 0x0F20, 0x0F22: if reg == 1 || (reg > 4 && reg != 8) { throw .invalid }
        case 0x0F21, 0x0F23: if reg > 7 { throw .invalid }
        default: break
        }
    }
}

extension ByteReader {
    /// A 64-bit mode memory operand (SDM vol. 2, 2.2.1.2-2.2.1.6): REX.B
    /// extends the base, REX.X the index (index 100 without REX.X is none;
    /// R12 is an index), mod 00 r/m 101 is RIP-relative, and SIB base 101
    /// with mod 00 is a bare disp32. Only FS and GS overrides count; the
    /// default segment is SS for RSP and RBP bases (which #SS rather than
    /// #GP), DS otherwise.
    mutating func memoryOperand64(mod: UInt8, rm: UInt8, rex: UInt8, override: SegmentRegister?) throws(DecodeStop) -> MemoryOperand {
        var operand = MemoryOperand.none
        let extendBase = (rex & 1) << 3, extendIndex = (rex & 2) << 2
        if rm == 4 {
            let sib = try byte()
            let base = sib & 7, index = ((sib >> 3) & 7) | extendIndex
            operand.scaleShift = sib >> 6
            operand.index = index == 4 ? MemoryOperand.noRegister : index
            if base == 5 && mod == 0 {
                operand.displacement = Int32(bitPattern: try value(bytes: 4))
            } else {
                operand.base = base | extendBase
            }
        } else if rm == 5 && mod == 0 {
            operand.base = MemoryOperand.instructionPointer
            operand.displacement = Int32(bitPattern: try value(bytes: 4))
        } else {
            operand.base = rm | extendBase
        }
        if mod == 1 {
            operand.displacement = Int32(bitPattern: try signExtendedByte())
        } else if mod == 2 {
            operand.displacement = Int32(bitPattern: try value(bytes: 4))
        }
        if let override {
            operand.segment = override
            operand.segmentIsDefault = false
        } else {
            operand.segment = operand.base == 4 || operand.base == 5 ? .ss : .ds
        }
        return operand
    }
}

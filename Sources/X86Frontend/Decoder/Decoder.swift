/// Decodes the instruction at the start of `bytes` (the caller passes up to 15
/// bytes; more are ignored). `codeSize32` is the code segment's D bit: false for
/// real mode, virtual-8086 mode and 16-bit protected-mode code.
///
/// `.truncated` is exact: it is returned only when the instruction needs a byte
/// beyond the end of `bytes` and that byte is within the 15-byte limit. An
/// encoding found invalid before its end (for example LEA with a register
/// operand) is `.invalid` as soon as that is known.
public func decode(_ bytes: UnsafeRawBufferPointer, codeSize32: Bool) -> DecodeResult {
    do {
        return .instruction(try X86Decoder.decode(bytes, codeSize32: codeSize32))
    } catch {
        switch error {
        case .truncated: return .truncated
        case .invalid: return .invalid
        case .tooLong: return .tooLong
        }
    }
}

/// Convenience for tests and tools: decodes from an array.
public func decode(_ bytes: [UInt8], codeSize32: Bool) -> DecodeResult {
    bytes.withUnsafeBytes { decode($0, codeSize32: codeSize32) }
}

enum X86Decoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, codeSize32: Bool) throws(DecodeStop) -> DecodedInstruction {
        var reader = ByteReader(bytes)

        // Prefixes: any number, in any order, repeated or not; only the 15-byte
        // limit stops them. The last segment override and the last of F2/F3 win.
        var prefixes: Prefixes = []
        var segmentOverride: SegmentRegister?
        var byte = try reader.byte()
        prefixLoop: while true {
            switch byte {
            case 0x66: prefixes.insert(.operandSize)
            case 0x67: prefixes.insert(.addressSize)
            case 0xF0: prefixes.insert(.lock)
            case 0xF2: prefixes.remove(.rep); prefixes.insert(.repne)
            case 0xF3: prefixes.remove(.repne); prefixes.insert(.rep)
            case 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65:
                segmentOverride = Prefixes.segmentOverride(for: byte)
                prefixes.insert(.segment)
            default: break prefixLoop
            }
            byte = try reader.byte()
        }

        var opcode = UInt16(byte)
        var entry: OpcodeEntry
        if byte == 0x0F {
            (opcode, entry) = try escapedOpcode(&reader)
        } else {
            entry = OneByteOpcodeTable.entries[Int(byte)]
        }
        guard entry.isValid else { throw .invalid }

        let addressSize32 = codeSize32 != prefixes.contains(.addressSize)
        let fields = try resolveModRM(entry, byte: byte, opcode: opcode, prefixes: prefixes, reader: &reader)
        entry = fields.entry
        let (isa, simdPrefix, hasModRM) = (fields.isa, fields.simdPrefix, fields.hasModRM)
        let (mod, reg, rm) = (fields.mod, fields.reg, fields.rm)
        var memory = MemoryOperand.none
        var hasMemoryOperand = false
        if hasModRM {
            try checkRegisterFields(opcode: opcode, reg: reg)
            if mod != 3 {
                memory = try reader.memoryOperand(mod: mod, rm: rm, addressSize32: addressSize32,
                                                  override: segmentOverride)
                hasMemoryOperand = true
            }
        }

        // LOCK is only allowed on the read-modify-write instructions with a memory destination.
        if prefixes.contains(.lock) {
            guard entry.flags.contains(.lockable) && hasMemoryOperand else { throw .invalid }
        }

        let operandSize32 = entry.flags.contains(.simd) ? true : codeSize32 != prefixes.contains(.operandSize)
        var immediate: UInt32 = 0
        var immediate2: UInt16 = 0
        switch entry.immediate {
        case .none: break
        case .byte: immediate = try reader.value(bytes: 1)
        case .byteSignExtended, .relative8: immediate = try reader.signExtendedByte()
        case .word: immediate = try reader.value(bytes: 2)
        case .operandSized: immediate = try reader.value(bytes: operandSize32 ? 4 : 2)
        case .relativeOperandSized:
            immediate = operandSize32 ? try reader.value(bytes: 4) : try reader.signExtendedWord()
        case .wordThenByte:
            immediate = try reader.value(bytes: 2)
            immediate2 = UInt16(try reader.value(bytes: 1))
        case .addressSized:
            memory.displacement = Int32(bitPattern: try reader.value(bytes: addressSize32 ? 4 : 2))
            if let segmentOverride {
                memory.segment = segmentOverride
                memory.segmentIsDefault = false
            }
            hasMemoryOperand = true
        case .farPointer:
            immediate = try reader.value(bytes: operandSize32 ? 4 : 2)
            immediate2 = UInt16(try reader.value(bytes: 2))
        }

        return DecodedInstruction(
            length: UInt8(reader.position), opcode: opcode, prefixes: prefixes,
            segmentOverride: segmentOverride, simdPrefix: simdPrefix, codeSize32: codeSize32,
            operandSize: entry.flags.contains(.byteForm) ? 8 : (operandSize32 ? 32 : 16),
            addressSize: addressSize32 ? 32 : 16, isa: isa,
            hasModRM: hasModRM, mod: mod, reg: reg, rm: rm,
            hasMemoryOperand: hasMemoryOperand, memory: memory,
            immediate: immediate, immediate2: immediate2,
            operand1: entry.operand1, operand2: entry.operand2, operand3: entry.operand3,
            isProtectedModeOnly: entry.flags.contains(.protectedModeOnly), semantics: entry.semantics)
    }

    /// Register numbers in the reg field that do not exist.
    @inline(__always)
    private static func checkRegisterFields(opcode: UInt16, reg: UInt8) throws(DecodeStop) {
        switch opcode {
        case 0x8C: if reg > 5 { throw .invalid }                 // no segment register 6, 7
        case 0x8E: if reg > 5 || reg == 1 { throw .invalid }     // nor may CS be loaded
        case 0x0F20, 0x0F22: if reg == 1 || reg > 4 { throw .invalid }  // CR0, CR2-CR4 only
        default: break
        }
    }
}

/// The few MMX/SSE rules that depend on the selecting prefix.
enum SIMDRules {
    /// The extension a variant belongs to: the plain form's set (MMX, or SSE for
    /// the Pentium III additions), SSE for the F3 scalar-single forms of SSE
    /// opcodes, SSE3 and POPCNT for theirs, and SSE2 for every other prefixed form.
    static func instructionSet(entry: OpcodeEntry, opcode: UInt16, prefix: SIMDPrefix) -> InstructionSet {
        // The three-byte maps' entries name their own set.
        guard opcode >> 8 == 0x0F else { return entry.isa }
        switch opcode & 0xFF {
        case 0x12 where prefix == .pF3 || prefix == .pF2: return .sse3    // MOVSLDUP, MOVDDUP
        case 0x16 where prefix == .pF3: return .sse3                      // MOVSHDUP
        case 0x7C, 0x7D, 0xD0, 0xF0: return .sse3
        case 0xB8: return .popcnt
        default: break
        }
        switch prefix {
        case .none: return entry.isa
        case .pF3:
            let low = opcode & 0xFF
            return entry.isa == .sse && (low < 0x60 || low == 0xC2) ? .sse : .sse2
        case .p66, .pF2: return .sse2
        }
    }

    static func modrmOverride(opcode: UInt16, prefix: SIMDPrefix) -> ModRMUse? {
        switch (opcode, prefix) {
        case (0x0F12, .p66), (0x0F16, .p66): return .memoryOnly      // MOVLPD/MOVHPD
        case (0x0FD6, .pF3), (0x0FD6, .pF2): return .registerOnly    // MOVQ2DQ/MOVDQ2Q
        default: return nil
        }
    }
}

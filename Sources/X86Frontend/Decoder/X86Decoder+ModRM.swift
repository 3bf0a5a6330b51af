/// What both decoders (legacy and 64-bit mode) share: the 0F escape, and the ModRM step once the
/// opcode's entry is known: the byte read and split, group and x87 entries
/// chosen by it, the MMX/SSE variant chosen by the prefixes, and the entry's
/// ModRM class checked. REX extensions, register checks and memory operands
/// differ by mode and stay with each decoder.
struct ModRMFields {
    var entry: OpcodeEntry
    var isa: InstructionSet
    var simdPrefix = SIMDPrefix.none
    var hasModRM: Bool
    var mod: UInt8 = 0, reg: UInt8 = 0, rm: UInt8 = 0
}

extension X86Decoder {
    /// The opcode after 0F, in both decoders: 0F xx's entry, or 0F 38 xx's
    /// and 0F 3A xx's (opcode 38xx / 3Axx).
    @inline(__always)
    static func escapedOpcode(_ reader: inout ByteReader) throws(DecodeStop) -> (UInt16, OpcodeEntry) {
        let second = try reader.byte()
        guard second == 0x38 || second == 0x3A else {
            return (0x0F00 | UInt16(second), TwoByteOpcodeTable.entries[Int(second)])
        }
        let third = try reader.byte()
        let map = second == 0x38 ? ThreeByteOpcodeTables.map38 : ThreeByteOpcodeTables.map3A
        return (UInt16(second) << 8 | UInt16(third), map[Int(third)])
    }

    @inline(__always)
    static func resolveModRM(_ opcodeEntry: OpcodeEntry, byte: UInt8, opcode: UInt16, prefixes: Prefixes,
                             reader: inout ByteReader) throws(DecodeStop) -> ModRMFields {
        var fields = ModRMFields(entry: opcodeEntry, isa: opcodeEntry.isa, hasModRM: opcodeEntry.modrm != .none)
        if fields.hasModRM {
            let modrm = try reader.byte()
            fields.mod = modrm >> 6
            fields.reg = (modrm >> 3) & 7
            fields.rm = modrm & 7
            if fields.entry.flags.contains(.group) {
                fields.entry = GroupTable.entry(fields.entry.group, reg: fields.reg, isRegister: fields.mod == 3)
                if opcode == 0x0F01 && fields.reg == 7 && fields.mod == 3 {
                    // SWAPGS and RDTSCP share /7's register form: r/m decides.
                    guard fields.rm <= 1 else { throw .invalid }
                    if fields.rm == 1 { fields.entry = GroupTable.readTimeStampCounterAndProcessor }
                }
            } else if fields.entry.flags.contains(.x87) {
                fields.entry = X87Opcodes.entry(escape: Int(byte &- 0xD8), modrm: modrm).with(modrm: .any)
            }
            guard fields.entry.isValid else { throw .invalid }
        }

        // MMX/SSE: the last of F2/F3, else 66, selects the variant.
        fields.isa = fields.entry.isa
        if fields.entry.flags.contains(.simd) {
            let prefix: SIMDPrefix = prefixes.contains(.repne) ? .pF2
                : prefixes.contains(.rep) ? .pF3
                : prefixes.contains(.operandSize) ? .p66 : .none
            guard fields.entry.simdVariants & prefix.variantBit != 0 else { throw .invalid }
            fields.simdPrefix = prefix
            fields.entry.semantics = fields.entry.simdSemantics[prefix]
            fields.isa = SIMDRules.instructionSet(entry: fields.entry, opcode: opcode, prefix: prefix)
            if let rule = SIMDRules.modrmOverride(opcode: opcode, prefix: prefix) { fields.entry.modrm = rule }
        }

        if fields.hasModRM {
            switch fields.entry.modrm {
            case .memoryOnly: guard fields.mod != 3 else { throw .invalid }
            case .registerOnly: guard fields.mod == 3 else { throw .invalid }
            case .alwaysRegister: fields.mod = 3
            case .none, .any: break
            }
        }
        return fields
    }
}

/// A short Intel-syntax disassembly for the `-d in_asm` log. Built only when
/// logging, so String work is fine here (and only here).
extension DecodedInstruction: CustomStringConvertible {
    /// Relative branch targets are shown as "$+N" from the instruction's start.
    public var description: String { disassembly(address: nil) }

    /// The disassembly with relative branch targets resolved against `address`
    /// (the instruction's offset in CS).
    public func disassembly(address: UInt32?) -> String {
        let entry = tableEntry
        var text = ""
        if prefixes.contains(.lock) { text += "lock " }
        let isString = isStringInstruction
        if isString && prefixes.contains(.rep) {
            text += (opcode == 0xA6 || opcode == 0xA7 || opcode == 0xAE || opcode == 0xAF) ? "repe " : "rep "
        } else if isString && prefixes.contains(.repne) {
            text += "repne "
        }
        text += mnemonic(entry, isString: isString)
        var operands: [String] = []
        let kinds = simdOperandKinds ?? (operand1, operand2, operand3)
        for kind in [kinds.0, kinds.1, kinds.2] where kind != .none {
            operands.append(format(kind, address: address))
        }
        if !operands.isEmpty { text += " " + operands.joined(separator: ", ") }
        return text
    }

    /// The table entry this instruction was decoded from.
    var tableEntry: OpcodeEntry {
        var entry: OpcodeEntry
        switch opcode >> 8 {
        case 0: entry = OneByteOpcodeTable.entries[Int(opcode)]
        case 0x38: entry = ThreeByteOpcodeTables.map38[Int(opcode & 0xFF)]
        case 0x3A: entry = ThreeByteOpcodeTables.map3A[Int(opcode & 0xFF)]
        default: entry = TwoByteOpcodeTable.entries[Int(opcode & 0xFF)]
        }
        if entry.flags.contains(.group) {
            entry = GroupTable.entry(entry.group, reg: reg, isRegister: mod == 3)
            if opcode == 0x0F01 && reg == 7 && mod == 3 && rm == 1 { entry = GroupTable.readTimeStampCounterAndProcessor }
        } else if entry.flags.contains(.x87) {
            entry = X87Opcodes.entry(escape: Int(opcode - 0xD8), modrm: modrmByte)
        }
        return entry
    }

    private var isStringInstruction: Bool {
        opcode < 0x100 && OneByteOpcodeTable.entries[Int(opcode)].flags.contains(.string)
    }

    private func mnemonic(_ entry: OpcodeEntry, isString: Bool) -> String {
        let wide = operandSizeAttribute == 32
        switch opcode {
        case 0x90 where prefixes.contains(.rep): return "pause"
        case 0x60: return wide ? "pushad" : "pusha"
        case 0x61: return wide ? "popad" : "popa"
        case 0x9C: return wide ? "pushfd" : "pushf"
        case 0x9D: return wide ? "popfd" : "popf"
        case 0x98: return wide ? "cwde" : "cbw"
        case 0x99: return wide ? "cdq" : "cwd"
        case 0xCF: return wide ? "iretd" : "iret"
        case 0xE3: return addressSize == 32 ? "jecxz" : "jcxz"
        case 0x9A: return "call far"
        case 0xEA: return "jmp far"
        default: break
        }
        if isString {
            let names: [UInt16: String] = [0x6C: "ins", 0x6E: "outs", 0xA4: "movs", 0xA6: "cmps",
                                           0xAA: "stos", 0xAC: "lods", 0xAE: "scas"]
            return names[opcode & 0xFE] ?? "\(entry.mnemonic)"
        }
        if simdPrefix != .none, let name = simdVariantMnemonic(entry) { return name }
        if simdPrefix == .none && mod == 3 {
            if opcode == 0x0F12 { return "movhlps" }
            if opcode == 0x0F16 { return "movlhps" }
        }
        return "\(entry.mnemonic)"
    }

    /// Mnemonics of the 66/F3/F2 variants of MMX/SSE opcodes.
    private func simdVariantMnemonic(_ entry: OpcodeEntry) -> String? {
        let index = Int(simdPrefix.rawValue)   // 1 = 66, 2 = F3, 3 = F2
        let named: [UInt16: [String]] = [
            0x0F2A: ["", "cvtpi2pd", "cvtsi2ss", "cvtsi2sd"], 0x0F2C: ["", "cvttpd2pi", "cvttss2si", "cvttsd2si"],
            0x0F2D: ["", "cvtpd2pi", "cvtss2si", "cvtsd2si"], 0x0F5A: ["", "cvtpd2ps", "cvtss2sd", "cvtsd2ss"],
            0x0F5B: ["", "cvtps2dq", "cvttps2dq", ""], 0x0FE6: ["", "cvttpd2dq", "cvtdq2pd", "cvtpd2dq"],
            0x0F6F: ["", "movdqa", "movdqu", ""], 0x0F7F: ["", "movdqa", "movdqu", ""],
            0x0F7E: ["", "movd", "movq", ""], 0x0FD6: ["", "movq", "movq2dq", "movdq2q"],
            0x0F70: ["", "pshufd", "pshufhw", "pshuflw"], 0x0FE7: ["", "movntdq", "", ""],
            0x0FF7: ["", "maskmovdqu", "", ""], 0x0F10: ["", "movupd", "movss", "movsd"],
            0x0F11: ["", "movupd", "movss", "movsd"], 0x0F12: ["", "movlpd", "movsldup", "movddup"],
            0x0F13: ["", "movlpd", "", ""], 0x0F16: ["", "movhpd", "movshdup", ""], 0x0F17: ["", "movhpd", "", ""],
            0x0F7C: ["", "haddpd", "", "haddps"], 0x0F7D: ["", "hsubpd", "", "hsubps"], 0x0FD0: ["", "addsubpd", "", "addsubps"],
            0x0F2E: ["", "ucomisd", "", ""], 0x0F2F: ["", "comisd", "", ""],
        ]
        if let names = named[opcode], !names[index].isEmpty { return names[index] }
        // Packed-single opcodes: ps becomes pd (66), ss (F3), sd (F2).
        let base = "\(entry.mnemonic)"
        let low = opcode & 0xFF
        if (low < 0x60 || low == 0xC2 || low == 0xC6), base.hasSuffix("ps") {
            return String(base.dropLast(2)) + ["ps", "pd", "ss", "sd"][index]
        }
        return nil   // MMX opcodes keep their name with 66 (xmm registers)
    }

    /// Operand kinds of MMX/SSE variants whose operands differ from the plain form.
    private var simdOperandKinds: (OperandKind, OperandKind, OperandKind)? {
        guard simdPrefix == .pF3 || simdPrefix == .pF2 else { return nil }
        switch opcode {
        case 0x0F2A: return (.Vx, .Ed, .none)
        case 0x0F2C, 0x0F2D: return (.Gd, .Wx, .none)
        case 0x0F7E: return (.Vx, .Wx, .none)
        case 0x0FD6: return simdPrefix == .pF3 ? (.Vx, .Nq, .none) : (.Pq, .Ux, .none)
        default: return nil
        }
    }

    /// MMX register operands name XMM registers in the 66 forms (and the F3/F2
    /// forms of MOVDQU/PSHUFHW/PSHUFLW), except in the MMX<->SSE conversions.
    private var mmxOperandsAreXMM: Bool {
        switch opcode {
        case 0x0F2A, 0x0F2C, 0x0F2D: return false
        case 0x0F6F, 0x0F7F, 0x0F70: return simdPrefix != .none
        default: return simdPrefix == .p66
        }
    }

    private static let registers8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"]
    private static let registers16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]
    private static let registers32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]

    private static let registers64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"]
    private static let uniformBytes = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"]

    /// Register `number` (0-15; RIP-relative's pseudo-register) at `bits`.
    private func generalRegister(_ number: UInt8, bits: UInt8) -> String {
        if number == MemoryOperand.instructionPointer { return bits == 64 ? "rip" : "eip" }
        let index = Int(number & 15)
        if index >= 8 { return "r\(index)" + (bits == 8 ? "b" : bits == 16 ? "w" : bits == 32 ? "d" : "") }
        switch bits {
        case 8: return (byteRegistersUniform ? Self.uniformBytes : Self.registers8)[index]
        case 16: return Self.registers16[index]
        case 64: return Self.registers64[index]
        default: return Self.registers32[index]
        }
    }

    private func hexadecimal(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

    private func format(_ kind: OperandKind, address: UInt32?) -> String {
        let size = is64BitMode && operandSize == 64 ? 64 : operandSizeAttribute
        let rmRegister = mod == 3
        // With REX (64-bit mode), the register fields reach R8-R15.
        let (reg, rm) = (UInt8(self.regRegister), UInt8(self.rmRegister))
        switch kind {
        case .none: return ""
        case .Eb: return rmRegister ? generalRegister(rm, bits: 8) : memoryText("byte")
        case .Ew: return rmRegister ? generalRegister(rm, bits: 16) : memoryText("word")
        case .Ed: return rmRegister ? generalRegister(rm, bits: 32) : memoryText("dword")
        case .Ev: return rmRegister ? generalRegister(rm, bits: size) : memoryText(size == 64 ? "qword" : size == 32 ? "dword" : "word")
        case .Gb: return generalRegister(reg, bits: 8)
        case .Gw: return generalRegister(reg, bits: 16)
        case .Gd: return generalRegister(reg, bits: 32)
        case .Gv: return generalRegister(reg, bits: size)
        case .Rd: return generalRegister(rm, bits: is64BitMode ? 64 : 32)
        case .M: return x87Escape != nil ? memoryText(x87MemorySize) : memoryText(nil)
        case .Mp: return memoryText(size == 32 ? "fword" : "dword")
        case .Ma: return memoryText(size == 32 ? "qword" : "dword")
        case .Mq: return memoryText("qword")
        case .Sw: return SegmentRegister(rawValue: reg).map { "\($0.name)" } ?? "?"
        case .Cd: return "cr\(reg)"
        case .Dd: return "dr\(reg)"
        case .Ib: return hexadecimal(opcode == 0xC8 ? UInt32(immediate2) : immediate & 0xFF)   // ENTER's level
        case .IbS, .Iz: return hexadecimal(size == 32 ? immediate : immediate & 0xFFFF)
        case .Iw: return hexadecimal(immediate & 0xFFFF)
        case .Jb, .Jz:
            if let address { return hexadecimal(branchTarget(instructionAddress: address)) }
            let offset = Int64(signedImmediate) + Int64(length)
            return offset < 0 ? "$-" + hexadecimal(UInt32(-offset)) : "$+" + hexadecimal(UInt32(offset))
        case .Ap: return hexadecimal(UInt32(immediate2)) + ":" + hexadecimal(immediate)
        case .Ob: return memoryText("byte")
        case .Ov: return memoryText(size == 64 ? "qword" : size == 32 ? "dword" : "word")
        case .AL: return "al"
        case .CL: return "cl"
        case .DX: return "dx"
        case .AX: return "ax"
        case .eAX: return size == 32 ? "eax" : "ax"
        case .one: return "1"
        case .Zb: return generalRegister(UInt8(opcode & 7), bits: 8)
        case .Zv: return generalRegister(UInt8(opcode & 7), bits: size)
        case .ES: return "es"
        case .CS: return "cs"
        case .SS: return "ss"
        case .DS: return "ds"
        case .FS: return "fs"
        case .GS: return "gs"
        case .Xb, .Xv, .Yb, .Yv:
            let width = kind == .Xb || kind == .Yb ? "byte" : (size == 32 ? "dword" : "word")
            let isSource = kind == .Xb || kind == .Xv
            let segment = isSource ? (segmentOverride?.name ?? "ds") : "es"
            let index = addressSize == 32 ? (isSource ? "esi" : "edi") : (isSource ? "si" : "di")
            return "\(width) ptr \(segment):[\(index)]"
        case .Pq, .Qq, .Nq:
            if (kind == .Qq) && !rmRegister { return memoryText(nil) }
            let number = kind == .Pq ? reg : rm
            return (mmxOperandsAreXMM ? "xmm" : "mm") + "\(number)"
        case .Vx: return "xmm\(reg)"
        case .Wx, .Ux: return rmRegister ? "xmm\(rm)" : memoryText(nil)
        case .ST0: return "st"
        case .STi: return "st(\(rm))"
        }
    }

    private var x87MemorySize: String? {
        guard let escape = x87Escape else { return nil }
        switch X87Opcodes.memorySizes[Int(escape) * 8 + Int(reg)] {
        case .none: return nil
        case .word: return "word"
        case .dword: return "dword"
        case .qword: return "qword"
        case .tbyte: return "tbyte"
        }
    }

    /// "[base+index*scale+disp]" with the size keyword and any segment override.
    private func memoryText(_ size: String?) -> String {
        var parts: [String] = []
        let wide = addressSize != 16
        if memory.hasBase { parts.append(generalRegister(memory.base, bits: addressSize)) }
        if memory.hasIndex {
            let index = generalRegister(memory.index, bits: addressSize)
            parts.append(memory.scaleShift == 0 ? index : "\(index)*\(memory.scale)")
        }
        var inside = parts.joined(separator: "+")
        let displacement = memory.displacement
        if parts.isEmpty {
            let absolute = UInt32(bitPattern: displacement)
            inside = hexadecimal(wide ? absolute : absolute & 0xFFFF)
        } else if displacement > 0 {
            inside += "+" + hexadecimal(UInt32(displacement))
        } else if displacement < 0 {
            inside += "-" + hexadecimal(UInt32(bitPattern: displacement).magnitudeOfNegative)
        }
        let segment = memory.segmentIsDefault ? "" : "\(memory.segment.name):"
        let sizeText = size.map { "\($0) ptr " } ?? ""
        return "\(sizeText)\(segment)[\(inside)]"
    }
}

private extension UInt32 {
    /// |x| of a negative 32-bit value read as two's complement.
    var magnitudeOfNegative: UInt32 { 0 &- self }
}

@testable import X86Frontend

/// The one place that lists where GNU objdump (2.40, which knows every later
/// extension and some other vendors') and a real i686 disagree, each with its
/// reason. `reason` returns nil when a disagreement is not explained.
enum ObjdumpDisagreements {
    static func reason(bytes: [UInt8], codeSize32: Bool, ours: DecodeResult,
                       objdump: ObjdumpOracle.Verdict) -> String? {
        let shape = Shape(bytes)
        switch ours {
        case .invalid:
            return lockMisuse(bytes, codeSize32: codeSize32) ?? laterOrForeign(shape, codeSize32: codeSize32)
        case .instruction(let instruction):
            if objdump.isBad || objdump.isPrefixesOnly {
                return acceptedByI686(shape, instruction)
            }
            // objdump folds FWAIT into the x87 instruction after it (FSTSW = FWAIT FNSTSW);
            // the CPU executes FWAIT as an instruction of its own.
            if shape.opcode == 0x9B { return "fwait folded by objdump" }
            if shape.isTwoByte && (shape.opcode == 0x1A || shape.opcode == 0x1B) {
                return "0F 1A/1B: objdump decodes MPX bnd*; a hint NOP on i686"
            }
            return nil
        case .tooLong, .truncated:
            return nil
        }
    }

    /// Where the description's mnemonic may differ from objdump's.
    static func mnemonicsMayDiffer(_ decoded: DecodedInstruction, ours: String, objdump: String) -> Bool {
        // objdump adds w/d size suffixes where Intel has none, and drops Intel's D
        // in PUSHAD/POPAD/PUSHFD/POPFD/IRETD.
        let intelD: Set<String> = ["pushad", "popad", "pushfd", "popfd", "iretd"]
        let base = intelD.contains(ours) ? String(ours.dropLast()) : ours
        if objdump == base || objdump == base + "w" || objdump == base + "d" { return true }
        // "fneni(8087 only)" and the like.
        if objdump.hasPrefix(ours + "(") { return true }
        // CMPPS/CMPSS... shown by objdump with the predicate folded in (cmpltps).
        if ours.hasPrefix("cmp") && objdump.hasPrefix("cmp") && decoded.opcode == 0x0FC2 { return true }
        switch decoded.opcode {
        case 0x90:
            return objdump == "xchg"   // 66 90: objdump shows xchg ax,ax; the CPU treats it as NOP
        case 0x0F18...0x0F1F:
            return true   // hint NOPs that later extensions (MPX, CET, CLDEMOTE) gave meanings to
        case 0x0F09, 0x0FAE, 0x0FBC, 0x0FBD:
            // WBNOINVD, TZCNT/LZCNT, UMWAIT/INCSSP/CLFLUSHOPT...: a 66/F2/F3 prefix the i686 ignores
            return decoded.prefixes.contains(.rep) || decoded.prefixes.contains(.repne)
                || decoded.prefixes.contains(.operandSize)
        default:
            return false
        }
    }

    /// LOCK before an instruction that cannot take it, or with a register
    /// destination: the CPU raises #UD, objdump prints "lock".
    private static func lockMisuse(_ bytes: [UInt8], codeSize32: Bool) -> String? {
        let shape = Shape(bytes)
        guard shape.prefixes.contains(0xF0) else { return nil }
        let withoutLock = Array(shape.prefixes.filter { $0 != 0xF0 }) + bytes[shape.prefixes.count...]
        if case .instruction = decode(withoutLock, codeSize32: codeSize32) {
            return "LOCK on a non-lockable instruction or register destination: #UD"
        }
        return nil
    }

    /// Encodings objdump decodes that an i686 rejects with #UD.
    private static func laterOrForeign(_ s: Shape, codeSize32: Bool) -> String? {
        let last = s.lastMandatoryPrefix
        if !s.isTwoByte {
            switch s.opcode {
            case 0x8C, 0x8E: return "MOV with segment register 6/7, or MOV to CS: #UD"
            case 0xC4, 0xC5, 0x62: return s.mod == 3 ? "VEX/EVEX (LES/LDS/BOUND register forms are #UD)" : nil
            case 0x8F: return s.reg != 0 ? "AMD XOP" : nil
            case 0xC6, 0xC7: return s.modrm == 0xF8 ? "TSX XABORT/XBEGIN" : nil
            case 0xDB: return s.modrm == 0xE5 ? "FRSTPM exists only on the 80287XL" : nil
            default: return nil
            }
        }
        switch s.opcode {
        case 0x01:
            if s.mod == 3 { return "0F 01 register forms other than SMSW/LMSW (VMX, SVM, MONITOR, XGETBV, RDTSCP...)" }
            return s.reg == 5 ? "0F 01 /5 with memory is CET RSTORSSP" : nil
        case 0x05, 0x07: return "SYSCALL/SYSRET are AMD K6 and later"
        case 0x0D, 0x0E, 0x0F: return "3DNow! and PREFETCHW"
        case 0x20, 0x22: return "CR1, CR5-CR7 do not exist: #UD"
        case 0x24, 0x26: return "test registers TR0-TR7 were removed after the 486"
        case 0x2B: return last == 0xF2 || last == 0xF3 ? "MOVNTSS/MOVNTSD are AMD SSE4a" : nil
        case 0x37: return "GETSEC is SMX"
        case 0x38, 0x3A: return "0F 38 and 0F 3A opcodes past SSE4.2 (MOVBE, AES, SHA, PCLMULQDQ...)"
        case 0x78, 0x79: return "VMREAD/VMWRITE (VMX), EXTRQ/INSERTQ (SSE4a)"
        case 0xF0: return "LDDQU with a register operand"
        case 0xA6, 0xA7: return "VIA PadLock"
        case 0xAE: return "XSAVE family, FSGSBASE, CET, PTWRITE, CLWB (later extensions)"
        case 0xB8: return "0F B8 without F3 is IA-64 JMPE"
        case 0xC7: return "0F C7 other than CMPXCHG8B: VMX, RDRAND, RDSEED, XSAVES..."
        case 0xD7: return last != nil && last != 0x66 ? "PMOVMSKB with F2/F3 is reserved" : nil
        default: return nil
        }
    }

    /// Encodings an i686 executes that objdump calls (bad).
    private static func acceptedByI686(_ s: Shape, _ instruction: DecodedInstruction) -> String? {
        if s.prefixes.count >= 14 { return "objdump stops after 13 prefixes; the CPU allows 14 before a one-byte opcode" }
        if !s.isTwoByte {
            switch s.opcode {
            case 0xD6: return "SALC: undocumented, present on every i686"
            case 0xD9, 0xDC, 0xDD, 0xDE, 0xDF:
                return s.mod == 3 ? "undocumented x87 register aliases (FSTP1/8/9, FCOM2, FCOMP3/5, FXCH4/7)" : nil
            default: return nil
            }
        }
        switch s.opcode {
        case 0x09: return "WBINVD with 66/F2: objdump reserves the prefix, the i686 ignores it"
        case 0x1A, 0x1B: return "0F 1A/1B: objdump decodes MPX bnd*; a hint NOP on i686"
        case 0xAE: return "LFENCE/MFENCE/SFENCE ignore r/m and the prefixes; objdump wants r/m = 0"
        case 0xBC, 0xBD: return "BSF/BSR with F2: the i686 ignores F2, objdump reserves it"
        default: return nil
        }
    }
}

/// The parts of a test case the exceptions look at.
struct Shape {
    static let prefixBytes: Set<UInt8> = [0x66, 0x67, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0xF0, 0xF2, 0xF3]
    var prefixes: [UInt8] = []
    var isTwoByte = false
    var opcode: UInt8 = 0
    var modrm: UInt8 = 0

    var mod: UInt8 { modrm >> 6 }
    var reg: UInt8 { (modrm >> 3) & 7 }
    var lastMandatoryPrefix: UInt8? {
        prefixes.last { $0 == 0xF2 || $0 == 0xF3 } ?? (prefixes.contains(0x66) ? 0x66 : nil)
    }

    init(_ bytes: [UInt8]) {
        var i = 0
        while i < bytes.count && Self.prefixBytes.contains(bytes[i]) { prefixes.append(bytes[i]); i += 1 }
        guard i < bytes.count else { return }
        if bytes[i] == 0x0F && i + 1 < bytes.count { isTwoByte = true; i += 1 }
        opcode = bytes[i]
        if i + 1 < bytes.count { modrm = bytes[i + 1] }
    }
}

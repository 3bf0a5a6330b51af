/// The one-byte opcode map (Intel SDM Vol. 2, Table A-2). Prefix bytes and 0F
/// are handled by the decoder before the table is read and are invalid here.
enum OneByteOpcodeTable {
    static let entries: [OpcodeEntry] = build()

    private static func build() -> [OpcodeEntry] {
        var t = [OpcodeEntry](repeating: .invalid, count: 256)
        let lock: OpcodeFlags = .lockable

        // The eight classic ALU rows: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz.
        let alu: [StaticString] = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"]
        for (row, name) in alu.enumerated() {
            let b = row * 8
            let l: OpcodeFlags = row == 7 ? [] : lock   // CMP writes nothing
            t[b + 0] = OpcodeEntry(name, .Eb, .Gb, flags: l)
            t[b + 1] = OpcodeEntry(name, .Ev, .Gv, flags: l)
            t[b + 2] = OpcodeEntry(name, .Gb, .Eb)
            t[b + 3] = OpcodeEntry(name, .Gv, .Ev)
            t[b + 4] = OpcodeEntry(name, .AL, .Ib)
            t[b + 5] = OpcodeEntry(name, .eAX, .Iz)
        }
        t[0x06] = OpcodeEntry("push", .ES); t[0x07] = OpcodeEntry("pop", .ES)
        t[0x0E] = OpcodeEntry("push", .CS)
        t[0x16] = OpcodeEntry("push", .SS); t[0x17] = OpcodeEntry("pop", .SS)
        t[0x1E] = OpcodeEntry("push", .DS); t[0x1F] = OpcodeEntry("pop", .DS)
        t[0x27] = OpcodeEntry("daa"); t[0x2F] = OpcodeEntry("das")
        t[0x37] = OpcodeEntry("aaa"); t[0x3F] = OpcodeEntry("aas")

        for r in 0..<8 {
            t[0x40 + r] = OpcodeEntry("inc", .Zv)
            t[0x48 + r] = OpcodeEntry("dec", .Zv)
            t[0x50 + r] = OpcodeEntry("push", .Zv)
            t[0x58 + r] = OpcodeEntry("pop", .Zv)
            t[0x91 + r] = OpcodeEntry("xchg", .Zv, .eAX)   // 0x98 is overwritten below
            t[0xB0 + r] = OpcodeEntry("mov", .Zb, .Ib)
            t[0xB8 + r] = OpcodeEntry("mov", .Zv, .Iz)
        }
        t[0x60] = OpcodeEntry("pusha"); t[0x61] = OpcodeEntry("popa")
        t[0x62] = OpcodeEntry("bound", .Gv, .Ma)
        t[0x63] = OpcodeEntry("arpl", .Ew, .Gw, flags: .protectedModeOnly)
        t[0x68] = OpcodeEntry("push", .Iz)
        t[0x69] = OpcodeEntry("imul", .Gv, .Ev, .Iz)
        t[0x6A] = OpcodeEntry("push", .IbS)
        t[0x6B] = OpcodeEntry("imul", .Gv, .Ev, .IbS)
        t[0x6C] = OpcodeEntry("insb", .Yb, .DX, flags: .string)
        t[0x6D] = OpcodeEntry("ins", .Yv, .DX, flags: .string)
        t[0x6E] = OpcodeEntry("outsb", .DX, .Xb, flags: .string)
        t[0x6F] = OpcodeEntry("outs", .DX, .Xv, flags: .string)

        let jcc: [StaticString] = ["jo", "jno", "jb", "jae", "je", "jne", "jbe", "ja",
                                   "js", "jns", "jp", "jnp", "jl", "jge", "jle", "jg"]
        for (cc, name) in jcc.enumerated() { t[0x70 + cc] = OpcodeEntry(name, .Jb) }

        t[0x80] = .group(.immediateByte, .Eb)
        t[0x81] = .group(.immediateSized, .Ev)
        t[0x82] = .group(.immediateByte, .Eb)   // alias of 80, valid outside 64-bit mode
        t[0x83] = .group(.immediateSignExtended, .Ev)
        t[0x84] = OpcodeEntry("test", .Eb, .Gb)
        t[0x85] = OpcodeEntry("test", .Ev, .Gv)
        t[0x86] = OpcodeEntry("xchg", .Eb, .Gb, flags: lock)
        t[0x87] = OpcodeEntry("xchg", .Ev, .Gv, flags: lock)
        t[0x88] = OpcodeEntry("mov", .Eb, .Gb)
        t[0x89] = OpcodeEntry("mov", .Ev, .Gv)
        t[0x8A] = OpcodeEntry("mov", .Gb, .Eb)
        t[0x8B] = OpcodeEntry("mov", .Gv, .Ev)
        t[0x8C] = OpcodeEntry("mov", .Ev, .Sw)
        t[0x8D] = OpcodeEntry("lea", .Gv, .M)
        t[0x8E] = OpcodeEntry("mov", .Sw, .Ew)
        t[0x8F] = .group(.pop, .Ev)

        t[0x90] = OpcodeEntry("nop")
        t[0x98] = OpcodeEntry("cbw"); t[0x99] = OpcodeEntry("cwd")
        t[0x9A] = OpcodeEntry("call", .Ap)
        t[0x9B] = OpcodeEntry("fwait", isa: .x87)
        t[0x9C] = OpcodeEntry("pushf"); t[0x9D] = OpcodeEntry("popf")
        t[0x9E] = OpcodeEntry("sahf"); t[0x9F] = OpcodeEntry("lahf")

        t[0xA0] = OpcodeEntry("mov", .AL, .Ob)
        t[0xA1] = OpcodeEntry("mov", .eAX, .Ov)
        t[0xA2] = OpcodeEntry("mov", .Ob, .AL)
        t[0xA3] = OpcodeEntry("mov", .Ov, .eAX)
        t[0xA4] = OpcodeEntry("movsb", .Yb, .Xb, flags: .string)
        t[0xA5] = OpcodeEntry("movs", .Yv, .Xv, flags: .string)
        t[0xA6] = OpcodeEntry("cmpsb", .Xb, .Yb, flags: .string)
        t[0xA7] = OpcodeEntry("cmps", .Xv, .Yv, flags: .string)
        t[0xA8] = OpcodeEntry("test", .AL, .Ib)
        t[0xA9] = OpcodeEntry("test", .eAX, .Iz)
        t[0xAA] = OpcodeEntry("stosb", .Yb, .AL, flags: .string)
        t[0xAB] = OpcodeEntry("stos", .Yv, .eAX, flags: .string)
        t[0xAC] = OpcodeEntry("lodsb", .AL, .Xb, flags: .string)
        t[0xAD] = OpcodeEntry("lods", .eAX, .Xv, flags: .string)
        t[0xAE] = OpcodeEntry("scasb", .AL, .Yb, flags: .string)
        t[0xAF] = OpcodeEntry("scas", .eAX, .Yv, flags: .string)

        t[0xC0] = .group(.shiftImmediateByte, .Eb)
        t[0xC1] = .group(.shiftImmediate, .Ev)
        t[0xC2] = OpcodeEntry("ret", .Iw)
        t[0xC3] = OpcodeEntry("ret")
        t[0xC4] = OpcodeEntry("les", .Gv, .Mp)
        t[0xC5] = OpcodeEntry("lds", .Gv, .Mp)
        t[0xC6] = .group(.moveImmediateByte, .Eb)
        t[0xC7] = .group(.moveImmediate, .Ev)
        t[0xC8] = OpcodeEntry("enter", .Iw, .Ib)
        t[0xC9] = OpcodeEntry("leave")
        t[0xCA] = OpcodeEntry("retf", .Iw)
        t[0xCB] = OpcodeEntry("retf")
        t[0xCC] = OpcodeEntry("int3")
        t[0xCD] = OpcodeEntry("int", .Ib)
        t[0xCE] = OpcodeEntry("into")
        t[0xCF] = OpcodeEntry("iret")

        t[0xD0] = .group(.shiftOneByte, .Eb)
        t[0xD1] = .group(.shiftOne, .Ev)
        t[0xD2] = .group(.shiftCLByte, .Eb)
        t[0xD3] = .group(.shiftCL, .Ev)
        t[0xD4] = OpcodeEntry("aam", .Ib)
        t[0xD5] = OpcodeEntry("aad", .Ib)
        t[0xD6] = OpcodeEntry("salc").with(.byteForm)   // undocumented but present on every i686
        t[0xD7] = OpcodeEntry("xlat").with(.byteForm)
        for escape in 0xD8...0xDF {
            var entry = OpcodeEntry("(x87)", .Ev, isa: .x87, flags: .x87)
            entry.flags.remove(.byteForm)
            t[escape] = entry
        }

        t[0xE0] = OpcodeEntry("loopne", .Jb)
        t[0xE1] = OpcodeEntry("loope", .Jb)
        t[0xE2] = OpcodeEntry("loop", .Jb)
        t[0xE3] = OpcodeEntry("jcxz", .Jb)
        t[0xE4] = OpcodeEntry("in", .AL, .Ib)
        t[0xE5] = OpcodeEntry("in", .eAX, .Ib)
        t[0xE6] = OpcodeEntry("out", .Ib, .AL)
        t[0xE7] = OpcodeEntry("out", .Ib, .eAX)
        t[0xE8] = OpcodeEntry("call", .Jz)
        t[0xE9] = OpcodeEntry("jmp", .Jz)
        t[0xEA] = OpcodeEntry("jmp", .Ap)
        t[0xEB] = OpcodeEntry("jmp", .Jb)
        t[0xEC] = OpcodeEntry("in", .AL, .DX)
        t[0xED] = OpcodeEntry("in", .eAX, .DX)
        t[0xEE] = OpcodeEntry("out", .DX, .AL)
        t[0xEF] = OpcodeEntry("out", .DX, .eAX)

        t[0xF1] = OpcodeEntry("int1")   // ICEBP
        t[0xF4] = OpcodeEntry("hlt")
        t[0xF5] = OpcodeEntry("cmc")
        t[0xF6] = .group(.unaryByte, .Eb)
        t[0xF7] = .group(.unary, .Ev)
        t[0xF8] = OpcodeEntry("clc"); t[0xF9] = OpcodeEntry("stc")
        t[0xFA] = OpcodeEntry("cli"); t[0xFB] = OpcodeEntry("sti")
        t[0xFC] = OpcodeEntry("cld"); t[0xFD] = OpcodeEntry("std")
        t[0xFE] = .group(.incDecByte, .Eb)
        t[0xFF] = .group(.indirect, .Ev)
        return t
    }
}

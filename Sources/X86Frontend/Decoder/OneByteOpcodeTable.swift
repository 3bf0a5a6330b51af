/// The one-byte opcode map (Intel SDM Vol. 2, Table A-2). Prefix bytes and 0F
/// are handled by the decoder before the table is read and are invalid here.
enum OneByteOpcodeTable {
    static let entries: [OpcodeEntry] = build()

    private static func build() -> [OpcodeEntry] {
        var t = [OpcodeEntry](repeating: .invalid, count: 256)
        let lock: OpcodeFlags = .lockable

        // The eight classic ALU rows: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz.
        for operation in ALUOperation.allCases {
            let b = Int(operation.rawValue) * 8
            let name = operation.mnemonic
            let l: OpcodeFlags = operation == .cmp ? [] : lock   // CMP writes nothing
            t[b + 0] = OpcodeEntry(.alu(operation), name, .Eb, .Gb, flags: l)
            t[b + 1] = OpcodeEntry(.alu(operation), name, .Ev, .Gv, flags: l)
            t[b + 2] = OpcodeEntry(.alu(operation), name, .Gb, .Eb)
            t[b + 3] = OpcodeEntry(.alu(operation), name, .Gv, .Ev)
            t[b + 4] = OpcodeEntry(.alu(operation), name, .AL, .Ib)
            t[b + 5] = OpcodeEntry(.alu(operation), name, .eAX, .Iz)
        }
        t[0x06] = OpcodeEntry(.push, "push", .ES); t[0x07] = OpcodeEntry(.popSegment, "pop", .ES)
        t[0x0E] = OpcodeEntry(.push, "push", .CS)
        t[0x16] = OpcodeEntry(.push, "push", .SS); t[0x17] = OpcodeEntry(.popSegment, "pop", .SS)
        t[0x1E] = OpcodeEntry(.push, "push", .DS); t[0x1F] = OpcodeEntry(.popSegment, "pop", .DS)
        t[0x27] = OpcodeEntry(.decimalAdjust, "daa"); t[0x2F] = OpcodeEntry(.decimalAdjust, "das")
        t[0x37] = OpcodeEntry(.decimalAdjust, "aaa"); t[0x3F] = OpcodeEntry(.decimalAdjust, "aas")

        for r in 0..<8 {
            t[0x40 + r] = OpcodeEntry(.increment, "inc", .Zv)
            t[0x48 + r] = OpcodeEntry(.decrement, "dec", .Zv)
            t[0x50 + r] = OpcodeEntry(.push, "push", .Zv)
            t[0x58 + r] = OpcodeEntry(.pop, "pop", .Zv)
            t[0x91 + r] = OpcodeEntry(.exchange, "xchg", .Zv, .eAX)   // 0x98 is overwritten below
            t[0xB0 + r] = OpcodeEntry(.move, "mov", .Zb, .Ib)
            t[0xB8 + r] = OpcodeEntry(.move, "mov", .Zv, .Iz)
        }
        t[0x60] = OpcodeEntry(.pushAll, "pusha"); t[0x61] = OpcodeEntry(.popAll, "popa")
        t[0x62] = OpcodeEntry(.checkBounds, "bound", .Gv, .Ma)
        t[0x63] = OpcodeEntry(.adjustRPL, "arpl", .Ew, .Gw, flags: .protectedModeOnly)
        t[0x68] = OpcodeEntry(.push, "push", .Iz)
        t[0x69] = OpcodeEntry(.multiplySigned, "imul", .Gv, .Ev, .Iz)
        t[0x6A] = OpcodeEntry(.push, "push", .IbS)
        t[0x6B] = OpcodeEntry(.multiplySigned, "imul", .Gv, .Ev, .IbS)
        t[0x6C] = OpcodeEntry(.inputString, "insb", .Yb, .DX, flags: .string)
        t[0x6D] = OpcodeEntry(.inputString, "ins", .Yv, .DX, flags: .string)
        t[0x6E] = OpcodeEntry(.outputString, "outsb", .DX, .Xb, flags: .string)
        t[0x6F] = OpcodeEntry(.outputString, "outs", .DX, .Xv, flags: .string)

        let jcc: [StaticString] = ["jo", "jno", "jb", "jae", "je", "jne", "jbe", "ja",
                                   "js", "jns", "jp", "jnp", "jl", "jge", "jle", "jg"]
        for (cc, name) in jcc.enumerated() { t[0x70 + cc] = OpcodeEntry(.jumpConditional(UInt8(cc)), name, .Jb) }

        t[0x80] = .group(.immediateByte, .Eb)
        t[0x81] = .group(.immediateSized, .Ev)
        t[0x82] = .group(.immediateByte, .Eb)   // alias of 80, valid outside 64-bit mode
        t[0x83] = .group(.immediateSignExtended, .Ev)
        t[0x84] = OpcodeEntry(.test, "test", .Eb, .Gb)
        t[0x85] = OpcodeEntry(.test, "test", .Ev, .Gv)
        t[0x86] = OpcodeEntry(.exchange, "xchg", .Eb, .Gb, flags: lock)
        t[0x87] = OpcodeEntry(.exchange, "xchg", .Ev, .Gv, flags: lock)
        t[0x88] = OpcodeEntry(.move, "mov", .Eb, .Gb)
        t[0x89] = OpcodeEntry(.move, "mov", .Ev, .Gv)
        t[0x8A] = OpcodeEntry(.move, "mov", .Gb, .Eb)
        t[0x8B] = OpcodeEntry(.move, "mov", .Gv, .Ev)
        t[0x8C] = OpcodeEntry(.moveFromSegment, "mov", .Ev, .Sw)
        t[0x8D] = OpcodeEntry(.loadEffectiveAddress, "lea", .Gv, .M)
        t[0x8E] = OpcodeEntry(.move, "mov", .Sw, .Ew)
        t[0x8F] = .group(.pop, .Ev)

        t[0x90] = OpcodeEntry(.nop, "nop")
        t[0x98] = OpcodeEntry(.signExtendAccumulator, "cbw"); t[0x99] = OpcodeEntry(.signExtendIntoDX, "cwd")
        t[0x9A] = OpcodeEntry(.callFar, "call", .Ap)
        t[0x9B] = OpcodeEntry(.wait, "fwait", isa: .x87)
        t[0x9C] = OpcodeEntry(.pushFlags, "pushf"); t[0x9D] = OpcodeEntry(.popFlags, "popf")
        t[0x9E] = OpcodeEntry(.loadFlagsFromAH, "sahf"); t[0x9F] = OpcodeEntry(.storeFlagsIntoAH, "lahf")

        t[0xA0] = OpcodeEntry(.move, "mov", .AL, .Ob)
        t[0xA1] = OpcodeEntry(.move, "mov", .eAX, .Ov)
        t[0xA2] = OpcodeEntry(.move, "mov", .Ob, .AL)
        t[0xA3] = OpcodeEntry(.move, "mov", .Ov, .eAX)
        t[0xA4] = OpcodeEntry(.moveString, "movsb", .Yb, .Xb, flags: .string)
        t[0xA5] = OpcodeEntry(.moveString, "movs", .Yv, .Xv, flags: .string)
        t[0xA6] = OpcodeEntry(.compareString, "cmpsb", .Xb, .Yb, flags: .string)
        t[0xA7] = OpcodeEntry(.compareString, "cmps", .Xv, .Yv, flags: .string)
        t[0xA8] = OpcodeEntry(.test, "test", .AL, .Ib)
        t[0xA9] = OpcodeEntry(.test, "test", .eAX, .Iz)
        t[0xAA] = OpcodeEntry(.storeString, "stosb", .Yb, .AL, flags: .string)
        t[0xAB] = OpcodeEntry(.storeString, "stos", .Yv, .eAX, flags: .string)
        t[0xAC] = OpcodeEntry(.loadString, "lodsb", .AL, .Xb, flags: .string)
        t[0xAD] = OpcodeEntry(.loadString, "lods", .eAX, .Xv, flags: .string)
        t[0xAE] = OpcodeEntry(.scanString, "scasb", .AL, .Yb, flags: .string)
        t[0xAF] = OpcodeEntry(.scanString, "scas", .eAX, .Yv, flags: .string)

        t[0xC0] = .group(.shiftImmediateByte, .Eb)
        t[0xC1] = .group(.shiftImmediate, .Ev)
        t[0xC2] = OpcodeEntry(.returnNear, "ret", .Iw)
        t[0xC3] = OpcodeEntry(.returnNear, "ret")
        t[0xC4] = OpcodeEntry(.loadFarPointer(.es), "les", .Gv, .Mp)
        t[0xC5] = OpcodeEntry(.loadFarPointer(.ds), "lds", .Gv, .Mp)
        t[0xC6] = .group(.moveImmediateByte, .Eb)
        t[0xC7] = .group(.moveImmediate, .Ev)
        t[0xC8] = OpcodeEntry(.enter, "enter", .Iw, .Ib)
        t[0xC9] = OpcodeEntry(.leave, "leave")
        t[0xCA] = OpcodeEntry(.returnFar, "retf", .Iw)
        t[0xCB] = OpcodeEntry(.returnFar, "retf")
        t[0xCC] = OpcodeEntry(.breakpoint, "int3")
        t[0xCD] = OpcodeEntry(.interrupt, "int", .Ib)
        t[0xCE] = OpcodeEntry(.interruptOnOverflow, "into")
        t[0xCF] = OpcodeEntry(.interruptReturn, "iret")

        t[0xD0] = .group(.shiftOneByte, .Eb)
        t[0xD1] = .group(.shiftOne, .Ev)
        t[0xD2] = .group(.shiftCLByte, .Eb)
        t[0xD3] = .group(.shiftCL, .Ev)
        t[0xD4] = OpcodeEntry(.decimalAdjust, "aam", .Ib)
        t[0xD5] = OpcodeEntry(.decimalAdjust, "aad", .Ib)
        t[0xD6] = OpcodeEntry(.setALFromCarry, "salc").with(.byteForm)   // undocumented but present on every i686
        t[0xD7] = OpcodeEntry(.translateByte, "xlat").with(.byteForm)
        for escape in 0xD8...0xDF {
            var entry = OpcodeEntry(.x87, "(x87)", .Ev, isa: .x87, flags: .x87)
            entry.flags.remove(.byteForm)
            t[escape] = entry
        }

        t[0xE0] = OpcodeEntry(.loop(0), "loopne", .Jb)
        t[0xE1] = OpcodeEntry(.loop(1), "loope", .Jb)
        t[0xE2] = OpcodeEntry(.loop(2), "loop", .Jb)
        t[0xE3] = OpcodeEntry(.jumpIfCounterZero, "jcxz", .Jb)
        t[0xE4] = OpcodeEntry(.input, "in", .AL, .Ib)
        t[0xE5] = OpcodeEntry(.input, "in", .eAX, .Ib)
        t[0xE6] = OpcodeEntry(.output, "out", .Ib, .AL)
        t[0xE7] = OpcodeEntry(.output, "out", .Ib, .eAX)
        t[0xE8] = OpcodeEntry(.callRelative, "call", .Jz)
        t[0xE9] = OpcodeEntry(.jumpRelative, "jmp", .Jz)
        t[0xEA] = OpcodeEntry(.jumpFar, "jmp", .Ap)
        t[0xEB] = OpcodeEntry(.jumpRelative, "jmp", .Jb)
        t[0xEC] = OpcodeEntry(.input, "in", .AL, .DX)
        t[0xED] = OpcodeEntry(.input, "in", .eAX, .DX)
        t[0xEE] = OpcodeEntry(.output, "out", .DX, .AL)
        t[0xEF] = OpcodeEntry(.output, "out", .DX, .eAX)

        t[0xF1] = OpcodeEntry(.debugTrap, "int1")   // ICEBP
        t[0xF4] = OpcodeEntry(.halt, "hlt")
        t[0xF5] = OpcodeEntry(.carryFlag(2), "cmc")
        t[0xF6] = .group(.unaryByte, .Eb)
        t[0xF7] = .group(.unary, .Ev)
        t[0xF8] = OpcodeEntry(.carryFlag(0), "clc"); t[0xF9] = OpcodeEntry(.carryFlag(1), "stc")
        t[0xFA] = OpcodeEntry(.clearInterrupts, "cli"); t[0xFB] = OpcodeEntry(.setInterrupts, "sti")
        t[0xFC] = OpcodeEntry(.clearDirection, "cld"); t[0xFD] = OpcodeEntry(.setDirection, "std")
        t[0xFE] = .group(.incDecByte, .Eb)
        t[0xFF] = .group(.indirect, .Ev)
        return t
    }
}

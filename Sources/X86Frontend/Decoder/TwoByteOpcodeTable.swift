/// The two-byte opcode map, 0F xx (SDM Vol. 2, Table A-3), as implemented by
/// i686 plus the MMX, SSE, SSE2, SSE3 and POPCNT encodings (variants without
/// a translation raise #UD as on a CPU without them). 0F 38 and 0F 3A lead to
/// `ThreeByteOpcodeTables`; later extensions (VMX, SYSCALL...) are invalid.
enum TwoByteOpcodeTable {
    static let entries: [OpcodeEntry] = build()

    private static func build() -> [OpcodeEntry] {
        var t = [OpcodeEntry](repeating: .invalid, count: 256)
        let pm: OpcodeFlags = .protectedModeOnly
        let lock: OpcodeFlags = .lockable

        t[0x00] = .group(.system6, .Ew)
        t[0x01] = .group(.system7, .Ew)
        t[0x02] = OpcodeEntry(.loadSegmentInformation(.loadAccessRights), "lar", .Gv, .Ew, flags: pm)
        t[0x03] = OpcodeEntry(.loadSegmentInformation(.loadSegmentLimit), "lsl", .Gv, .Ew, flags: pm)
        t[0x05] = OpcodeEntry(.fastSystemCall, "syscall")
        t[0x06] = OpcodeEntry(.clearTaskSwitched, "clts")
        t[0x07] = OpcodeEntry(.fastSystemReturn, "sysret")
        t[0x08] = OpcodeEntry(.invalidateCaches, "invd")
        t[0x09] = OpcodeEntry(.invalidateCaches, "wbinvd")
        t[0x0B] = OpcodeEntry(.invalidOpcode, "ud2", isa: .undefinedOpcode)
        t[0x0D] = .group(.prefetch, .M)
        t[0x18] = .group(.hintNop, .Ev)
        for op in 0x19...0x1F { t[op] = OpcodeEntry(.nop, "nop", .Ev) }
        t[0x20] = OpcodeEntry(.moveFromControlRegister, "mov", .Rd, .Cd)
        t[0x21] = OpcodeEntry(.moveFromDebugRegister, "mov", .Rd, .Dd)
        t[0x22] = OpcodeEntry(.moveToControlRegister, "mov", .Cd, .Rd)
        t[0x23] = OpcodeEntry(.moveToDebugRegister, "mov", .Dd, .Rd)
        t[0x30] = OpcodeEntry(.writeMSR, "wrmsr")
        t[0x31] = OpcodeEntry(.readTimeStampCounter, "rdtsc")
        t[0x32] = OpcodeEntry(.readMSR, "rdmsr")
        t[0x33] = OpcodeEntry(.invalidOpcode, "rdpmc")
        t[0x34] = OpcodeEntry(.systemEnter, "sysenter")
        t[0x35] = OpcodeEntry(.systemExit, "sysexit")

        let cc: [StaticString] = ["o", "no", "b", "ae", "e", "ne", "be", "a",
                                  "s", "ns", "p", "np", "l", "ge", "le", "g"]
        let cmov: [StaticString] = ["cmovo", "cmovno", "cmovb", "cmovae", "cmove", "cmovne", "cmovbe", "cmova",
                                    "cmovs", "cmovns", "cmovp", "cmovnp", "cmovl", "cmovge", "cmovle", "cmovg"]
        let jcc: [StaticString] = ["jo", "jno", "jb", "jae", "je", "jne", "jbe", "ja",
                                   "js", "jns", "jp", "jnp", "jl", "jge", "jle", "jg"]
        let setcc: [StaticString] = ["seto", "setno", "setb", "setae", "sete", "setne", "setbe", "seta",
                                     "sets", "setns", "setp", "setnp", "setl", "setge", "setle", "setg"]
        for i in 0..<cc.count {
            let condition = UInt8(i)
            t[0x40 + i] = OpcodeEntry(.conditionalMove(condition), cmov[i], .Gv, .Ev)
            t[0x80 + i] = OpcodeEntry(.jumpConditional(condition), jcc[i], .Jz)
            t[0x90 + i] = OpcodeEntry(.setOnCondition(condition), setcc[i], .Eb)
        }

        t[0xA0] = OpcodeEntry(.push, "push", .FS); t[0xA1] = OpcodeEntry(.popSegment, "pop", .FS)
        t[0xA2] = OpcodeEntry(.cpuid, "cpuid")
        t[0xA3] = OpcodeEntry(.bitTest(0), "bt", .Ev, .Gv)
        t[0xA4] = OpcodeEntry(.doubleShift(left: true), "shld", .Ev, .Gv, .Ib)
        t[0xA5] = OpcodeEntry(.doubleShift(left: true), "shld", .Ev, .Gv, .CL)
        t[0xA8] = OpcodeEntry(.push, "push", .GS); t[0xA9] = OpcodeEntry(.popSegment, "pop", .GS)
        t[0xAA] = OpcodeEntry(.invalidOpcode, "rsm")
        t[0xAB] = OpcodeEntry(.bitTest(1), "bts", .Ev, .Gv, flags: lock)
        t[0xAC] = OpcodeEntry(.doubleShift(left: false), "shrd", .Ev, .Gv, .Ib)
        t[0xAD] = OpcodeEntry(.doubleShift(left: false), "shrd", .Ev, .Gv, .CL)
        t[0xAE] = .group(.stateAndFences, .Ev)
        t[0xAF] = OpcodeEntry(.multiplySigned, "imul", .Gv, .Ev)
        t[0xB0] = OpcodeEntry(.compareExchange, "cmpxchg", .Eb, .Gb, flags: lock)
        t[0xB1] = OpcodeEntry(.compareExchange, "cmpxchg", .Ev, .Gv, flags: lock)
        t[0xB2] = OpcodeEntry(.loadFarPointer(.ss), "lss", .Gv, .Mp)
        t[0xB3] = OpcodeEntry(.bitTest(2), "btr", .Ev, .Gv, flags: lock)
        t[0xB4] = OpcodeEntry(.loadFarPointer(.fs), "lfs", .Gv, .Mp)
        t[0xB5] = OpcodeEntry(.loadFarPointer(.gs), "lgs", .Gv, .Mp)
        t[0xB6] = OpcodeEntry(.moveZeroExtend, "movzx", .Gv, .Eb)
        t[0xB7] = OpcodeEntry(.moveZeroExtend, "movzx", .Gv, .Ew)
        t[0xB9] = OpcodeEntry(.invalidOpcode, "ud1", .Gv, .Ev, isa: .undefinedOpcode)
        t[0xBA] = .group(.bitTestImmediate, .Ev)
        t[0xBB] = OpcodeEntry(.bitTest(3), "btc", .Ev, .Gv, flags: lock)
        t[0xBC] = OpcodeEntry(.bitScan(forward: true), "bsf", .Gv, .Ev)
        t[0xBD] = OpcodeEntry(.bitScan(forward: false), "bsr", .Gv, .Ev)
        t[0xBE] = OpcodeEntry(.moveSignExtend, "movsx", .Gv, .Eb)
        t[0xBF] = OpcodeEntry(.moveSignExtend, "movsx", .Gv, .Ew)
        t[0xC0] = OpcodeEntry(.exchangeAndAdd, "xadd", .Eb, .Gb, flags: lock)
        t[0xC1] = OpcodeEntry(.exchangeAndAdd, "xadd", .Ev, .Gv, flags: lock)
        t[0xC7] = .group(.compareExchange8, .Ev)
        for r in 0..<8 { t[0xC8 + r] = OpcodeEntry(.byteSwap, "bswap", .Zv) }
        t[0xFF] = OpcodeEntry(.invalidOpcode, "ud0", .Gv, .Ev, isa: .undefinedOpcode)

        addSIMD(&t)
        SSETable.assign(&t)
        MMXTable.assign(&t)
        return t
    }

    /// MMX, SSE and SSE2. Mnemonics are those of the no-prefix variant (or the
    /// first variant that exists); `simdVariants` says which prefixes are allowed.
    private static func addSIMD(_ t: inout [OpcodeEntry]) {
        let n = SIMDVariants.none, p66 = SIMDVariants.p66, f3 = SIMDVariants.pF3, f2 = SIMDVariants.pF2
        let all = SIMDVariants.all, n66 = n | p66
        func sse(_ op: Int, _ name: StaticString, _ a: OperandKind, _ b: OperandKind, _ v: UInt8,
                 _ c: OperandKind = .none, isa: InstructionSet = .sse) {
            t[op] = .simd(name, a, b, c, isa: isa, variants: v)
        }
        sse(0x10, "movups", .Vx, .Wx, all)
        sse(0x11, "movups", .Wx, .Vx, all)
        sse(0x12, "movlps", .Vx, .Wx, all)      // movhlps with a register; 66: movlpd, memory only; F3 movsldup, F2 movddup
        sse(0x13, "movlps", .M, .Vx, n66)
        sse(0x14, "unpcklps", .Vx, .Wx, n66)
        sse(0x15, "unpckhps", .Vx, .Wx, n66)
        sse(0x16, "movhps", .Vx, .Wx, n66 | f3) // movlhps with a register; 66: movhpd, memory only; F3 movshdup
        sse(0x17, "movhps", .M, .Vx, n66)
        sse(0x28, "movaps", .Vx, .Wx, n66)
        sse(0x29, "movaps", .Wx, .Vx, n66)
        sse(0x2A, "cvtpi2ps", .Vx, .Qq, all)
        sse(0x2B, "movntps", .M, .Vx, n66)
        sse(0x2C, "cvttps2pi", .Pq, .Wx, all)
        sse(0x2D, "cvtps2pi", .Pq, .Wx, all)
        sse(0x2E, "ucomiss", .Vx, .Wx, n66)
        sse(0x2F, "comiss", .Vx, .Wx, n66)
        sse(0x50, "movmskps", .Gd, .Ux, n66)
        sse(0x51, "sqrtps", .Vx, .Wx, all)
        sse(0x52, "rsqrtps", .Vx, .Wx, n | f3)
        sse(0x53, "rcpps", .Vx, .Wx, n | f3)
        sse(0x54, "andps", .Vx, .Wx, n66)
        sse(0x55, "andnps", .Vx, .Wx, n66)
        sse(0x56, "orps", .Vx, .Wx, n66)
        sse(0x57, "xorps", .Vx, .Wx, n66)
        sse(0x58, "addps", .Vx, .Wx, all)
        sse(0x59, "mulps", .Vx, .Wx, all)
        sse(0x5A, "cvtps2pd", .Vx, .Wx, all, isa: .sse2)
        sse(0x5B, "cvtdq2ps", .Vx, .Wx, n | p66 | f3, isa: .sse2)
        sse(0x5C, "subps", .Vx, .Wx, all)
        sse(0x5D, "minps", .Vx, .Wx, all)
        sse(0x5E, "divps", .Vx, .Wx, all)
        sse(0x5F, "maxps", .Vx, .Wx, all)

        let mmxRow: [StaticString] = [
            "punpcklbw", "punpcklwd", "punpckldq", "packsswb", "pcmpgtb", "pcmpgtw", "pcmpgtd", "packuswb",
            "punpckhbw", "punpckhwd", "punpckhdq", "packssdw"]
        for (i, name) in mmxRow.enumerated() { sse(0x60 + i, name, .Pq, .Qq, n66, isa: .mmx) }
        sse(0x6C, "punpcklqdq", .Vx, .Wx, p66, isa: .sse2)
        sse(0x6D, "punpckhqdq", .Vx, .Wx, p66, isa: .sse2)
        sse(0x6E, "movd", .Pq, .Ed, n66, isa: .mmx)
        sse(0x6F, "movq", .Pq, .Qq, n | p66 | f3, isa: .mmx)
        sse(0x70, "pshufw", .Pq, .Qq, all, .Ib)
        t[0x71] = .group(.shiftWords, .Ev)
        t[0x72] = .group(.shiftDwords, .Ev)
        t[0x73] = .group(.shiftQwords, .Ev)
        sse(0x74, "pcmpeqb", .Pq, .Qq, n66, isa: .mmx)
        sse(0x75, "pcmpeqw", .Pq, .Qq, n66, isa: .mmx)
        sse(0x76, "pcmpeqd", .Pq, .Qq, n66, isa: .mmx)
        var emms = OpcodeEntry(.invalidOpcode, "emms", isa: .mmx, flags: .simd)
        emms.simdVariants = n
        t[0x77] = emms
        sse(0x7C, "haddpd", .Vx, .Wx, p66 | f2, isa: .sse3)   // F2: haddps
        sse(0x7D, "hsubpd", .Vx, .Wx, p66 | f2, isa: .sse3)   // F2: hsubps
        sse(0x7E, "movd", .Ed, .Pq, n | p66 | f3, isa: .mmx)   // F3: movq xmm, xmm/m64
        sse(0x7F, "movq", .Qq, .Pq, n | p66 | f3, isa: .mmx)

        sse(0xB8, "popcnt", .Gv, .Ev, f3, isa: .popcnt)
        sse(0xC2, "cmpps", .Vx, .Wx, all, .Ib)
        sse(0xC3, "movnti", .M, .Gd, n, isa: .sse2)
        sse(0xC4, "pinsrw", .Pq, .Ed, n66, .Ib)
        sse(0xC5, "pextrw", .Gd, .Nq, n66, .Ib)
        sse(0xC6, "shufps", .Vx, .Wx, n66, .Ib)

        // D0-FF: MMX with no prefix, SSE2 with 66. Entries that are SSE (the
        // integer additions of Pentium III) or SSE2 even without a prefix say so.
        let row: [(Int, StaticString, InstructionSet)] = [
            (0xD1, "psrlw", .mmx), (0xD2, "psrld", .mmx), (0xD3, "psrlq", .mmx), (0xD4, "paddq", .sse2),
            (0xD5, "pmullw", .mmx), (0xD8, "psubusb", .mmx), (0xD9, "psubusw", .mmx),
            (0xDA, "pminub", .sse), (0xDB, "pand", .mmx), (0xDC, "paddusb", .mmx), (0xDD, "paddusw", .mmx),
            (0xDE, "pmaxub", .sse), (0xDF, "pandn", .mmx),
            (0xE0, "pavgb", .sse), (0xE1, "psraw", .mmx), (0xE2, "psrad", .mmx), (0xE3, "pavgw", .sse),
            (0xE4, "pmulhuw", .sse), (0xE5, "pmulhw", .mmx), (0xE8, "psubsb", .mmx), (0xE9, "psubsw", .mmx),
            (0xEA, "pminsw", .sse), (0xEB, "por", .mmx), (0xEC, "paddsb", .mmx), (0xED, "paddsw", .mmx),
            (0xEE, "pmaxsw", .sse), (0xEF, "pxor", .mmx),
            (0xF1, "psllw", .mmx), (0xF2, "pslld", .mmx), (0xF3, "psllq", .mmx), (0xF4, "pmuludq", .sse2),
            (0xF5, "pmaddwd", .mmx), (0xF6, "psadbw", .sse), (0xF8, "psubb", .mmx), (0xF9, "psubw", .mmx),
            (0xFA, "psubd", .mmx), (0xFB, "psubq", .sse2), (0xFC, "paddb", .mmx), (0xFD, "paddw", .mmx),
            (0xFE, "paddd", .mmx)]
        for (op, name, isa) in row { sse(op, name, .Pq, .Qq, n66, isa: isa) }
        sse(0xD0, "addsubpd", .Vx, .Wx, p66 | f2, isa: .sse3)  // F2: addsubps
        sse(0xD6, "movq", .Wx, .Vx, p66 | f3 | f2, isa: .sse2)   // F3: movq2dq, F2: movdq2q (register only)
        sse(0xD7, "pmovmskb", .Gd, .Nq, n66)
        sse(0xE6, "cvttpd2dq", .Vx, .Wx, p66 | f3 | f2, isa: .sse2)
        sse(0xE7, "movntq", .M, .Pq, n66)
        sse(0xF7, "maskmovq", .Pq, .Nq, n66)
        sse(0xF0, "lddqu", .Vx, .M, f2, isa: .sse3)
    }
}

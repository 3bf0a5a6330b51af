/// Opcodes whose ModRM reg field selects the operation (SDM Vol. 2, Table A-6).
/// Each group has 16 entries: reg 0-7 with a memory operand, then reg 0-7 with
/// a register operand (mod = 11), because a few groups differ between the two.
enum GroupTable {
    enum Group: UInt8, CaseIterable {
        case immediateByte           // 80, 82: ALU Eb,Ib
        case immediateSized          // 81: ALU Ev,Iz
        case immediateSignExtended   // 83: ALU Ev,IbS
        case pop                     // 8F
        case shiftImmediateByte, shiftImmediate   // C0, C1
        case shiftOneByte, shiftOne               // D0, D1
        case shiftCLByte, shiftCL                 // D2, D3
        case moveImmediateByte, moveImmediate     // C6, C7
        case unaryByte, unary                     // F6, F7
        case incDecByte              // FE
        case indirect                // FF
        case system6                 // 0F 00
        case system7                 // 0F 01
        case bitTestImmediate        // 0F BA
        case compareExchange8        // 0F C7
        case shiftWords, shiftDwords, shiftQwords  // 0F 71, 72, 73
        case stateAndFences          // 0F AE
        case hintNop                 // 0F 18
    }

    static let entries: [OpcodeEntry] = build()

    @inline(__always)
    static func entry(_ group: UInt8, reg: UInt8, isRegister: Bool) -> OpcodeEntry {
        entries[Int(group) &* 16 &+ (isRegister ? 8 : 0) &+ Int(reg)]
    }

    private static func build() -> [OpcodeEntry] {
        var t = [OpcodeEntry](repeating: .invalid, count: Group.allCases.count * 16)
        /// Sets reg `reg` of `group` for both memory and register forms.
        func set(_ group: Group, _ reg: Int, _ entry: OpcodeEntry) {
            t[Int(group.rawValue) * 16 + reg] = entry
            t[Int(group.rawValue) * 16 + 8 + reg] = entry
        }
        func setMemory(_ group: Group, _ reg: Int, _ entry: OpcodeEntry) {
            t[Int(group.rawValue) * 16 + reg] = entry
        }
        func setRegister(_ group: Group, _ reg: Int, _ entry: OpcodeEntry) {
            t[Int(group.rawValue) * 16 + 8 + reg] = entry
        }

        let alu: [StaticString] = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"]
        for (reg, name) in alu.enumerated() {
            let lock: OpcodeFlags = reg == 7 ? [] : .lockable
            set(.immediateByte, reg, OpcodeEntry(name, .Eb, .Ib, flags: lock))
            set(.immediateSized, reg, OpcodeEntry(name, .Ev, .Iz, flags: lock))
            set(.immediateSignExtended, reg, OpcodeEntry(name, .Ev, .IbS, flags: lock))
        }
        set(.pop, 0, OpcodeEntry("pop", .Ev))

        // Reg 6 is an undocumented alias of SHL (sometimes called SAL) that every x86 executes.
        let shifts: [StaticString] = ["rol", "ror", "rcl", "rcr", "shl", "shr", "shl", "sar"]
        for (reg, name) in shifts.enumerated() {
            set(.shiftImmediateByte, reg, OpcodeEntry(name, .Eb, .Ib))
            set(.shiftImmediate, reg, OpcodeEntry(name, .Ev, .Ib))
            set(.shiftOneByte, reg, OpcodeEntry(name, .Eb, .one))
            set(.shiftOne, reg, OpcodeEntry(name, .Ev, .one))
            set(.shiftCLByte, reg, OpcodeEntry(name, .Eb, .CL))
            set(.shiftCL, reg, OpcodeEntry(name, .Ev, .CL))
        }
        set(.moveImmediateByte, 0, OpcodeEntry("mov", .Eb, .Ib))
        set(.moveImmediate, 0, OpcodeEntry("mov", .Ev, .Iz))

        // Reg 1 is an undocumented alias of TEST.
        set(.unaryByte, 0, OpcodeEntry("test", .Eb, .Ib))
        set(.unaryByte, 1, OpcodeEntry("test", .Eb, .Ib))
        set(.unary, 0, OpcodeEntry("test", .Ev, .Iz))
        set(.unary, 1, OpcodeEntry("test", .Ev, .Iz))
        let unary: [StaticString] = ["not", "neg", "mul", "imul", "div", "idiv"]
        for (i, name) in unary.enumerated() {
            let lock: OpcodeFlags = i < 2 ? .lockable : []
            set(.unaryByte, i + 2, OpcodeEntry(name, .Eb, flags: lock))
            set(.unary, i + 2, OpcodeEntry(name, .Ev, flags: lock))
        }

        set(.incDecByte, 0, OpcodeEntry("inc", .Eb, flags: .lockable))
        set(.incDecByte, 1, OpcodeEntry("dec", .Eb, flags: .lockable))
        set(.indirect, 0, OpcodeEntry("inc", .Ev, flags: .lockable))
        set(.indirect, 1, OpcodeEntry("dec", .Ev, flags: .lockable))
        set(.indirect, 2, OpcodeEntry("call", .Ev))
        setMemory(.indirect, 3, OpcodeEntry("call far", .Mp))
        set(.indirect, 4, OpcodeEntry("jmp", .Ev))
        setMemory(.indirect, 5, OpcodeEntry("jmp far", .Mp))
        set(.indirect, 6, OpcodeEntry("push", .Ev))

        let pm: OpcodeFlags = .protectedModeOnly
        set(.system6, 0, OpcodeEntry("sldt", .Ev, flags: pm))
        set(.system6, 1, OpcodeEntry("str", .Ev, flags: pm))
        set(.system6, 2, OpcodeEntry("lldt", .Ew, flags: pm))
        set(.system6, 3, OpcodeEntry("ltr", .Ew, flags: pm))
        set(.system6, 4, OpcodeEntry("verr", .Ew, flags: pm))
        set(.system6, 5, OpcodeEntry("verw", .Ew, flags: pm))

        // The mod = 11 forms of 0F 01 reg 0-3 and 7 are VMX/SVM/MONITOR/SWAPGS...: not on i686.
        setMemory(.system7, 0, OpcodeEntry("sgdt", .M))
        setMemory(.system7, 1, OpcodeEntry("sidt", .M))
        setMemory(.system7, 2, OpcodeEntry("lgdt", .M))
        setMemory(.system7, 3, OpcodeEntry("lidt", .M))
        set(.system7, 4, OpcodeEntry("smsw", .Ev))
        set(.system7, 6, OpcodeEntry("lmsw", .Ew))
        setMemory(.system7, 7, OpcodeEntry("invlpg", .M))

        set(.bitTestImmediate, 4, OpcodeEntry("bt", .Ev, .Ib))
        set(.bitTestImmediate, 5, OpcodeEntry("bts", .Ev, .Ib, flags: .lockable))
        set(.bitTestImmediate, 6, OpcodeEntry("btr", .Ev, .Ib, flags: .lockable))
        set(.bitTestImmediate, 7, OpcodeEntry("btc", .Ev, .Ib, flags: .lockable))

        setMemory(.compareExchange8, 1, OpcodeEntry("cmpxchg8b", .Mq, flags: .lockable))

        // MMX/SSE2 shifts by immediate: register operand only, no prefix (MMX) or 66 (SSE2).
        let both = SIMDVariants.none | SIMDVariants.p66
        setRegister(.shiftWords, 2, .simd("psrlw", .Nq, .Ib, isa: .mmx, variants: both))
        setRegister(.shiftWords, 4, .simd("psraw", .Nq, .Ib, isa: .mmx, variants: both))
        setRegister(.shiftWords, 6, .simd("psllw", .Nq, .Ib, isa: .mmx, variants: both))
        setRegister(.shiftDwords, 2, .simd("psrld", .Nq, .Ib, isa: .mmx, variants: both))
        setRegister(.shiftDwords, 4, .simd("psrad", .Nq, .Ib, isa: .mmx, variants: both))
        setRegister(.shiftDwords, 6, .simd("pslld", .Nq, .Ib, isa: .mmx, variants: both))
        setRegister(.shiftQwords, 2, .simd("psrlq", .Nq, .Ib, isa: .mmx, variants: both))
        setRegister(.shiftQwords, 3, .simd("psrldq", .Nq, .Ib, isa: .sse2, variants: SIMDVariants.p66))
        setRegister(.shiftQwords, 6, .simd("psllq", .Nq, .Ib, isa: .mmx, variants: both))
        setRegister(.shiftQwords, 7, .simd("pslldq", .Nq, .Ib, isa: .sse2, variants: SIMDVariants.p66))

        setMemory(.stateAndFences, 0, OpcodeEntry("fxsave", .M, isa: .fxsr))
        setMemory(.stateAndFences, 1, OpcodeEntry("fxrstor", .M, isa: .fxsr))
        setMemory(.stateAndFences, 2, OpcodeEntry("ldmxcsr", .M, isa: .sse))
        setMemory(.stateAndFences, 3, OpcodeEntry("stmxcsr", .M, isa: .sse))
        setMemory(.stateAndFences, 7, OpcodeEntry("clflush", .M, isa: .sse2))
        setRegister(.stateAndFences, 5, OpcodeEntry("lfence", isa: .sse2).with(modrm: .registerOnly))
        setRegister(.stateAndFences, 6, OpcodeEntry("mfence", isa: .sse2).with(modrm: .registerOnly))
        setRegister(.stateAndFences, 7, OpcodeEntry("sfence", isa: .sse).with(modrm: .registerOnly))

        // 0F 18-1F are hint NOPs on P6; 0F 18 reg 0-3 with memory became PREFETCHh with SSE.
        for reg in 0..<8 { set(.hintNop, reg, OpcodeEntry("nop", .Ev)) }
        let prefetch: [StaticString] = ["prefetchnta", "prefetcht0", "prefetcht1", "prefetcht2"]
        for (reg, name) in prefetch.enumerated() { setMemory(.hintNop, reg, OpcodeEntry(name, .M, isa: .sse)) }
        return t
    }
}

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
        case prefetch                // 0F 0D
    }

    static let entries: [OpcodeEntry] = build()

    /// 0F 01 F9.
    static let readTimeStampCounterAndProcessor = OpcodeEntry(.readTimeStampCounterAndProcessor, "rdtscp")

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

        for operation in ALUOperation.allCases {
            let reg = Int(operation.rawValue), name = operation.mnemonic
            let lock: OpcodeFlags = operation == .cmp ? [] : .lockable
            set(.immediateByte, reg, OpcodeEntry(.alu(operation), name, .Eb, .Ib, flags: lock))
            set(.immediateSized, reg, OpcodeEntry(.alu(operation), name, .Ev, .Iz, flags: lock))
            set(.immediateSignExtended, reg, OpcodeEntry(.alu(operation), name, .Ev, .IbS, flags: lock))
        }
        set(.pop, 0, OpcodeEntry(.pop, "pop", .Ev))

        // Reg 6 is an undocumented alias of SHL (sometimes called SAL) that every x86 executes.
        let shifts: [StaticString] = ["rol", "ror", "rcl", "rcr", "shl", "shr", "shl", "sar"]
        for (reg, name) in shifts.enumerated() {
            let shift = Semantics.shift(UInt8(reg))
            set(.shiftImmediateByte, reg, OpcodeEntry(shift, name, .Eb, .Ib))
            set(.shiftImmediate, reg, OpcodeEntry(shift, name, .Ev, .Ib))
            set(.shiftOneByte, reg, OpcodeEntry(shift, name, .Eb, .one))
            set(.shiftOne, reg, OpcodeEntry(shift, name, .Ev, .one))
            set(.shiftCLByte, reg, OpcodeEntry(shift, name, .Eb, .CL))
            set(.shiftCL, reg, OpcodeEntry(shift, name, .Ev, .CL))
        }
        set(.moveImmediateByte, 0, OpcodeEntry(.move, "mov", .Eb, .Ib))
        set(.moveImmediate, 0, OpcodeEntry(.move, "mov", .Ev, .Iz))

        // Reg 1 is an undocumented alias of TEST.
        set(.unaryByte, 0, OpcodeEntry(.test, "test", .Eb, .Ib))
        set(.unaryByte, 1, OpcodeEntry(.test, "test", .Eb, .Ib))
        set(.unary, 0, OpcodeEntry(.test, "test", .Ev, .Iz))
        set(.unary, 1, OpcodeEntry(.test, "test", .Ev, .Iz))
        let unary: [(StaticString, Semantics)] = [
            ("not", .not), ("neg", .neg), ("mul", .multiplyAccumulator(signed: false)),
            ("imul", .multiplyAccumulator(signed: true)), ("div", .divide(signed: false)), ("idiv", .divide(signed: true))]
        for (i, (name, semantics)) in unary.enumerated() {
            let lock: OpcodeFlags = i < 2 ? .lockable : []
            set(.unaryByte, i + 2, OpcodeEntry(semantics, name, .Eb, flags: lock))
            set(.unary, i + 2, OpcodeEntry(semantics, name, .Ev, flags: lock))
        }

        set(.incDecByte, 0, OpcodeEntry(.increment, "inc", .Eb, flags: .lockable))
        set(.incDecByte, 1, OpcodeEntry(.decrement, "dec", .Eb, flags: .lockable))
        set(.indirect, 0, OpcodeEntry(.increment, "inc", .Ev, flags: .lockable))
        set(.indirect, 1, OpcodeEntry(.decrement, "dec", .Ev, flags: .lockable))
        set(.indirect, 2, OpcodeEntry(.callIndirect, "call", .Ev))
        setMemory(.indirect, 3, OpcodeEntry(.callFar, "call far", .Mp))
        set(.indirect, 4, OpcodeEntry(.jumpIndirect, "jmp", .Ev))
        setMemory(.indirect, 5, OpcodeEntry(.jumpFar, "jmp far", .Mp))
        set(.indirect, 6, OpcodeEntry(.push, "push", .Ev))

        let pm: OpcodeFlags = .protectedModeOnly
        set(.system6, 0, OpcodeEntry(.storeSystemRegister(.storeLDTR), "sldt", .Ev, flags: pm))
        set(.system6, 1, OpcodeEntry(.storeSystemRegister(.storeTaskRegister), "str", .Ev, flags: pm))
        set(.system6, 2, OpcodeEntry(.loadSystemRegister(.loadLDTR), "lldt", .Ew, flags: pm))
        set(.system6, 3, OpcodeEntry(.loadSystemRegister(.loadTaskRegister), "ltr", .Ew, flags: pm))
        set(.system6, 4, OpcodeEntry(.verifySegment(.verifyRead), "verr", .Ew, flags: pm))
        set(.system6, 5, OpcodeEntry(.verifySegment(.verifyWrite), "verw", .Ew, flags: pm))

        // The mod = 11 forms of 0F 01 reg 0-3 and 7 are VMX/SVM/MONITOR/SWAPGS...: not on i686.
        setMemory(.system7, 0, OpcodeEntry(.descriptorTableRegister(.storeGDTR), "sgdt", .M))
        setMemory(.system7, 1, OpcodeEntry(.descriptorTableRegister(.storeIDTR), "sidt", .M))
        setMemory(.system7, 2, OpcodeEntry(.descriptorTableRegister(.loadGDTR), "lgdt", .M))
        setMemory(.system7, 3, OpcodeEntry(.descriptorTableRegister(.loadIDTR), "lidt", .M))
        set(.system7, 4, OpcodeEntry(.storeSystemRegister(.storeMachineStatus), "smsw", .Ev))
        set(.system7, 6, OpcodeEntry(.loadMachineStatus, "lmsw", .Ew))
        setMemory(.system7, 7, OpcodeEntry(.invalidatePage, "invlpg", .M))
        // The register form of /7: r/m 0 SWAPGS, 1 RDTSCP (`readTimeStampCounterAndProcessor`), the rest invalid.
        setRegister(.system7, 7, OpcodeEntry(.swapGS, "swapgs"))

        // PREFETCH/PREFETCHW/PREFETCHWT1 (memory only): hints, done as NOP.
        // Linux takes PREFETCHW for granted on every 64-bit CPU.
        for reg in 0..<8 {
            let name: StaticString = reg == 1 ? "prefetchw" : (reg == 2 ? "prefetchwt1" : "prefetch")
            setMemory(.prefetch, reg, OpcodeEntry(.nop, name, .M))
        }

        set(.bitTestImmediate, 4, OpcodeEntry(.bitTest(0), "bt", .Ev, .Ib))
        set(.bitTestImmediate, 5, OpcodeEntry(.bitTest(1), "bts", .Ev, .Ib, flags: .lockable))
        set(.bitTestImmediate, 6, OpcodeEntry(.bitTest(2), "btr", .Ev, .Ib, flags: .lockable))
        set(.bitTestImmediate, 7, OpcodeEntry(.bitTest(3), "btc", .Ev, .Ib, flags: .lockable))

        setMemory(.compareExchange8, 1, OpcodeEntry(.compareExchange8Bytes, "cmpxchg8b", .Mq, flags: .lockable))

        // MMX/SSE2 shifts by immediate: register operand only, no prefix (MMX) or 66 (SSE2).
        let both = SIMDVariants.none | SIMDVariants.p66
        let shift = SIMDSemantics(none: .mmx(SIMDForm(.shiftImmediate, bytes: 8)), p66: .sse(SIMDForm(.shiftImmediate, bytes: 16)),
                                  pF3: .invalidOpcode, pF2: .invalidOpcode)
        func shiftEntry(_ name: StaticString, isa: InstructionSet, _ variants: UInt8) -> OpcodeEntry {
            .simd(name, .Nq, .Ib, isa: isa, variants: variants, semantics: shift)
        }
        setRegister(.shiftWords, 2, shiftEntry("psrlw", isa: .mmx, both))
        setRegister(.shiftWords, 4, shiftEntry("psraw", isa: .mmx, both))
        setRegister(.shiftWords, 6, shiftEntry("psllw", isa: .mmx, both))
        setRegister(.shiftDwords, 2, shiftEntry("psrld", isa: .mmx, both))
        setRegister(.shiftDwords, 4, shiftEntry("psrad", isa: .mmx, both))
        setRegister(.shiftDwords, 6, shiftEntry("pslld", isa: .mmx, both))
        setRegister(.shiftQwords, 2, shiftEntry("psrlq", isa: .mmx, both))
        setRegister(.shiftQwords, 3, shiftEntry("psrldq", isa: .sse2, SIMDVariants.p66))
        setRegister(.shiftQwords, 6, shiftEntry("psllq", isa: .mmx, both))
        setRegister(.shiftQwords, 7, shiftEntry("pslldq", isa: .sse2, SIMDVariants.p66))

        setMemory(.stateAndFences, 0, OpcodeEntry(.fxsave, "fxsave", .M, isa: .fxsr))
        setMemory(.stateAndFences, 1, OpcodeEntry(.fxrstor, "fxrstor", .M, isa: .fxsr))
        setMemory(.stateAndFences, 2, OpcodeEntry(.loadMXCSR, "ldmxcsr", .M, isa: .sse))
        setMemory(.stateAndFences, 3, OpcodeEntry(.storeMXCSR, "stmxcsr", .M, isa: .sse))
        setMemory(.stateAndFences, 7, OpcodeEntry(.sseHint, "clflush", .M, isa: .sse2))
        setRegister(.stateAndFences, 5, OpcodeEntry(.sseHint, "lfence", isa: .sse2).with(modrm: .registerOnly))
        setRegister(.stateAndFences, 6, OpcodeEntry(.sseHint, "mfence", isa: .sse2).with(modrm: .registerOnly))
        setRegister(.stateAndFences, 7, OpcodeEntry(.sseHint, "sfence", isa: .sse).with(modrm: .registerOnly))

        // 0F 18-1F are hint NOPs on P6; 0F 18 reg 0-3 with memory became PREFETCHh with SSE.
        for reg in 0..<8 { set(.hintNop, reg, OpcodeEntry(.nop, "nop", .Ev)) }
        let prefetch: [StaticString] = ["prefetchnta", "prefetcht0", "prefetcht1", "prefetcht2"]
        for (reg, name) in prefetch.enumerated() { setMemory(.hintNop, reg, OpcodeEntry(.sseHint, name, .M, isa: .sse)) }
        return t
    }
}

/// The x87 escapes D8-DF (SDM Vol. 2, Tables ). With a memory
/// operand the operation is chosen by (escape, reg); with a register operand by
/// (escape, whole ModRM byte). These tables give validity and mnemonics; every
/// entry's translation is `.x87`, whose routine hands the escape and the ModRM
/// byte to the x87 helper (or the host FPU).
enum X87Opcodes {
    /// Operand sizes of the memory forms, for the disassembly.
    enum MemorySize: UInt8 { case none, word, dword, qword, tbyte }

    /// Indexed by escape * 8 + reg.
    static let memoryForms: [OpcodeEntry] = buildMemoryForms()
    static let memorySizes: [MemorySize] = buildMemorySizes()
    /// Indexed by escape * 64 + (ModRM - 0xC0).
    static let registerForms: [OpcodeEntry] = buildRegisterForms()

    @inline(__always)
    static func entry(escape: Int, modrm: UInt8) -> OpcodeEntry {
        modrm >= 0xC0
            ? registerForms[escape &* 64 &+ Int(modrm &- 0xC0)]
            : memoryForms[escape &* 8 &+ Int((modrm >> 3) & 7)]
    }

    private static func x87(_ name: StaticString, _ a: OperandKind = .none, _ b: OperandKind = .none) -> OpcodeEntry {
        OpcodeEntry(.x87, name, a, b, isa: .x87, flags: .x87)
    }

    private static let arithmetic: [StaticString] = ["fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr"]
    private static let integerArithmetic: [StaticString] = [
        "fiadd", "fimul", "ficom", "ficomp", "fisub", "fisubr", "fidiv", "fidivr"]

    private static func buildMemoryForms() -> [OpcodeEntry] {
        var t = [OpcodeEntry](repeating: .invalid, count: 64)
        for reg in 0..<8 {
            t[0 * 8 + reg] = x87(arithmetic[reg], .M)
            t[2 * 8 + reg] = x87(integerArithmetic[reg], .M)
            t[4 * 8 + reg] = x87(arithmetic[reg], .M)
            t[6 * 8 + reg] = x87(integerArithmetic[reg], .M)
        }
        // Reg 1 of DB, DD and DF is FISTTP, an SSE3 addition (#UD without it in CPUID).
        let d9: [StaticString?] = ["fld", nil, "fst", "fstp", "fldenv", "fldcw", "fnstenv", "fnstcw"]
        let db: [StaticString?] = ["fild", nil, "fist", "fistp", nil, "fld", nil, "fstp"]
        let dd: [StaticString?] = ["fld", nil, "fst", "fstp", "frstor", nil, "fnsave", "fnstsw"]
        let df: [StaticString?] = ["fild", nil, "fist", "fistp", "fbld", "fild", "fbstp", "fistp"]
        for (escape, names) in [(1, d9), (3, db), (5, dd), (7, df)] {
            for (reg, name) in names.enumerated() {
                if let name { t[escape * 8 + reg] = x87(name, .M) }
            }
        }
        for escape in [3, 5, 7] {
            var fisttp = x87("fisttp", .M)
            fisttp.isa = .sse3
            t[escape * 8 + 1] = fisttp
        }
        return t
    }

    private static func buildMemorySizes() -> [MemorySize] {
        let d9: [MemorySize] = [.dword, .none, .dword, .dword, .none, .word, .none, .word]
        let db: [MemorySize] = [.dword, .dword, .dword, .dword, .none, .tbyte, .none, .tbyte]
        let dd: [MemorySize] = [.qword, .qword, .qword, .qword, .none, .none, .none, .word]
        let df: [MemorySize] = [.word, .word, .word, .word, .tbyte, .qword, .tbyte, .qword]
        let rows: [[MemorySize]] = [
            Array(repeating: .dword, count: 8), d9, Array(repeating: .dword, count: 8), db,
            Array(repeating: .qword, count: 8), dd, Array(repeating: .word, count: 8), df]
        return rows.flatMap { $0 }
    }

    private static func buildRegisterForms() -> [OpcodeEntry] {
        var t = [OpcodeEntry](repeating: .invalid, count: 8 * 64)
        func row(_ escape: Int, _ reg: Int, _ entry: OpcodeEntry) {
            for i in 0..<8 { t[escape * 64 + reg * 8 + i] = entry }
        }
        func one(_ escape: Int, _ low: Int, _ entry: OpcodeEntry) { t[escape * 64 + low] = entry }

        // D8: op st, st(i).  DC: op st(i), st with the SUB/DIV pairs swapped (Intel naming).
        for reg in 0..<8 {
            let name = arithmetic[reg]
            row(0, reg, reg == 2 || reg == 3 ? x87(name, .STi) : x87(name, .ST0, .STi))
        }
        let dc: [StaticString] = ["fadd", "fmul", "fcom", "fcomp", "fsubr", "fsub", "fdivr", "fdiv"]
        for reg in 0..<8 { row(4, reg, reg == 2 || reg == 3 ? x87(dc[reg], .STi) : x87(dc[reg], .STi, .ST0)) }
        let de: [StaticString] = ["faddp", "fmulp", "fcomp", "", "fsubrp", "fsubp", "fdivrp", "fdivp"]
        for reg in [0, 1, 4, 5, 6, 7] { row(6, reg, x87(de[reg], .STi, .ST0)) }
        // Undocumented aliases every P6 executes: DC D0/D8 (fcom/fcomp), DE D0 (fcomp),
        // D9 D8 and DF D0/D8 (fstp), DD C8 and DF C8 (fxch), DF C0 (ffreep).
        row(6, 2, x87("fcomp", .STi))
        row(1, 3, x87("fstp", .STi))
        row(7, 2, x87("fstp", .STi))
        row(7, 3, x87("fstp", .STi))
        row(5, 1, x87("fxch", .STi))
        row(7, 1, x87("fxch", .STi))
        row(7, 0, x87("ffreep", .STi))
        one(6, 0x19, x87("fcompp"))

        row(1, 0, x87("fld", .STi))
        row(1, 1, x87("fxch", .STi))
        one(1, 0x10, x87("fnop"))
        let d9e: [StaticString?] = [
            "fchs", "fabs", nil, nil, "ftst", "fxam", nil, nil,
            "fld1", "fldl2t", "fldl2e", "fldpi", "fldlg2", "fldln2", "fldz", nil,
            "f2xm1", "fyl2x", "fptan", "fpatan", "fxtract", "fprem1", "fdecstp", "fincstp",
            "fprem", "fyl2xp1", "fsqrt", "fsincos", "frndint", "fscale", "fsin", "fcos"]
        for (i, name) in d9e.enumerated() { if let name { one(1, 0x20 + i, x87(name)) } }

        let fcmov: [StaticString] = ["fcmovb", "fcmove", "fcmovbe", "fcmovu"]
        let fcmovn: [StaticString] = ["fcmovnb", "fcmovne", "fcmovnbe", "fcmovnu"]
        for reg in 0..<4 {
            row(2, reg, x87(fcmov[reg], .ST0, .STi))
            row(3, reg, x87(fcmovn[reg], .ST0, .STi))
        }
        one(2, 0x29, x87("fucompp"))
        // FENI/FDISI (8087) and FSETPM (287) are no-ops on later FPUs.
        one(3, 0x20, x87("fneni"))
        one(3, 0x21, x87("fndisi"))
        one(3, 0x22, x87("fnclex"))
        one(3, 0x23, x87("fninit"))
        one(3, 0x24, x87("fnsetpm"))
        row(3, 5, x87("fucomi", .ST0, .STi))
        row(3, 6, x87("fcomi", .ST0, .STi))

        row(5, 0, x87("ffree", .STi))
        row(5, 2, x87("fst", .STi))
        row(5, 3, x87("fstp", .STi))
        row(5, 4, x87("fucom", .STi))
        row(5, 5, x87("fucomp", .STi))

        one(7, 0x20, x87("fnstsw", .AX))
        row(7, 5, x87("fucomip", .ST0, .STi))
        row(7, 6, x87("fcomip", .ST0, .STi))
        return t
    }
}

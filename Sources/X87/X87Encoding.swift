/// Facts about x87 encodings (escape 0-7 for D8-DF, ModRM byte) that the CPU
/// layer needs around `execute`: operand sizes, waiting, FOP.
public enum X87Encoding {
    /// Memory operand of the memory forms (ModRM mod != 3).
    public enum MemoryOperand: Sendable, Equatable {
        case none          // reserved encoding: #UD
        case bytes(Int)    // 2, 4, 8 or 10 bytes through `X87Operand`
        case environment   // FLDENV/FNSTENV: `X87EnvironmentLayout.environmentSize`
        case saveArea      // FRSTOR/FNSAVE: `X87EnvironmentLayout.saveAreaSize`
    }

    /// Loads or stores, and how many bytes.
    public static func memoryOperand(escape: UInt8, reg: UInt8) -> MemoryOperand {
        switch (escape & 7, reg & 7) {
        case (0, _): return .bytes(4)
        case (1, 0), (1, 2), (1, 3): return .bytes(4)
        case (1, 1): return .none
        case (1, 4), (1, 6): return .environment
        case (1, _): return .bytes(2)
        case (2, _): return .bytes(4)
        case (3, 4), (3, 6): return .none
        case (3, 5), (3, 7): return .bytes(10)
        case (3, _): return .bytes(4)
        case (4, _): return .bytes(8)
        case (5, 5): return .none
        case (5, 4), (5, 6): return .saveArea
        case (5, 7): return .bytes(2)
        case (5, _): return .bytes(8)
        case (6, _): return .bytes(2)
        case (7, 4), (7, 6): return .bytes(10)
        case (7, 5), (7, 7): return .bytes(8)
        default: return .bytes(2)
        }
    }

    /// Whether the memory form writes memory (FST, FIST, FISTTP, FBSTP,
    /// FNSTCW, FNSTSW, FNSTENV, FNSAVE) rather than reading it.
    public static func memoryFormStores(escape: UInt8, reg: UInt8) -> Bool {
        switch (escape & 7, reg & 7) {
        case (0, _), (2, _), (4, _), (6, _): return false
        case (1, let r): return r == 2 || r == 3 || r == 6 || r == 7
        case (3, let r), (5, let r): return r == 1 || r == 2 || r == 3 || r == 6 || r == 7
        case (7, let r): return r != 0 && r != 4 && r != 5
        default: return false
        }
    }

    /// False for the no-wait control instructions (FNINIT, FNCLEX, FNSTCW,
    /// FNSTSW, FNSTENV, FNSAVE and the 8087 leftovers FNENI/FNDISI/FNSETPM),
    /// which do not check for a pending exception; true for all others.
    public static func isWaiting(escape: UInt8, modrm: UInt8) -> Bool {
        let reg = (modrm >> 3) & 7
        if modrm < 0xC0 {
            switch (escape & 7, reg) {
            case (1, 6), (1, 7), (5, 6), (5, 7): return false
            default: return true
            }
        }
        switch (escape & 7, modrm) {
        case (3, 0xE0...0xE4), (7, 0xE0): return false
        default: return true
        }
    }

    /// Control instructions leave FIP/FOP/FDP unchanged: FINIT, FCLEX, FLDCW,
    /// FSTCW, FSTSW, FLDENV, FSTENV, FSAVE, FRSTOR (and FNENI/FNDISI/FNSETPM).
    public static func isControl(escape: UInt8, modrm: UInt8) -> Bool {
        let reg = (modrm >> 3) & 7
        if modrm < 0xC0 {
            switch (escape & 7, reg) {
            case (1, 4...7), (5, 4), (5, 6), (5, 7): return true
            default: return false
            }
        }
        switch (escape & 7, modrm) {
        case (3, 0xE0...0xE4), (7, 0xE0): return true
        default: return false
        }
    }

    /// The FOP value: low 3 bits of the escape byte, then the ModRM byte.
    @inline(__always)
    public static func fop(escape: UInt8, modrm: UInt8) -> UInt16 {
        UInt16(escape & 7) << 8 | UInt16(modrm)
    }
}

/// The three-byte opcode maps, 0F 38 xx and 0F 3A xx (SDM Vol. 2, Tables
/// SSSE3, SSE4.1 and SSE4.2, and CRC32. Every 0F 3A opcode
/// takes an imm8. SSSE3's forms without a prefix name MMX registers. The
/// decoder gives these instructions the opcode 38xx or 3Axx.
enum ThreeByteOpcodeTables {
    static let map38: [OpcodeEntry] = build38()
    static let map3A: [OpcodeEntry] = build3A()

    private static func build38() -> [OpcodeEntry] {
        var t = [OpcodeEntry](repeating: .invalid, count: 256)
        let n66 = SIMDVariants.none | SIMDVariants.p66, p66 = SIMDVariants.p66
        let packed = SIMDForm(.vw, bytes: 16, aligned: true)
        func set(_ op: Int, _ name: StaticString, _ isa: InstructionSet, _ variants: UInt8, _ form: SIMDForm,
                 _ a: OperandKind = .Vx, _ b: OperandKind = .Wx) {
            t[op] = .simd(name, a, b, isa: isa, variants: variants,
                          semantics: SIMDSemantics(none: .invalidOpcode, p66: .sse(form), pF3: .invalidOpcode, pF2: .invalidOpcode))
        }
        let ssse3: [(Int, StaticString)] = [
            (0x00, "pshufb"), (0x01, "phaddw"), (0x02, "phaddd"), (0x03, "phaddsw"), (0x04, "pmaddubsw"),
            (0x05, "phsubw"), (0x06, "phsubd"), (0x07, "phsubsw"), (0x08, "psignb"), (0x09, "psignw"),
            (0x0A, "psignd"), (0x0B, "pmulhrsw"), (0x1C, "pabsb"), (0x1D, "pabsw"), (0x1E, "pabsd")]
        for (op, name) in ssse3 {
            set(op, name, .ssse3, n66, packed, .Pq, .Qq)
            t[op].simdSemantics.none = .mmx(SIMDForm(.vw, bytes: 8))
        }
        let blend = SIMDForm(.blendVariable, bytes: 16, aligned: true)
        set(0x10, "pblendvb", .sse41, p66, blend)
        set(0x14, "blendvps", .sse41, p66, blend)
        set(0x15, "blendvpd", .sse41, p66, blend)
        set(0x17, "ptest", .sse41, p66, SIMDForm(.flags, bytes: 16, aligned: true))
        // PMOVSX/PMOVZX: the memory operand is as wide as the elements read.
        let widen: [(Int, StaticString, Int)] = [(0x20, "pmovsxbw", 8), (0x21, "pmovsxbd", 4), (0x22, "pmovsxbq", 2),
                                                 (0x23, "pmovsxwd", 8), (0x24, "pmovsxwq", 4), (0x25, "pmovsxdq", 8)]
        for (op, name, bytes) in widen {
            set(op, name, .sse41, p66, SIMDForm(.vw, bytes: bytes))
            set(op + 0x10, name, .sse41, p66, SIMDForm(.vw, bytes: bytes))
        }
        set(0x28, "pmuldq", .sse41, p66, packed)
        set(0x29, "pcmpeqq", .sse41, p66, packed)
        set(0x2A, "movntdqa", .sse41, p66, packed, .Vx, .M)
        set(0x2B, "packusdw", .sse41, p66, packed)
        set(0x37, "pcmpgtq", .sse42, p66, packed)
        let minMax: [(Int, StaticString)] = [(0x38, "pminsb"), (0x39, "pminsd"), (0x3A, "pminuw"), (0x3B, "pminud"),
                                             (0x3C, "pmaxsb"), (0x3D, "pmaxsd"), (0x3E, "pmaxuw"), (0x3F, "pmaxud")]
        for (op, name) in minMax { set(op, name, .sse41, p66, packed) }
        set(0x40, "pmulld", .sse41, p66, packed)
        set(0x41, "phminposuw", .sse41, p66, packed)
        // CRC32 (F2; 66 as well is its 16-bit form). Without F2 these are MOVBE, which the CPU lacks.
        // The form's size is 1 for the byte form; F1's follows the operand size.
        func crc32(_ bytes: Int) -> SIMDSemantics {
            SIMDSemantics(none: .invalidOpcode, p66: .invalidOpcode, pF3: .invalidOpcode, pF2: .sse(SIMDForm(.general, bytes: bytes)))
        }
        t[0xF0] = .simd("crc32", .Gd, .Eb, isa: .sse42, variants: SIMDVariants.pF2, semantics: crc32(1))
        t[0xF1] = .simd("crc32", .Gd, .Ev, isa: .sse42, variants: SIMDVariants.pF2, semantics: crc32(4))
        return t
    }

    private static func build3A() -> [OpcodeEntry] {
        var t = [OpcodeEntry](repeating: .invalid, count: 256)
        let n66 = SIMDVariants.none | SIMDVariants.p66, p66 = SIMDVariants.p66
        let packed = SIMDForm(.vw, bytes: 16, aligned: true)
        let packedFP = SIMDForm(.vw, bytes: 16, aligned: true, floatingPoint: true)
        func set(_ op: Int, _ name: StaticString, _ isa: InstructionSet, _ variants: UInt8, _ form: SIMDForm,
                 _ a: OperandKind = .Vx, _ b: OperandKind = .Wx) {
            t[op] = .simd(name, a, b, .Ib, isa: isa, variants: variants,
                          semantics: SIMDSemantics(none: .invalidOpcode, p66: .sse(form), pF3: .invalidOpcode, pF2: .invalidOpcode))
        }
        set(0x08, "roundps", .sse41, p66, packedFP)
        set(0x09, "roundpd", .sse41, p66, packedFP)
        set(0x0A, "roundss", .sse41, p66, SIMDForm(.vw, bytes: 4, floatingPoint: true))
        set(0x0B, "roundsd", .sse41, p66, SIMDForm(.vw, bytes: 8, floatingPoint: true))
        set(0x0C, "blendps", .sse41, p66, packed)
        set(0x0D, "blendpd", .sse41, p66, packed)
        set(0x0E, "pblendw", .sse41, p66, packed)
        set(0x0F, "palignr", .ssse3, n66, packed, .Pq, .Qq)
        t[0x0F].simdSemantics.none = .mmx(SIMDForm(.vw, bytes: 8))
        set(0x14, "pextrb", .sse41, p66, SIMDForm(.ev, bytes: 1), .Ed, .Vx)
        set(0x15, "pextrw", .sse41, p66, SIMDForm(.ev, bytes: 2), .Ed, .Vx)
        set(0x16, "pextrd", .sse41, p66, SIMDForm(.ev, bytes: 4), .Ed, .Vx)
        set(0x17, "extractps", .sse41, p66, SIMDForm(.ev, bytes: 4), .Ed, .Vx)
        set(0x20, "pinsrb", .sse41, p66, SIMDForm(.ve, bytes: 1), .Vx, .Ed)
        set(0x21, "insertps", .sse41, p66, SIMDForm(.vw, bytes: 4))
        set(0x22, "pinsrd", .sse41, p66, SIMDForm(.ve, bytes: 4), .Vx, .Ed)
        set(0x40, "dpps", .sse41, p66, packedFP)
        set(0x41, "dppd", .sse41, p66, packedFP)
        set(0x42, "mpsadbw", .sse41, p66, packed)
        // The string compares read their memory operand unaligned.
        set(0x60, "pcmpestrm", .sse42, p66, SIMDForm(.stringMask, bytes: 16))
        set(0x61, "pcmpestri", .sse42, p66, SIMDForm(.stringIndex, bytes: 16))
        set(0x62, "pcmpistrm", .sse42, p66, SIMDForm(.stringMask, bytes: 16))
        set(0x63, "pcmpistri", .sse42, p66, SIMDForm(.stringIndex, bytes: 16))
        return t
    }
}

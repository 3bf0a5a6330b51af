import X87

/// Deterministic pseudo-random numbers (SplitMix64) so failures reproduce.
struct TestRandom {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
}

enum TestValues {
    static func ext(_ signExponent: UInt16, _ significand: UInt64) -> X87Register {
        X87Register(significand: significand, signExponent: signExponent)
    }

    /// Extended values covering every class, including the encodings the
    /// 387 and later reject or treat specially.
    static let specials: [X87Register] = [
        ext(0x0000, 0), ext(0x8000, 0),                                     // zeros
        ext(0x3FFF, 0x8000_0000_0000_0000), ext(0xBFFF, 0x8000_0000_0000_0000), // +-1
        ext(0x4000, 0xC000_0000_0000_0000), ext(0x3FFE, 0x8000_0000_0000_0000), // 3, 0.5
        ext(0x4000, 0xC90F_DAA2_2168_C235),                                 // pi
        ext(0x7FFF, 0x8000_0000_0000_0000), ext(0xFFFF, 0x8000_0000_0000_0000), // infinities
        ext(0x7FFF, 0xC000_0000_0000_0001), ext(0xFFFF, 0xC000_0000_0000_0000), // QNaN, indefinite
        ext(0x7FFF, 0x8000_0000_0000_0001), ext(0xFFFF, 0xA000_0000_0000_0000), // SNaNs
        ext(0x7FFE, 0xFFFF_FFFF_FFFF_FFFF), ext(0xFFFE, 0xFFFF_FFFF_FFFF_FFFF), // largest
        ext(0x0001, 0x8000_0000_0000_0000), ext(0x8001, 0x8000_0000_0000_0000), // smallest normal
        ext(0x0000, 0x0000_0000_0000_0001), ext(0x8000, 0x4000_0000_0000_0000), // denormals
        ext(0x0000, 0x8000_0000_0000_0000), ext(0x8000, 0x8000_0000_0001_0000), // pseudo-denormals
        ext(0x3FFF, 0x4000_0000_0000_0000), ext(0x4005, 0x0000_0000_0000_0000), // unnormals
        ext(0x7FFF, 0x0000_0000_0000_0000), ext(0x7FFF, 0x4000_0000_0000_0000), // pseudo-infinity, pseudo-NaN
        ext(0x403E, 0xFFFF_FFFF_FFFF_FFFF), ext(0xC03E, 0x8000_0000_0000_0000), // near +-2^63
        ext(0x401D, 0xFFFF_FFFF_8000_0000), ext(0x400E, 0xFFFF_8000_0000_0000), // 2^31-0.5, 2^16-0.5
        ext(0x4000, 0xA000_0000_0000_0000), ext(0xC000, 0xE000_0000_0000_0000), // 2.5, -3.5 (ties)
        ext(0x407D, 0xC90F_DAA2_2168_C235), ext(0x43FE, 0x8000_0000_0000_0000), // 2^126*pi, 2^1023
        ext(0x3F80, 0x8000_0000_0000_0000), ext(0x3C00, 0xFFFF_FFFF_FFFF_F800), // tiny for float/double
        ext(0x3FFF, 0x8000_0000_0000_0001), ext(0x3FFE, 0xFFFF_FFFF_FFFF_FFFF), // 1 +- ulp
    ]

    /// A random extended value: mostly specials and moderate normals, some raw bits.
    static func extended(_ random: inout TestRandom, rawBits: Bool = true) -> X87Register {
        switch random.below(8) {
        case 3 where !rawBits: return random.pick(specials)
        case 0, 1, 2: return random.pick(specials)
        case 3: return ext(UInt16(truncatingIfNeeded: random.next()), random.next())
        case 4: // integers of various sizes
            let exponent = 0x3FFF + UInt16(random.below(66))
            let bits = random.next() | 0x8000_0000_0000_0000
            return ext(exponent | (random.below(2) == 0 ? 0 : 0x8000), bits)
        default:
            let exponent = UInt16(0x3FFF - 80 + random.below(160))
            return ext(exponent | (random.below(2) == 0 ? 0 : 0x8000), random.next() | 0x8000_0000_0000_0000)
        }
    }

    static let float32Specials: [UInt32] = [
        0, 0x8000_0000, 0x3F80_0000, 0xBF80_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0xFFC0_0000,
        0x7F80_0001, 0x7FA0_0000, 0x0000_0001, 0x807F_FFFF, 0x0080_0000, 0x7F7F_FFFF, 0x4049_0FDB, 0x4B00_0001,
    ]

    static func float32(_ random: inout TestRandom) -> UInt32 {
        random.below(3) == 0 ? random.pick(float32Specials) : UInt32(truncatingIfNeeded: random.next())
    }

    static let float64Specials: [UInt64] = [
        0, 0x8000_0000_0000_0000, 0x3FF0_0000_0000_0000, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000,
        0x7FF8_0000_0000_0000, 0x7FF0_0000_0000_0001, 0xFFF4_0000_0000_0000, 0x0000_0000_0000_0001,
        0x800F_FFFF_FFFF_FFFF, 0x0010_0000_0000_0000, 0x7FEF_FFFF_FFFF_FFFF, 0x4009_21FB_5444_2D18,
    ]

    static func float64(_ random: inout TestRandom) -> UInt64 {
        random.below(3) == 0 ? random.pick(float64Specials) : random.next()
    }

    /// A random integer of `width` bits, often an edge value.
    static func integer(_ random: inout TestRandom, width: Int) -> UInt64 {
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        let edges: [UInt64] = [0, 1, mask, mask >> 1, (mask >> 1) + 1, 7, mask - 6]
        let value = random.below(3) == 0 ? random.pick(edges) : random.next() >> UInt64(random.below(64))
        return value & mask
    }

    /// Packed BCD: 18 digits and a sign byte; now and then an invalid digit.
    static func bcd(_ random: inout TestRandom) -> [UInt8] {
        var out = [UInt8]()
        let digits = random.below(19)
        for i in 0..<9 {
            let low = 2 * i < digits ? UInt8(random.below(10)) : 0
            let high = 2 * i + 1 < digits ? UInt8(random.below(10)) : 0
            out.append(high << 4 | low)
        }
        if random.below(10) == 0 { out[random.below(9)] |= 0xA0 }
        out.append(random.below(2) == 0 ? 0 : 0x80)
        return out
    }

    /// All control words: RC 0-3 x PC 0-3 (1 is reserved), exceptions masked.
    static let maskedControlWords: [UInt16] = (0..<16).map { 0x037F & ~0x0F00 | UInt16($0) << 8 }
}

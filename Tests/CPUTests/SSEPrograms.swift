import Foundation

/// SSE test programs: one instruction form run over a set of operand pairs
/// under a set of MXCSR values, each result and the MXCSR after it stored in
/// the data area, so the same program run natively and in the guest can be
/// compared byte for byte (see `X87Programs` for how both are run).
///
/// Data layout (offsets from the data pointer): MXCSR values at 40h, operand
/// pairs at 100h (A at 100h + 20h p, B 10h after it), results at 800h, 20h
/// bytes per case: the XMM0 result (or EAX, or the flags), then MXCSR.
enum SSEPrograms {
    static let modesOffset = 0x40
    static let pairsOffset = 0x100
    static let resultsOffset = 0x800

    /// How the instruction is written.
    enum Template {
        /// `op xmm0, xmm1` / `op xmm0, [B]`.
        case xmm(String)
        /// `op eax, xmm1` / `op eax, SIZE [B]` (CVTTSS2SI, MOVMSKPS, PEXTRW...).
        case toGeneral(String, memorySize: String?)
        /// `op xmm0, eax` / `op xmm0, SIZE [B]` with EAX the low dword of B (CVTSI2SS, MOVD, PINSRW).
        case fromGeneral(String, memorySize: String?)
        /// `op xmm0, xmm1` / `op xmm0, [B]` with the flags stored (COMISS...).
        case flags(String)
        /// `op [B], xmm0` then B stored as the result (stores, register form `op xmm1, xmm0`).
        case store(String)
        /// `op xmm0, imm8` on xmm0 alone.
        case xmmImmediate(String)
        /// `op SRC` on general registers (CRC32, POPCNT): EAX holds A's first
        /// dword and SRC is `register` (ECX, CX or CL) holding B's, or `SIZE [B]`;
        /// EAX and the arithmetic flags are stored.
        case general(String, register: String, memorySize: String)
        /// `op mm0, mm1` / `op mm0, [B]` with MM0 and MM1 loaded from A's and
        /// B's low qwords: MM0 stored (8 bytes), then the x87 status and tag
        /// words, then R0's exponent field (FNSTENV, FNSAVE), then the tag word
        /// after EMMS; the FPU is initialised first.
        case mmx(String)
    }

    /// IEEE single specials: zeros, ones, infinities, quiet and signalling NaNs with
    /// payloads, denormals, the extremes, values near integer conversion limits.
    static let singles: [UInt32] = [
        0x0000_0000, 0x8000_0000, 0x3F80_0000, 0xBFC0_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0x7FA0_0001,
        0xFFC1_2345, 0x0000_0001, 0x807F_FFFF, 0x7F7F_FFFF, 0x0080_0000, 0x4040_0000, 0x3EAA_AAAB, 0x4F00_0000,
        0xCF00_0000, 0x3380_0000, 0x4B00_0001, 0xC2F6_E979, 0x0040_0000, 0x3F00_0001]
    static let doubles: [UInt64] = [
        0, 0x8000_0000_0000_0000, 0x3FF0_0000_0000_0000, 0xBFF8_0000_0000_0000, 0x7FF0_0000_0000_0000,
        0xFFF0_0000_0000_0000, 0x7FF8_0000_0000_0000, 0x7FF4_0000_0000_0001, 0xFFF8_0000_0001_2345, 1,
        0x800F_FFFF_FFFF_FFFF, 0x7FEF_FFFF_FFFF_FFFF, 0x0010_0000_0000_0000, 0x4008_0000_0000_0000,
        0x3FD5_5555_5555_5555, 0x41E0_0000_0000_0000, 0xC1E0_0000_0020_0000, 0x3CA0_0000_0000_0000,
        0x7E37_E43C_8800_759C, 0x0008_0000_0000_0000]

    /// MXCSR values: each rounding mode, without and with DAZ and FTZ, all exceptions masked.
    static let allModes: [UInt32] = (0..<8).map { UInt32(0x1F80) | UInt32($0 & 3) << 13 | ($0 >= 4 ? 0x8040 : 0) }

    /// SplitMix64: the same pseudo-random operands on every run.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Operand pairs (A, B as four dwords each): singles, doubles, random
    /// floats over a wide exponent range (so products and quotients overflow,
    /// underflow and round), and random bits.
    static func pairs(seed: UInt64, count: Int = 6) -> [[UInt32]] {
        var random = Random(state: seed)
        var result: [[UInt32]] = []
        for index in 0..<count {
            var lanes: [UInt32] = []
            switch index % 3 {
            case 0:
                for _ in 0..<8 { lanes.append(singles[Int(random.next() % UInt64(singles.count))]) }
            case 1:
                for _ in 0..<4 {
                    let value = doubles[Int(random.next() % UInt64(doubles.count))]
                    lanes += [UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32)]
                }
            default:
                for lane in 0..<8 {
                    let bits = random.next()
                    if lane % 2 == 0 && bits & 1 == 0 {
                        lanes.append(UInt32(truncatingIfNeeded: bits >> 8))  // random bits
                    } else {
                        // A float with an exponent near the middle, +-70 (or a double's high half).
                        let exponent = UInt32(127 - 70 + Int(bits >> 40 % 141) % 141)
                        lanes.append(UInt32(truncatingIfNeeded: bits) & 0x807F_FFFF | exponent << 23)
                    }
                }
            }
            result.append(lanes)
        }
        return result
    }

    /// Odd pairs use the memory form when `memoryForms`; every pair does when `memoryOnly`.
    static func body(_ template: Template, pairs: [[UInt32]], modes: [UInt32], memoryForms: Bool = true,
                     memoryOnly: Bool = false) -> String {
        var lines: [String] = []
        for (index, mode) in modes.enumerated() {
            lines.append("mov dword [D(0x\(String(modesOffset + 4 * index, radix: 16)))], 0x\(String(mode, radix: 16))")
        }
        for (p, lanes) in pairs.enumerated() {
            for (lane, value) in lanes.enumerated() {
                lines.append("mov dword [D(0x\(String(pairsOffset + 32 * p + 4 * lane, radix: 16)))], 0x\(String(value, radix: 16))")
            }
        }
        for m in 0..<modes.count {
            for p in 0..<pairs.count {
                let a = "D(0x\(String(pairsOffset + 32 * p, radix: 16)))"
                let bAddress = "D(0x\(String(pairsOffset + 32 * p + 16, radix: 16)))"
                let out = resultsOffset + 32 * (m * pairs.count + p)
                let outAddress = "D(0x\(String(out, radix: 16)))"
                let memory = memoryOnly || (memoryForms && p % 2 == 1)
                lines.append("ldmxcsr [D(0x\(String(modesOffset + 4 * m, radix: 16)))]")
                lines.append("movups xmm0, [\(a)]")
                lines.append("movups xmm1, [\(bAddress)]")
                lines.append("xor eax, eax")
                switch template {
                case let .xmm(op):
                    lines.append(memory ? "\(op.replacingOccurrences(of: "SRC", with: "[\(bAddress)]"))"
                                        : "\(op.replacingOccurrences(of: "SRC", with: "xmm1"))")
                    lines.append("movups [\(outAddress)], xmm0")
                case let .toGeneral(op, size):
                    if memory, let size {
                        lines.append(op.replacingOccurrences(of: "SRC", with: "\(size) [\(bAddress)]"))
                    } else {
                        lines.append(op.replacingOccurrences(of: "SRC", with: "xmm1"))
                    }
                    lines.append("mov [\(outAddress)], eax")
                case let .fromGeneral(op, size):
                    if memory, let size {
                        lines.append(op.replacingOccurrences(of: "SRC", with: "\(size) [\(bAddress)]"))
                    } else {
                        lines.append("mov eax, [\(bAddress)]")
                        lines.append(op.replacingOccurrences(of: "SRC", with: "eax"))
                    }
                    lines.append("movups [\(outAddress)], xmm0")
                case let .flags(op):
                    lines.append(op.replacingOccurrences(of: "SRC", with: memory ? "[\(bAddress)]" : "xmm1"))
                    lines.append("lahf")
                    lines.append("seto al")
                    lines.append("mov [\(outAddress)], ax")
                case let .store(op):
                    if memory {
                        lines.append(op.replacingOccurrences(of: "DST", with: "[\(bAddress)]"))
                        lines.append("movups xmm1, [\(bAddress)]")
                    } else {
                        lines.append(op.replacingOccurrences(of: "DST", with: "xmm1"))
                    }
                    lines.append("movups [\(outAddress)], xmm1")
                case let .xmmImmediate(op):
                    lines.append(op)
                    lines.append("movups [\(outAddress)], xmm0")
                case let .mmx(op):
                    // Past the results, so the pointers they hold (which differ) are not compared.
                    let scratch = "D(0x900)", image = "D(0xA00)"
                    lines.append("fninit")
                    lines.append("movq mm0, [\(a)]")
                    lines.append("movq mm1, [\(bAddress)]")
                    lines.append(op.replacingOccurrences(of: "SRC", with: memory ? "[\(bAddress)]" : "mm1"))
                    lines.append("movq [\(outAddress)], mm0")
                    lines.append("o32 fnstenv [\(scratch)]")
                    lines.append("mov eax, [\(scratch)+4]")
                    lines.append("mov [D(0x\(String(out + 8, radix: 16)))], ax")
                    lines.append("mov eax, [\(scratch)+8]")
                    lines.append("mov [D(0x\(String(out + 10, radix: 16)))], ax")
                    lines.append("o32 fnsave [\(image)]")
                    lines.append("mov ax, [\(image)+36]")
                    lines.append("mov [D(0x\(String(out + 12, radix: 16)))], ax")
                    lines.append("o32 frstor [\(image)]")
                    lines.append("emms")
                    lines.append("o32 fnstenv [\(scratch)]")
                    lines.append("mov eax, [\(scratch)+8]")
                    lines.append("mov [D(0x\(String(out + 14, radix: 16)))], ax")
                case let .general(op, register, size):
                    lines.append("mov eax, [\(a)]")
                    lines.append("mov ecx, [\(bAddress)]")
                    lines.append(op.replacingOccurrences(of: "SRC", with: memory ? "\(size) [\(bAddress)]" : register))
                    lines.append("pushfd")
                    lines.append("pop edx")
                    lines.append("and edx, 0x8d5")
                    lines.append("mov [\(outAddress)], eax")
                    lines.append("mov [D(0x\(String(out + 4, radix: 16)))], edx")
                }
                lines.append("stmxcsr [D(0x\(String(out + 16, radix: 16)))]")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func resultBytes(pairs: Int, modes: Int) -> Int { resultsOffset + 32 * pairs * modes }
}

import IR
@testable import CPURuntime
import X86Frontend
import X86State

/// A fixed set of one-instruction blocks covering every opcode of the one-
/// and two-byte maps, each ModRM reg with a register and two memory forms,
/// under several prefixes, translated in several CPU modes.
enum TranslationCorpus {
    /// Code bytes at linear 0x1000; nothing elsewhere.
    struct Code: GuestCodeReader {
        var bytes: [UInt8]
        func readCode(linear: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
            let start = Int(linear) - 0x1000
            guard start >= 0, start < bytes.count else { return 0 }
            let count = min(buffer.count, bytes.count - start)
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<start + count])) }
            return count
        }
    }

    /// The modes: real mode, 32-bit flat ring 0, 16-bit ring 3 with checked
    /// segments and IOPL checks, virtual-8086, 32-bit ring 3 with x87 on the host.
    static let modes: [(name: String, flags: HiddenFlags)] = [
        ("real", []),
        ("pm32", [.protectedMode, .code32, .stack32]),
        ("pm16r3", [.protectedMode, .segmentBases, .ioPrivilegeCheck, .checkedSegment(.ds), .checkedSegment(.fs),
                    HiddenFlags(rawValue: 3)]),
        ("v86", [.protectedMode, .virtual8086, .segmentBases, .ioPrivilegeCheck, HiddenFlags(rawValue: 3)]),
        ("pm32host", [.protectedMode, .code32, .stack32, .x87OnHost, .paging, HiddenFlags(rawValue: 3)]),
        ("nofpu", [.protectedMode, .code32, .stack32, .fpuUnavailable]),
    ]

    /// Every valid instruction of the corpus for code of the given size, its
    /// bytes cut to its length, without repeats.
    static func instructions(code32: Bool) -> [[UInt8]] {
        let prefixBytes: Set<UInt8> = [0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x0F]
        var opcodes: [[UInt8]] = (0...255).filter { !prefixBytes.contains(UInt8($0)) }.map { [UInt8($0)] }
        opcodes += (0...255).map { [0x0F, UInt8($0)] }
        let prefixes: [[UInt8]] = [[], [0x66], [0xF3], [0xF2], [0xF0], [0x26], [0x67]]
        var modrms: [[UInt8]] = []
        for reg in 0..<8 {
            let r = UInt8(reg << 3)
            modrms += [[0xC0 | r | 1], [0xC0 | r | 4], [r | 3], [0x44 | r, 0x24], [0x80 | r | 6]]
        }
        let tail: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x11]
        var seen = Set<[UInt8]>()
        var result: [[UInt8]] = []
        for prefix in prefixes {
            for opcode in opcodes {
                for modrm in modrms {
                    let bytes = prefix + opcode + modrm + tail
                    guard case let .instruction(decoded) = decode(bytes, codeSize32: code32) else { continue }
                    let cut = Array(bytes[0..<Int(decoded.length)])
                    if seen.insert(cut).inserted { result.append(cut) }
                }
            }
        }
        return result
    }

    static func translator() -> X86Translator {
        let helpers = HelperTable()
        X86Helpers.register(into: helpers)
        return X86Translator(helpers: helpers)
    }
}

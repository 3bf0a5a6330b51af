import Foundation
import XCTest

/// Runs GNU objdump over many instructions at once and reports, for each one,
/// what objdump made of it. Each test case sits at the start of its own 32-byte
/// slot padded with NOPs: any instruction starting in the first 15 bytes ends
/// before byte 31, so objdump is back in step at every slot start however it
/// decoded the case.
struct ObjdumpOracle {
    static let slotSize = 32

    struct Verdict {
        /// Bytes objdump took for the instruction at the slot start.
        var length: Int
        /// objdump's text (mnemonic and operands), e.g. "add eax,0x1" or "(bad)".
        var text: String

        /// objdump rejected the opcode, or an operand (a register form of a
        /// memory-only instruction and the like); its length then means nothing.
        var isBad: Bool { text.contains("(bad)") }

        static let prefixNames: Set<Substring> = ["es", "cs", "ss", "ds", "fs", "gs", "data16", "data32",
                                                  "addr16", "addr32", "lock", "repz", "repnz", "rep", "repe", "repne",
                                                  "bnd", "notrack", "xacquire", "xrelease"]

        /// objdump printed only prefixes (it does so when it gives up on a long prefix run).
        var isPrefixesOnly: Bool {
            let words = text.split(separator: " ")
            return !words.isEmpty && words.allSatisfy { Self.prefixNames.contains($0) }
        }
    }

    let executable: String

    /// Finds objdump on PATH; nil if binutils is not installed.
    static func find() -> ObjdumpOracle? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/bin"] {
            let candidate = "\(directory)/objdump"
            if FileManager.default.isExecutableFile(atPath: candidate) { return ObjdumpOracle(executable: candidate) }
        }
        return nil
    }

    /// objdump's verdict on each case (at most 15 bytes each), in order.
    func verdicts(for cases: [[UInt8]], codeSize32: Bool) throws -> [Verdict] {
        try verdicts(for: cases, machine: codeSize32 ? "i386" : "i8086", tag: "\(codeSize32)")
    }

    /// objdump's verdict on each case decoded as 64-bit code.
    func verdicts64(for cases: [[UInt8]]) throws -> [Verdict] {
        try verdicts(for: cases, machine: "i386:x86-64", tag: "64")
    }

    private func verdicts(for cases: [[UInt8]], machine: String, tag: String) throws -> [Verdict] {
        var image = [UInt8](repeating: 0x90, count: cases.count * Self.slotSize)
        for (i, bytes) in cases.enumerated() {
            precondition(bytes.count <= 15)
            image.replaceSubrange(i * Self.slotSize ..< i * Self.slotSize + bytes.count, with: bytes)
        }
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("x86-oracle-\(ProcessInfo.processInfo.processIdentifier)-\(tag).bin")
        try Data(image).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-D", "-b", "binary", "-m", machine, "-M", "intel",
                             "--insn-width=16", file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "objdump", code: Int(process.terminationStatus))
        }
        return parse(output, slots: cases.count)
    }

    /// Picks the lines "   addr:\tb1 b2 ...\ttext" whose address is a slot start.
    private func parse(_ output: Data, slots: Int) -> [Verdict] {
        var verdicts = [Verdict?](repeating: nil, count: slots)
        let text = String(decoding: output, as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count >= 2, fields[0].hasSuffix(":"),
                  let address = Int(fields[0].dropLast().trimmingCharacters(in: .whitespaces), radix: 16),
                  address % Self.slotSize == 0, address / Self.slotSize < slots else { continue }
            let length = fields[1].split(separator: " ").count
            let body = fields.count > 2 ? fields[2].split(separator: " ", omittingEmptySubsequences: true)
                .joined(separator: " ") : ""
            verdicts[address / Self.slotSize] = Verdict(length: length, text: body)
        }
        return verdicts.map { $0 ?? Verdict(length: 0, text: "(missing)") }
    }
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct TestRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 32) }
    mutating func below(_ n: Int) -> Int { Int(next() >> 33) % n }
}

/// Instruction-like byte sequences covering the whole one- and two-byte maps:
/// case i uses opcode i mod 512 (0x0F-prefixed from 256 on), with random
/// prefixes, ModRM, SIB, displacement and immediate bytes, 15 bytes in all.
enum OracleCases {
    static let prefixBytes: [UInt8] = [0x66, 0x67, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0xF0, 0xF2, 0xF3]

    static func generate(count: Int, seed: UInt64) -> [[UInt8]] {
        var random = TestRandom(seed: seed)
        var cases: [[UInt8]] = []
        cases.reserveCapacity(count)
        for i in 0..<count {
            var bytes: [UInt8] = []
            // Mostly no or few prefixes; now and then a long run to reach the 15-byte limit.
            let roll = random.below(100)
            let prefixCount = roll < 45 ? 0 : roll < 75 ? 1 : roll < 92 ? 2 : roll < 97 ? 3 : 10 + random.below(5)
            for _ in 0..<prefixCount {
                // LOCK and F2/F3 less often, so that most cases stay valid.
                var p = prefixBytes[random.below(prefixBytes.count)]
                if p == 0xF0 && random.below(3) != 0 { p = 0x66 }
                bytes.append(p)
            }
            let opcode = i % 512
            if opcode >= 256 { bytes.append(0x0F) }
            bytes.append(UInt8(opcode & 0xFF))
            // ModRM: a quarter register forms, the rest spread over mod 0-2 and all rm.
            let modrm = random.byte()
            bytes.append(random.below(4) == 0 ? modrm | 0xC0 : modrm)
            while bytes.count < 15 { bytes.append(random.byte()) }
            bytes.removeLast(bytes.count - 15)
            cases.append(bytes)
        }
        return cases
    }

    /// Every two-byte opcode with each SIMD-selecting prefix (none, 66, F3, F2),
    /// `perVariant` times with random ModRM (half of them register forms).
    static func twoByteVariants(perVariant: Int, seed: UInt64) -> [[UInt8]] {
        var random = TestRandom(seed: seed)
        var cases: [[UInt8]] = []
        for opcode in 0..<256 {
            for prefix in [nil, 0x66, 0xF3, 0xF2] as [UInt8?] {
                for k in 0..<perVariant {
                    var bytes: [UInt8] = prefix.map { [$0] } ?? []
                    bytes += [0x0F, UInt8(opcode)]
                    let modrm = random.byte()
                    bytes.append(k % 2 == 0 ? modrm | 0xC0 : modrm & 0xBF)
                    while bytes.count < 15 { bytes.append(random.byte()) }
                    cases.append(bytes)
                }
            }
        }
        return cases
    }
}

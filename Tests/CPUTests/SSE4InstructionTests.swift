@testable import CPURuntime
import Foundation
import X86State
import XCTest

/// SSE3, SSSE3, SSE4.1, SSE4.2 and POPCNT through the translator on the
/// host's SSE unit, on the JIT and the interpreter, each form compared with
/// the same program run natively (`assertMatchesHost`): floating-point forms
/// under every rounding mode with and without DAZ and FTZ, the others under
/// the default MXCSR; register and memory forms.
final class SSE4InstructionTests: XCTestCase {
    private let defaultMode: [UInt32] = [0x1F80]

    func testSSE3MatchesTheHost() throws {
        for (index, op) in ["addsubps", "addsubpd", "haddps", "haddpd", "hsubps", "hsubpd"].enumerated() {
            try assertMatchesHost(.xmm("\(op) xmm0, SRC"), seed: UInt64(1000 + index))
        }
        for (index, op) in ["movsldup", "movshdup", "movddup"].enumerated() {
            try assertMatchesHost(.xmm("\(op) xmm0, SRC"), seed: UInt64(1010 + index), modes: defaultMode)
        }
        try assertMatchesHost(.xmm("lddqu xmm0, SRC"), seed: 1020, modes: defaultMode, memoryOnly: true)
    }

    func testSSSE3MatchesTheHost() throws {
        let ops = ["pshufb", "phaddw", "phaddd", "phaddsw", "pmaddubsw", "phsubw", "phsubd", "phsubsw", "psignb",
                   "psignw", "psignd", "pmulhrsw", "pabsb", "pabsw", "pabsd"]
        for (index, op) in ops.enumerated() {
            try assertMatchesHost(.xmm("\(op) xmm0, SRC"), seed: UInt64(1100 + index), modes: defaultMode)
        }
        for (index, shift) in [0, 3, 8, 15, 16, 21, 31, 32, 200].enumerated() {
            try assertMatchesHost(.xmm("palignr xmm0, SRC, \(shift)"), seed: UInt64(1120 + index), modes: defaultMode)
        }
    }

    func testSSE41IntegerFormsMatchTheHost() throws {
        let ops = ["pmuldq", "pcmpeqq", "packusdw", "pminsb", "pminsd", "pminuw", "pminud", "pmaxsb", "pmaxsd",
                   "pmaxuw", "pmaxud", "pmulld", "phminposuw"]
        for (index, op) in ops.enumerated() {
            try assertMatchesHost(.xmm("\(op) xmm0, SRC"), seed: UInt64(1200 + index), modes: defaultMode)
        }
        // The widening moves read 8, 4 or 2 bytes from memory.
        for (index, op) in ["bw", "bd", "bq", "wd", "wq", "dq"].enumerated() {
            try assertMatchesHost(.xmm("pmovsx\(op) xmm0, SRC"), seed: UInt64(1220 + index), modes: defaultMode)
            try assertMatchesHost(.xmm("pmovzx\(op) xmm0, SRC"), seed: UInt64(1230 + index), modes: defaultMode)
        }
        for (index, op) in ["blendps xmm0, SRC, 0x5", "blendpd xmm0, SRC, 0x2", "pblendw xmm0, SRC, 0xa6",
                            "mpsadbw xmm0, SRC, 0", "mpsadbw xmm0, SRC, 5", "mpsadbw xmm0, SRC, 7",
                            "insertps xmm0, SRC, 0x00", "insertps xmm0, SRC, 0x9c", "insertps xmm0, SRC, 0xe5"].enumerated() {
            try assertMatchesHost(.xmm(op), seed: UInt64(1240 + index), modes: defaultMode)
        }
        // The variable blends take their mask from XMM0: the destination another register, then XMM0 itself.
        for (index, op) in ["blendvps", "blendvpd", "pblendvb"].enumerated() {
            try assertMatchesHost(.xmm("pshufd xmm2, xmm0, 0x1b\n\(op) xmm2, SRC\nmovaps xmm0, xmm2"),
                                  seed: UInt64(1260 + index), modes: defaultMode)
            try assertMatchesHost(.xmm("\(op) xmm0, SRC"), seed: UInt64(1270 + index), modes: defaultMode)
        }
        try assertMatchesHost(.xmm("movntdqa xmm0, SRC"), seed: 1280, modes: defaultMode, memoryOnly: true)
        try assertMatchesHost(.flags("ptest xmm0, SRC"), seed: 1281, modes: defaultMode)
        try assertMatchesHost(.flags("pand xmm0, xmm1\nptest xmm0, SRC"), seed: 1282, modes: defaultMode)
    }

    func testSSE41FloatingPointFormsMatchTheHost() throws {
        for (index, mode) in [0, 1, 2, 3, 4, 8, 9, 0xB, 0xC].enumerated() {
            for (offset, op) in ["roundps", "roundpd", "roundss", "roundsd"].enumerated() {
                try assertMatchesHost(.xmm("\(op) xmm0, SRC, \(mode)"), seed: UInt64(1300 + 4 * index + offset))
            }
        }
        for (index, mask) in [0xFF, 0x31, 0xA5, 0x1E, 0xF2].enumerated() {
            try assertMatchesHost(.xmm("dpps xmm0, SRC, \(mask)"), seed: UInt64(1350 + index))
            try assertMatchesHost(.xmm("dppd xmm0, SRC, \(mask)"), seed: UInt64(1360 + index))
        }
    }

    func testSSE41ExtractsAndInsertsMatchTheHost() throws {
        for (index, op) in ["pextrb eax, SRC, 13", "pextrw eax, SRC, 5", "pextrd eax, SRC, 2", "extractps eax, SRC, 3"]
            .enumerated() {
            try assertMatchesHost(.toGeneral(op, memorySize: nil), seed: UInt64(1400 + index), modes: defaultMode)
        }
        for (index, op) in ["pextrb byte DST, xmm0, 9", "pextrw word DST, xmm0, 7", "pextrd dword DST, xmm0, 1",
                            "extractps dword DST, xmm0, 2"].enumerated() {
            try assertMatchesHost(.store(op), seed: UInt64(1410 + index), modes: [0x1F80, 0x1F80], memoryOnly: true)
        }
        try assertMatchesHost(.fromGeneral("pinsrb xmm0, SRC, 11", memorySize: "byte"), seed: 1420, modes: defaultMode)
        try assertMatchesHost(.fromGeneral("pinsrd xmm0, SRC, 3", memorySize: "dword"), seed: 1421, modes: defaultMode)
    }

    func testSSE42MatchesTheHost() throws {
        try assertMatchesHost(.xmm("pcmpgtq xmm0, SRC"), seed: 1500, modes: defaultMode)
        // ECX and the flags (CF ZF SF OF; AF and PF clear) of each aggregation, polarity and element size.
        let controls = [0x00, 0x01, 0x04, 0x08, 0x0C, 0x0D, 0x14, 0x18, 0x1A, 0x30, 0x38, 0x40, 0x42, 0x4C, 0x70, 0x7B]
        let flagsAndECX = "\npushfd\npop eax\nand eax, 0x8d5\nshl eax, 16\nor eax, ecx"
        for (index, control) in controls.enumerated() {
            try assertMatchesHost(.toGeneral("pcmpistri xmm0, SRC, \(control)" + flagsAndECX, memorySize: "oword"),
                                  seed: UInt64(1510 + index), modes: defaultMode)
            // Explicit lengths in and out of range, negative ones included.
            let (eax, edx) = [(5, 9), (16, 3), (-3, 20), (0, 7), (12, 0), (100, -100)][index % 6]
            try assertMatchesHost(.toGeneral("mov eax, \(eax)\nmov edx, \(edx)\npcmpestri xmm0, SRC, \(control)" + flagsAndECX,
                                             memorySize: "oword"), seed: UInt64(1530 + index), modes: defaultMode)
        }
        for (index, control) in [0x00, 0x08, 0x40, 0x44, 0x49, 0x6C].enumerated() {
            try assertMatchesHost(.xmm("movaps xmm2, xmm0\npcmpistrm xmm2, SRC, \(control)"), seed: UInt64(1550 + index),
                                  modes: defaultMode)
            try assertMatchesHost(.xmm("mov eax, 7\nmov edx, -11\npcmpestrm xmm0, SRC, \(control)"), seed: UInt64(1560 + index),
                                  modes: defaultMode)
        }
    }

    func testCRC32AndPOPCNTMatchTheHost() throws {
        try assertMatchesHost(.general("crc32 eax, SRC", register: "cl", memorySize: "byte"), seed: 1600, modes: defaultMode)
        try assertMatchesHost(.general("crc32 eax, SRC", register: "ch", memorySize: "byte"), seed: 1601, modes: defaultMode,
                              memoryForms: false)
        try assertMatchesHost(.general("crc32 eax, SRC", register: "cx", memorySize: "word"), seed: 1602, modes: defaultMode)
        try assertMatchesHost(.general("crc32 eax, SRC", register: "ecx", memorySize: "dword"), seed: 1603, modes: defaultMode)
        try assertMatchesHost(.general("popcnt eax, SRC", register: "ecx", memorySize: "dword"), seed: 1604, modes: defaultMode)
        try assertMatchesHost(.general("popcnt ax, SRC", register: "cx", memorySize: "word"), seed: 1605, modes: defaultMode)
        // A zero source: ZF.
        try assertMatchesHost(.general("xor ecx, ecx\npopcnt eax, SRC", register: "ecx", memorySize: "dword"), seed: 1606,
                              modes: defaultMode, memoryForms: false)
    }

    /// FISTTP (SSE3's x87 addition) m16, m32 and m64: truncation whatever
    /// the rounding control, the integer indefinite on overflow and NaN, the
    /// status word after each; on the guest (through the x87 helper) and the host.
    func testFISTTPMatchesTheHost() throws {
        var body = "fninit\n"
        var offset = 0
        let values = ["2.5", "-2.5", "-0.75", "32767.9", "-32768.9", "2147483648.5", "1.0e19", "-9.3e18"]
        for rounding in 0..<4 {
            for value in values {
                body += """
                    mov word [D(0x700)], 0x\(String(0x37F | rounding << 10, radix: 16))
                    fldcw [D(0x700)]
                    setdouble 0x708, \(value)
                    fld qword [D(0x708)]
                    fld st0
                    fld st0
                    fisttp word [D(0x\(String(offset, radix: 16)))]
                    fisttp dword [D(0x\(String(offset + 2, radix: 16)))]
                    fisttp qword [D(0x\(String(offset + 6, radix: 16)))]
                    fnstsw [D(0x\(String(offset + 14, radix: 16)))]
                    fnclex

                """
                offset += 16
            }
        }
        body += "fldz\nfsqrt\nfchs\nfld1\nfchs\nfsqrt\nfisttp dword [D(0x\(String(offset, radix: 16)))]\n"
        body += "fnstsw [D(0x\(String(offset + 4, radix: 16)))]\n"
        offset += 6
        let expected = try X87Programs.hostResult(body, bytes: offset)
        for backend in [X86CPU.Backend.jit, .interpreter] {
            let machine = try SSETestMachine(backend: backend)
            machine.load(try X87Programs.assemble(body, guest: true))
            machine.run()
            XCTAssertNil(machine.handledVector, "\(backend)")
            XCTAssertEqual(machine.data(0, offset), expected, "\(backend)")
        }
    }
}

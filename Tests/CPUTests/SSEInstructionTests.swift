@testable import CPURuntime
import Foundation
import X86State
import XCTest

/// SSE and SSE2 instructions run through the translator on the host's SSE
/// unit (`hostSIMD`), on the JIT and on the interpreter: each form over
/// special and random operands (zeros, infinities, quiet and signalling
/// NaNs, denormals, extremes) under every rounding mode, with and without
/// DAZ and FTZ, register and memory forms, the result and MXCSR after each
/// compared byte for byte with the same program run natively by the host
/// CPU (`X87Programs`' gcc -m32 harness).
final class SSEInstructionTests: XCTestCase {
    func testPackedAndScalarArithmeticMatchesTheHost() throws {
        let ops = ["addps", "addss", "addpd", "addsd", "subps", "subss", "subpd", "subsd", "mulps", "mulss", "mulpd",
                   "mulsd", "divps", "divss", "divpd", "divsd", "minps", "minss", "minpd", "minsd", "maxps", "maxss",
                   "maxpd", "maxsd", "sqrtps", "sqrtss", "sqrtpd", "sqrtsd", "rcpps", "rcpss", "rsqrtps", "rsqrtss"]
        for (index, op) in ops.enumerated() {
            try assertMatchesHost(.xmm("\(op) xmm0, SRC"), seed: UInt64(index + 1))
        }
    }

    func testComparesMatchTheHost() throws {
        for predicate in 0..<8 {
            for op in ["cmpps", "cmpss", "cmppd", "cmpsd"] {
                try assertMatchesHost(.xmm("\(op) xmm0, SRC, \(predicate)"), seed: UInt64(100 + predicate),
                                      modes: [0x1F80, 0x9FC0])
            }
        }
        for op in ["comiss", "ucomiss", "comisd", "ucomisd"] {
            try assertMatchesHost(.flags("\(op) xmm0, SRC"), seed: 120, modes: [0x1F80, 0x9FC0])
        }
    }

    func testConversionsMatchTheHost() throws {
        let ops = ["cvtps2pd", "cvtpd2ps", "cvtss2sd", "cvtsd2ss", "cvtdq2ps", "cvtps2dq", "cvttps2dq",
                   "cvttpd2dq", "cvtpd2dq", "cvtdq2pd"]
        for (index, op) in ops.enumerated() {
            try assertMatchesHost(.xmm("\(op) xmm0, SRC"), seed: UInt64(200 + index))
        }
        for (index, (op, size)) in [("cvttss2si", "dword"), ("cvtss2si", "dword"), ("cvttsd2si", "qword"),
                                    ("cvtsd2si", "qword")].enumerated() {
            try assertMatchesHost(.toGeneral("\(op) eax, SRC", memorySize: size), seed: UInt64(220 + index))
        }
        try assertMatchesHost(.fromGeneral("cvtsi2ss xmm0, SRC", memorySize: "dword"), seed: 230)
        try assertMatchesHost(.fromGeneral("cvtsi2sd xmm0, SRC", memorySize: "dword"), seed: 231)
    }

    func testIntegerLogicAndShufflesMatchTheHost() throws {
        let ops = ["paddb", "paddw", "paddd", "paddq", "psubb", "psubw", "psubd", "psubq", "paddsb", "paddsw",
                   "paddusb", "paddusw", "psubsb", "psubsw", "psubusb", "psubusw", "pmullw", "pmulhw", "pmulhuw",
                   "pmuludq", "pmaddwd", "pavgb", "pavgw", "pminub", "pmaxub", "pminsw", "pmaxsw", "psadbw",
                   "pand", "pandn", "por", "pxor", "pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd",
                   "packsswb", "packssdw", "packuswb", "punpcklbw", "punpcklwd", "punpckldq", "punpcklqdq",
                   "punpckhbw", "punpckhwd", "punpckhdq", "punpckhqdq", "psllw", "pslld", "psllq", "psrlw", "psrld",
                   "psrlq", "psraw", "psrad", "andps", "andnps", "orps", "xorps", "andpd", "andnpd", "orpd", "xorpd",
                   "unpcklps", "unpckhps", "unpcklpd", "unpckhpd", "movaps", "movapd", "movups", "movupd", "movdqa",
                   "movdqu", "movss", "movsd", "movq", "movlps", "movhps", "movlpd", "movhpd",
                   "pshufd xmm0, SRC, 0x1b ;", "pshufhw xmm0, SRC, 0x93 ;", "pshuflw xmm0, SRC, 0x4e ;",
                   "shufps xmm0, SRC, 0x72 ;", "shufpd xmm0, SRC, 1 ;"]
        for (index, op) in ops.enumerated() {
            let text = op.hasSuffix(";") ? op : "\(op) xmm0, SRC"
            // MOVLPS/MOVHPS/MOVLPD/MOVHPD have only memory forms here (their register forms are MOVHLPS/MOVLHPS).
            let memoryOnly = ["movlps", "movhps", "movlpd", "movhpd"].contains(op)
            try assertMatchesHost(.xmm(memoryOnly ? "\(op) xmm0, qword SRC" : text), seed: UInt64(300 + index),
                                  modes: [0x1F80], memoryOnly: memoryOnly)
        }
        try assertMatchesHost(.xmm("movhlps xmm0, xmm1 ;SRC"), seed: 400, modes: [0x1F80])
        try assertMatchesHost(.xmm("movlhps xmm0, xmm1 ;SRC"), seed: 401, modes: [0x1F80])
        for (index, op) in ["psllw xmm0, 3", "psrlw xmm0, 17", "psraw xmm0, 9", "pslld xmm0, 31", "psrld xmm0, 7",
                            "psrad xmm0, 40", "psllq xmm0, 13", "psrlq xmm0, 63", "pslldq xmm0, 5", "psrldq xmm0, 9"]
            .enumerated() {
            try assertMatchesHost(.xmmImmediate(op), seed: UInt64(410 + index), modes: [0x1F80])
        }
    }

    func testGeneralRegisterFormsAndStoresMatchTheHost() throws {
        try assertMatchesHost(.toGeneral("movmskps eax, SRC", memorySize: nil), seed: 500, modes: [0x1F80])
        try assertMatchesHost(.toGeneral("movmskpd eax, SRC", memorySize: nil), seed: 501, modes: [0x1F80])
        try assertMatchesHost(.toGeneral("pmovmskb eax, SRC", memorySize: nil), seed: 502, modes: [0x1F80])
        try assertMatchesHost(.toGeneral("pextrw eax, SRC, 6", memorySize: nil), seed: 503, modes: [0x1F80])
        try assertMatchesHost(.toGeneral("movd eax, xmm1 ;SRC", memorySize: nil), seed: 504, modes: [0x1F80])
        try assertMatchesHost(.fromGeneral("pinsrw xmm0, SRC, 5", memorySize: "word"), seed: 505, modes: [0x1F80])
        try assertMatchesHost(.fromGeneral("movd xmm0, SRC", memorySize: "dword"), seed: 506, modes: [0x1F80])
        for (index, op) in ["movaps DST, xmm0", "movups DST, xmm0", "movapd DST, xmm0", "movupd DST, xmm0",
                            "movdqa DST, xmm0", "movdqu DST, xmm0", "movss DST, xmm0", "movsd DST, xmm0",
                            "movq DST, xmm0"].enumerated() {
            try assertMatchesHost(.store(op), seed: UInt64(510 + index), modes: [0x1F80])
        }
        for (index, op) in ["movlps qword DST, xmm0", "movhps qword DST, xmm0", "movlpd qword DST, xmm0",
                            "movhpd qword DST, xmm0", "movntps DST, xmm0", "movntdq DST, xmm0", "movntpd DST, xmm0",
                            "movd dword DST, xmm0"].enumerated() {
            // Memory-only stores: every pair through memory.
            try assertMatchesHost(.store(op), seed: UInt64(530 + index), modes: [0x1F80, 0x1F80], memoryOnly: true)
        }
    }
}

@testable import CPURuntime
import Foundation
import X86State
import XCTest

/// MMX instructions, the SSE and SSE2 forms naming MMX registers and SSSE3 on
/// MMX registers, through the translator on the host's MMX unit, on the JIT
/// and the interpreter, compared with the same program run natively
/// (`assertMatchesHost`): each result, and what the x87 shows after it (the
/// status word's TOP, the tag word, the written register's exponent field,
/// the tag word after EMMS), register and memory forms.
final class MMXInstructionTests: XCTestCase {
    private let mode: [UInt32] = [0x1F80]

    func testMMXArithmeticLogicPacksAndUnpacksMatchTheHost() throws {
        let ops = ["paddb", "paddw", "paddd", "paddsb", "paddsw", "paddusb", "paddusw", "psubb", "psubw", "psubd",
                   "psubsb", "psubsw", "psubusb", "psubusw", "pmullw", "pmulhw", "pmaddwd", "pand", "pandn", "por",
                   "pxor", "pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd", "packsswb", "packssdw",
                   "packuswb", "punpcklbw", "punpcklwd", "punpckldq", "punpckhbw", "punpckhwd", "punpckhdq",
                   "psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad", "movq"]
        for (index, op) in ops.enumerated() {
            try assertMatchesHost(.mmx("\(op) mm0, SRC"), seed: UInt64(2000 + index), modes: mode)
        }
        for (index, op) in ["psllw mm0, 3", "psrlw mm0, 17", "psraw mm0, 9", "pslld mm0, 31", "psrld mm0, 7",
                            "psrad mm0, 40", "psllq mm0, 13", "psrlq mm0, 63", "psllq mm1, 5\nmovq mm0, mm1"].enumerated() {
            try assertMatchesHost(.mmx(op + " ;SRC"), seed: UInt64(2060 + index), modes: mode, memoryForms: false)
        }
    }

    func testSSEAndSSSE3FormsOnMMXRegistersMatchTheHost() throws {
        let ops = ["pavgb", "pavgw", "pminub", "pmaxub", "pminsw", "pmaxsw", "pmulhuw", "psadbw", "paddq", "psubq",
                   "pmuludq", "pshufb", "phaddw", "phaddd", "phaddsw", "phsubw", "phsubd", "phsubsw", "pmaddubsw",
                   "pmulhrsw", "psignb", "psignw", "psignd", "pabsb", "pabsw", "pabsd",
                   "pshufw mm0, SRC, 0x1b ;", "palignr mm0, SRC, 3 ;", "palignr mm0, SRC, 11 ;"]
        for (index, op) in ops.enumerated() {
            let text = op.hasSuffix(";") ? op : "\(op) mm0, SRC"
            try assertMatchesHost(.mmx(text), seed: UInt64(2100 + index), modes: mode)
        }
    }

    func testMovesBetweenMMXGeneralRegistersAndMemoryMatchTheHost() throws {
        let ops = [
            "movd eax, mm1\nmovd mm0, eax ;SRC", "pmovmskb eax, mm1\nmovd mm0, eax ;SRC",
            "pextrw eax, mm1, 2\nmovd mm0, eax ;SRC", "mov eax, 0x12345678\npinsrw mm0, eax, 1 ;SRC",
            "movq mm2, mm1\nmovq mm0, mm2 ;SRC", "movq mm3, mm0\nmovq mm4, mm3\npaddb mm4, mm1\nmovq mm0, mm4 ;SRC",
        ]
        for (index, op) in ops.enumerated() {
            try assertMatchesHost(.mmx(op), seed: UInt64(2200 + index), modes: mode, memoryForms: false)
        }
        // Memory forms: MOVD both ways, MOVQ and MOVNTQ stores, PINSRW m16.
        let memory = ["movd mm0, dword SRC", "pinsrw mm0, word SRC, 3",
                      "movd [D(0x70)], mm1\nmovd mm0, [D(0x70)] ;SRC", "movq [D(0x70)], mm1\nmovq mm0, [D(0x70)] ;SRC",
                      "movntq [D(0x70)], mm1\nmovq mm0, [D(0x70)] ;SRC"]
        for (index, op) in memory.enumerated() {
            try assertMatchesHost(.mmx(op), seed: UInt64(2210 + index), modes: mode, memoryOnly: true)
        }
    }

    func testEMMSAndX87StateAroundMMXMatchTheHost() throws {
        // An x87 stack before the MMX instruction (TOP moves, tags change), and x87 code after EMMS.
        try assertMatchesHost(.mmx("fld1\nfldpi\nfldz\npaddw mm0, SRC"), seed: 2300, modes: mode)
        try assertMatchesHost(.mmx("fld1\nemms\nfldpi\nfstp qword [D(0x70)]\npor mm0, SRC"), seed: 2301, modes: mode)
        try assertMatchesHost(.mmx("paddb mm0, SRC\nemms\nfld1\nfld1\nfaddp\nfstp qword [D(0x70)]\nmovq mm0, [D(0x70)]"),
                              seed: 2302, modes: mode)
    }

    /// MASKMOVQ and MASKMOVDQU store the bytes the mask's sign bits select at
    /// DS:(E)DI (DI with 16-bit addresses, as the guest's real-mode code has),
    /// the others left as they were (EDI saved around: the native harness's caller keeps it).
    func testMaskedStoresMatchTheHost() throws {
        try assertMatchesHost(.mmx("push edi\nlea edi, [D(0x70)]\nmovq [D(0x70)], mm1\npxor mm2, mm2\nmovq [D(0x78)], mm2\n"
                                   + "maskmovq mm0, mm1\nmovq mm0, [D(0x70)]\nmovq mm1, [D(0x78)]\npor mm0, mm1\npop edi ;SRC"),
                              seed: 2400, modes: mode, memoryForms: false)
        try assertMatchesHost(.xmm("push edi\nlea edi, [D(0x80)]\nmovups [D(0x80)], xmm0\nmaskmovdqu xmm1, xmm0\nmovups xmm0, [D(0x80)]\npop edi ;SRC"),
                              seed: 2401, modes: mode, memoryForms: false)
        try assertMatchesHost(.xmm("push edi\nlea edi, [D(0x91)]\nmov dword [D(0xA0)], 0x5a5a5a5a\nmaskmovdqu xmm0, xmm1\n"
                                   + "movups xmm0, [D(0x91)]\npop edi ;SRC"), seed: 2402, modes: mode, memoryForms: false)
    }

    /// MOVQ2DQ and MOVDQ2Q: the quadword crosses between the register files
    /// (the high quadword of the XMM register zeroed), with MOVDQ2Q's MMX
    /// register written as any MMX write leaves it in the x87.
    func testMovesBetweenMMXAndXMMRegistersMatchTheHost() throws {
        try assertMatchesHost(.mmx("movq2dq xmm2, mm1\nmovdq2q mm0, xmm2 ;SRC"), seed: 2500, modes: mode, memoryForms: false)
        try assertMatchesHost(.xmm("movdq2q mm3, xmm1\nmovq2dq xmm0, mm3\nemms ;SRC"), seed: 2501, modes: mode, memoryForms: false)
    }

    /// CVTPI2PS/PD, CVT(T)PS2PI and CVT(T)PD2PI under every rounding mode
    /// and DAZ/FTZ, register and memory forms, and what they leave in the x87.
    func testConversionsBetweenMMXAndXMMMatchTheHost() throws {
        for (index, op) in ["cvtpi2ps", "cvtpi2pd"].enumerated() {
            try assertMatchesHost(.xmm("movdq2q mm2, xmm1\n\(op) xmm0, mm2\nemms ;SRC"), seed: UInt64(2510 + index), memoryForms: false)
            try assertMatchesHost(.xmm("\(op) xmm0, qword SRC\nemms"), seed: UInt64(2520 + index), memoryOnly: true)
        }
        for (index, op) in ["cvtps2pi", "cvttps2pi", "cvtpd2pi", "cvttpd2pi"].enumerated() {
            try assertMatchesHost(.xmm("\(op) mm2, SRC\nmovq2dq xmm0, mm2\nemms"), seed: UInt64(2530 + index))
        }
        try assertMatchesHost(.mmx("cvtps2pi mm0, SRC"), seed: 2540, modes: mode, memoryOnly: true)
        try assertMatchesHost(.mmx("cvtpi2ps xmm3, mm1\ncvttps2pi mm0, xmm3 ;SRC"), seed: 2541, modes: mode, memoryForms: false)
        try assertMatchesHost(.mmx("cvtpi2pd xmm3, SRC\ncvtpd2pi mm0, xmm3"), seed: 2542, modes: mode)
    }
}

/// What the translator needs to know to run an SSE instruction on the host
/// (one byte, the payload of `Semantics.sse`): which operands are read and
/// written, the memory operand's size and alignment, and whether it is
/// floating point (runs under MXCSR and may raise SIMD exceptions).
///
/// Bits 0-3: `Shape`; 4-6: the memory operand (0: 16 bytes aligned, 1: 16
/// bytes, 2: 8, 3: 4, 4: 2, 5: 1); 7: floating point.
struct SIMDForm: Equatable, Sendable {
    let rawValue: UInt8

    enum Shape: UInt8 {
        /// xmm(reg) = op(xmm(reg), xmm/m(rm)).
        case vw = 0
        /// xmm/m(rm) = xmm(reg): the stores.
        case wv = 1
        /// r32(reg) = op(xmm/m(rm)): MOVMSKPS, PEXTRW, CVTTSS2SI...
        case gw = 2
        /// xmm(reg) = op(xmm(reg), r32/m(rm)): MOVD, CVTSI2SS, PINSRW, PINSRB.
        case ve = 3
        /// r32/m(rm) = op(xmm(reg)): MOVD, PEXTRB/W/D, EXTRACTPS (a register zero-extended).
        case ev = 4
        /// EFLAGS = compare(xmm(reg), xmm/m(rm)): COMISS, UCOMISS, PTEST.
        case flags = 5
        /// xmm(rm) = op(xmm(rm)), the reg field choosing the operation: shifts by an immediate.
        case shiftImmediate = 6
        /// xmm(reg) = op(xmm(reg), xmm/m(rm), XMM0): BLENDVPS/PD, PBLENDVB.
        case blendVariable = 7
        /// ECX and EFLAGS = op(xmm(reg), xmm/m(rm), EAX, EDX): PCMPESTRI, PCMPISTRI.
        case stringIndex = 8
        /// XMM0 and EFLAGS = op(xmm(reg), xmm/m(rm), EAX, EDX): PCMPESTRM, PCMPISTRM.
        case stringMask = 9
        /// r(reg) = op(r(reg), r/m(rm)) in general registers, by the operand
        /// size (the form's memory size is the byte form's): CRC32, POPCNT.
        case general = 10
        /// The bytes of xmm(reg) that xmm(rm)'s byte sign bits select, stored
        /// at DS:(E)DI: MASKMOVDQU, MASKMOVQ.
        case maskedStore = 11
    }

    init(_ shape: Shape, bytes: Int, aligned: Bool = false, floatingPoint: Bool = false) {
        let size: UInt8
        switch bytes {
        case 16: size = aligned ? 0 : 1
        case 8: size = 2
        case 4: size = 3
        case 2: size = 4
        default: size = 5
        }
        rawValue = shape.rawValue | size << 4 | (floatingPoint ? 1 << 7 : 0)
    }

    var shape: Shape { Shape(rawValue: rawValue & 15) ?? .vw }
    private var sizeCode: UInt8 { (rawValue >> 4) & 7 }
    /// Bytes of the memory operand: 16, 8, 4, 2 or 1.
    var memoryBytes: Int { sizeCode <= 1 ? 16 : 16 >> Int(sizeCode - 1) }
    /// A memory operand must be 16-byte aligned (#GP(0) otherwise).
    var isAligned: Bool { sizeCode == 0 }
    var isFloatingPoint: Bool { rawValue & (1 << 7) != 0 }
}

/// The SSE, SSE2 and SSE3 instructions (and POPCNT) of the 0F map: each variant's form, set
/// over the `.simd` entries `TwoByteOpcodeTable` declares.
enum SSETable {
    static func assign(_ t: inout [OpcodeEntry]) {
        func set(_ op: Int, _ none: SIMDForm?, _ p66: SIMDForm?, _ f3: SIMDForm? = nil, _ f2: SIMDForm? = nil) {
            func semantics(_ form: SIMDForm?) -> Semantics { form.map { .sse($0) } ?? .invalidOpcode }
            t[op].simdSemantics = SIMDSemantics(none: semantics(none), p66: semantics(p66),
                                                pF3: semantics(f3), pF2: semantics(f2))
        }
        let packed = SIMDForm(.vw, bytes: 16, aligned: true)
        let unaligned = SIMDForm(.vw, bytes: 16)
        let packedFP = SIMDForm(.vw, bytes: 16, aligned: true, floatingPoint: true)
        let singleFP = SIMDForm(.vw, bytes: 4, floatingPoint: true)
        let doubleFP = SIMDForm(.vw, bytes: 8, floatingPoint: true)
        let low8 = SIMDForm(.vw, bytes: 8)

        set(0x10, unaligned, unaligned, SIMDForm(.vw, bytes: 4), low8)                     // MOVUPS MOVUPD MOVSS MOVSD
        set(0x11, SIMDForm(.wv, bytes: 16), SIMDForm(.wv, bytes: 16), SIMDForm(.wv, bytes: 4), SIMDForm(.wv, bytes: 8))
        set(0x12, low8, low8, packed, low8)                                                // MOVLPS/MOVHLPS, MOVLPD, MOVSLDUP, MOVDDUP
        set(0x13, SIMDForm(.wv, bytes: 8), SIMDForm(.wv, bytes: 8))
        set(0x14, packed, packed)                                                          // UNPCKLPS/PD
        set(0x15, packed, packed)
        set(0x16, low8, low8, packed)                                                      // MOVHPS/MOVLHPS, MOVHPD, MOVSHDUP
        set(0x17, SIMDForm(.wv, bytes: 8), SIMDForm(.wv, bytes: 8))
        set(0x28, packed, packed)                                                          // MOVAPS MOVAPD
        set(0x29, SIMDForm(.wv, bytes: 16, aligned: true), SIMDForm(.wv, bytes: 16, aligned: true))
        set(0x2A, nil, nil, SIMDForm(.ve, bytes: 4, floatingPoint: true), SIMDForm(.ve, bytes: 4, floatingPoint: true))  // CVTSI2SS/SD
        set(0x2B, SIMDForm(.wv, bytes: 16, aligned: true), SIMDForm(.wv, bytes: 16, aligned: true))  // MOVNTPS/PD
        for op in [0x2C, 0x2D] {                                                           // CVT(T)SS2SI, CVT(T)SD2SI
            set(op, nil, nil, SIMDForm(.gw, bytes: 4, floatingPoint: true), SIMDForm(.gw, bytes: 8, floatingPoint: true))
        }
        for op in [0x2E, 0x2F] {                                                           // (U)COMISS, (U)COMISD
            set(op, SIMDForm(.flags, bytes: 4, floatingPoint: true), SIMDForm(.flags, bytes: 8, floatingPoint: true))
        }
        set(0x50, SIMDForm(.gw, bytes: 16), SIMDForm(.gw, bytes: 16))                      // MOVMSKPS/PD
        set(0x51, packedFP, packedFP, singleFP, doubleFP)                                  // SQRT
        set(0x52, packedFP, nil, singleFP)                                                 // RSQRT
        set(0x53, packedFP, nil, singleFP)                                                 // RCP
        for op in 0x54...0x57 { set(op, packed, packed) }                                  // AND ANDN OR XOR
        for op in [0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F] { set(op, packedFP, packedFP, singleFP, doubleFP) }
        set(0x5A, doubleFP, packedFP, singleFP, doubleFP)                                  // CVTPS2PD CVTPD2PS CVTSS2SD CVTSD2SS
        set(0x5B, packedFP, packedFP, packedFP)                                            // CVTDQ2PS CVTPS2DQ CVTTPS2DQ

        // 66: the SSE2 integer forms of the MMX rows.
        for op in Array(0x60...0x6D) + [0x74, 0x75, 0x76] { set(op, nil, packed) }
        for op in 0xD1...0xFE where ![0xD6, 0xD7, 0xE6, 0xE7, 0xF7, 0xF0, 0xFF].contains(op) { set(op, nil, packed) }
        set(0x6E, nil, SIMDForm(.ve, bytes: 4))                                            // MOVD xmm, r/m32
        set(0x6F, nil, packed, unaligned)                                                  // MOVDQA MOVDQU
        set(0x70, nil, packed, packed, packed)                                             // PSHUFD PSHUFHW PSHUFLW
        set(0x7E, nil, SIMDForm(.ev, bytes: 4), low8)                                      // MOVD r/m32, xmm; MOVQ xmm, xmm/m64
        set(0x7F, nil, SIMDForm(.wv, bytes: 16, aligned: true), SIMDForm(.wv, bytes: 16))  // MOVDQA MOVDQU stores
        // SSE3.
        set(0x7C, nil, packedFP, nil, packedFP)                                            // HADDPD HADDPS
        set(0x7D, nil, packedFP, nil, packedFP)                                            // HSUBPD HSUBPS
        set(0xD0, nil, packedFP, nil, packedFP)                                            // ADDSUBPD ADDSUBPS
        set(0xF0, nil, nil, nil, unaligned)                                                // LDDQU
        set(0xB8, nil, nil, SIMDForm(.general, bytes: 4))                                  // POPCNT
        set(0xC2, packedFP, packedFP, singleFP, doubleFP)                                  // CMPccPS/PD/SS/SD
        set(0xC4, nil, SIMDForm(.ve, bytes: 2))                                            // PINSRW
        set(0xC5, nil, SIMDForm(.gw, bytes: 16))                                           // PEXTRW
        set(0xC6, packed, packed)                                                          // SHUFPS SHUFPD
        set(0xD6, nil, SIMDForm(.wv, bytes: 8))                                            // MOVQ xmm/m64, xmm
        t[0xD6].simdSemantics.pF3 = .moveBetweenMMXAndXMM                                  // MOVQ2DQ
        t[0xD6].simdSemantics.pF2 = .moveBetweenMMXAndXMM                                  // MOVDQ2Q
        // CVTPI2PS/PD xmm, mm/m64; CVT(T)PS2PI mm, xmm/m64; CVT(T)PD2PI mm, xmm/m128 (aligned).
        let fromMMX = SIMDForm(.vw, bytes: 8, floatingPoint: true)
        t[0x2A].simdSemantics.none = .convertBetweenMMXAndXMM(fromMMX)
        t[0x2A].simdSemantics.p66 = .convertBetweenMMXAndXMM(fromMMX)
        for op in [0x2C, 0x2D] {
            t[op].simdSemantics.none = .convertBetweenMMXAndXMM(SIMDForm(.vw, bytes: 8, floatingPoint: true))
            t[op].simdSemantics.p66 = .convertBetweenMMXAndXMM(SIMDForm(.vw, bytes: 16, aligned: true, floatingPoint: true))
        }
        set(0xD7, nil, SIMDForm(.gw, bytes: 16))                                           // PMOVMSKB
        set(0xE6, nil, packedFP, doubleFP, packedFP)                                       // CVTTPD2DQ CVTDQ2PD CVTPD2DQ
        set(0xE7, nil, SIMDForm(.wv, bytes: 16, aligned: true))                            // MOVNTDQ
        set(0xF7, nil, SIMDForm(.maskedStore, bytes: 16))                                  // MASKMOVDQU
        // MOVNTI m32, r32: a plain store of a general register (no XMM state, so no OSFXSR check).
        t[0xC3].simdSemantics.none = .move
    }
}

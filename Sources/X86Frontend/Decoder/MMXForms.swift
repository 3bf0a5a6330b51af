/// The MMX instructions of the 0F map, and the SSE and SSE2 forms that name
/// MMX registers (the variant without a prefix): each one's form, set over
/// the `.simd` entries `TwoByteOpcodeTable` declares. MMX operands are 8
/// bytes and never need alignment. The instructions crossing between MMX
/// and XMM registers (MOVQ2DQ, MOVDQ2Q, CVTPI2PS, CVT(T)PS2PI and their 66
/// forms) are `SSETable`'s.
enum MMXTable {
    static func assign(_ t: inout [OpcodeEntry]) {
        func set(_ op: Int, _ form: SIMDForm) { t[op].simdSemantics.none = .mmx(form) }
        let quad = SIMDForm(.vw, bytes: 8)
        for op in Array(0x60...0x6B) + [0x74, 0x75, 0x76] { set(op, quad) }    // unpacks, packs, compares
        for op in 0xD1...0xFE where ![0xD6, 0xD7, 0xE6, 0xE7, 0xF0, 0xF7].contains(op) { set(op, quad) }
        set(0x6E, SIMDForm(.ve, bytes: 4))                                       // MOVD mm, r/m32
        set(0x6F, quad)                                                          // MOVQ mm, mm/m64
        set(0x70, quad)                                                          // PSHUFW
        set(0x7E, SIMDForm(.ev, bytes: 4))                                       // MOVD r/m32, mm
        set(0x7F, SIMDForm(.wv, bytes: 8))                                       // MOVQ mm/m64, mm
        set(0xC4, SIMDForm(.ve, bytes: 2))                                       // PINSRW
        set(0xC5, SIMDForm(.gw, bytes: 16))                                      // PEXTRW (register only)
        set(0xD7, SIMDForm(.gw, bytes: 16))                                      // PMOVMSKB (register only)
        set(0xE7, SIMDForm(.wv, bytes: 8))                                       // MOVNTQ
        set(0xF7, SIMDForm(.maskedStore, bytes: 8))                              // MASKMOVQ
        t[0x77].simdSemantics.none = .emms
        t[0x77].semantics = .emms
    }
}

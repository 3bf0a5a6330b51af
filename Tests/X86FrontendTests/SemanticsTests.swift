@testable import X86Frontend
import XCTest

/// The translation each opcode table entry names, as the decoder hands it on.
final class SemanticsTests: XCTestCase {
    private func semantics(_ bytes: [UInt8], code32: Bool = true) -> Semantics? {
        instruction(bytes, code32: code32)?.semantics
    }

    func testASemanticsIsASmallPlainValue() {
        // Copied into every decoded instruction and switched on once: no references, two bytes.
        XCTAssertTrue(_isPOD(Semantics.self))
        XCTAssertLessThanOrEqual(MemoryLayout<Semantics>.size, 2)
    }

    func testARowOfOpcodesNamesOneRoutineWithWhatTellsThemApart() {
        XCTAssertEqual(semantics([0x28, 0xC1]), .alu(.sub))                  // sub cl, al
        XCTAssertEqual(semantics([0x2D, 1, 0, 0, 0]), .alu(.sub))            // sub eax, 1
        XCTAssertEqual(semantics([0x83, 0xE9, 1]), .alu(.sub))               // 83 /5
        XCTAssertEqual(semantics([0x80, 0xF9, 1]), .alu(.cmp))               // 80 /7
        XCTAssertEqual(semantics([0x0F, 0x84, 0, 0, 0, 0]), .jumpConditional(4))
        XCTAssertEqual(semantics([0x74, 0]), .jumpConditional(4))
        XCTAssertEqual(semantics([0x0F, 0x44, 0xC1]), .conditionalMove(4))
        XCTAssertEqual(semantics([0xD3, 0xF8]), .shift(7))                   // sar eax, cl
        XCTAssertEqual(semantics([0x0F, 0xB2, 0x00]), .loadFarPointer(.ss))
        XCTAssertEqual(semantics([0x0F, 0x00, 0xC0]), .storeSystemRegister(.storeLDTR))
        XCTAssertEqual(semantics([0x0F, 0xBA, 0xE8, 3]), .bitTest(1))        // bts eax, 3
    }

    func testEveryFormOfMoveIsOneRoutine() {
        for bytes: [UInt8] in [[0x88, 0xC1], [0x8B, 0x00], [0x8E, 0xD8], [0xA1, 0, 0, 0, 0], [0xB0, 1],
                               [0xB8, 1, 0, 0, 0], [0xC7, 0x00, 1, 0, 0, 0]] {
            XCTAssertEqual(semantics(bytes), .move, "\(bytes)")
        }
        for bytes: [UInt8] in [[0x50], [0x68, 1, 0, 0, 0], [0x6A, 1], [0xFF, 0x30], [0x06], [0x0F, 0xA0]] {
            XCTAssertEqual(semantics(bytes), .push, "\(bytes)")
        }
    }

    func testWhatTheCPULacksIsInvalidOpcode() {
        XCTAssertEqual(semantics([0x0F, 0x0B]), .invalidOpcode)                       // UD2
        XCTAssertEqual(semantics([0x0F, 0xAA]), .invalidOpcode)                       // RSM
        XCTAssertEqual(semantics([0x0F, 0xFC, 0xC1]), .mmx(SIMDForm(.vw, bytes: 8)))                // PADDB mm (MMX)
        XCTAssertEqual(semantics([0x0F, 0x73, 0xD0, 1]), .mmx(SIMDForm(.shiftImmediate, bytes: 8)))  // PSRLQ mm (MMX group)
        XCTAssertEqual(semantics([0x0F, 0x2A, 0xC1]), .convertBetweenMMXAndXMM(SIMDForm(.vw, bytes: 8, floatingPoint: true)))  // CVTPI2PS
        XCTAssertEqual(semantics([0xF2, 0x0F, 0xD6, 0xC1]), .moveBetweenMMXAndXMM)    // MOVDQ2Q
        XCTAssertEqual(semantics([0x0F, 0x58, 0xC1]), .sse(SIMDForm(.vw, bytes: 16, aligned: true, floatingPoint: true)))  // ADDPS
        XCTAssertEqual(semantics([0xF3, 0x0F, 0x58, 0xC1]), .sse(SIMDForm(.vw, bytes: 4, floatingPoint: true)))  // ADDSS
        XCTAssertEqual(semantics([0x66, 0x0F, 0x73, 0xD8, 1]), .sse(SIMDForm(.shiftImmediate, bytes: 16)))  // PSRLDQ (group)
        XCTAssertEqual(semantics([0x0F, 0xAE, 0x00]), .fxsave)
        XCTAssertEqual(semantics([0xDD, 0xD8]), .x87)
    }

    func testTheSIMDPrefixSelectsTheVariantsTranslation() {
        let variants = SIMDSemantics(none: .nop, p66: .alu(.add), pF3: .alu(.sub), pF2: .invalidOpcode)
        XCTAssertEqual(variants[.none], .nop)
        XCTAssertEqual(variants[.p66], .alu(.add))
        XCTAssertEqual(variants[.pF3], .alu(.sub))
        XCTAssertEqual(variants[.pF2], .invalidOpcode)
    }
}

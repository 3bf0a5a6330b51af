import XCTest
import X86Frontend

final class OpcodeMapTests: XCTestCase {
    func testOpcodeIdentity() {
        XCTAssertEqual(instruction([0x90])?.opcode, 0x90)
        XCTAssertEqual(instruction([0x0F, 0xA2])?.opcode, 0x0FA2)
        XCTAssertEqual(instruction([0x66, 0x0F, 0xAF, 0xC1])?.opcode, 0x0FAF)
    }

    func testDefinedUndefinedAndOddOpcodes() {
        XCTAssertEqual(instruction([0x0F, 0x0B])?.isa, .undefinedOpcode)        // UD2
        XCTAssertEqual(instruction([0x0F, 0xB9, 0xC0])?.isa, .undefinedOpcode)  // UD1
        XCTAssertEqual(instruction([0xF1])?.isa, .base)                         // ICEBP
        XCTAssertEqual(instruction([0xD6])?.isa, .base)                         // SALC
        assertLength([0x82, 0xC0, 1], 3)                                        // alias of 80
        assertLength([0x0F, 0x0D, 0x0C, 0x03], 4)                               // PREFETCHW [ebx+eax]
        assertLength([0x0F, 0x05], 2)                                           // SYSCALL
        assertLength([0x0F, 0x07], 2)                                           // SYSRET
        assertLength([0x0F, 0x01, 0xF9], 3)                                     // RDTSCP
        assertLength([0xD0, 0xF0], 2)                                           // SAL alias, /6
        assertLength([0x0F, 0x1F, 0x44, 0x00, 0x00], 5)                         // multi-byte NOP
        assertLength([0x0F, 0x0D + 0x0C, 0x00], 3)                              // 0F 19 hint NOP
        for bytes: [UInt8] in [[0x0F, 0xA6, 0xC0], [0x0F, 0xA7, 0xC0], [0x0F, 0x24, 0xC0], [0x0F, 0x26, 0xC0],
                               [0x0F, 0x04], [0x0F, 0x0A], [0x0F, 0x36], [0x0F, 0x01, 0xFA],
                               [0x0F, 0x38, 0x50, 0xC0], [0x0F, 0x3A, 0x50, 0xC0, 1], [0x0F, 0x78, 0xC0],
                               [0x0F, 0xB8, 0xC0], [0x0F, 0x0D, 0xC8], [0x0F, 0x37]] {
            assertResult(bytes, .invalid)
        }
    }

    func testMemoryOnlyAndRegisterChecks() {
        assertResult([0x8D, 0xC0], .invalid)            // lea eax,eax
        assertResult([0xC4, 0xC0], .invalid)            // les with a register (VEX on later CPUs)
        assertResult([0x62, 0xC0], .invalid)            // bound with a register
        assertResult([0x0F, 0xB2, 0xC0], .invalid)      // lss
        assertResult([0x0F, 0xC7, 0xC8], .invalid)      // cmpxchg8b with a register
        assertResult([0x0F, 0x01, 0xC0], .invalid)      // 0F 01 /0 register form (VMX)
        assertLength([0x0F, 0x01, 0xE0], 3)             // smsw eax
        assertLength([0x0F, 0x01, 0x38], 3)             // invlpg [eax]
        assertResult([0x8E, 0xC8], .invalid)            // mov cs,ax
        assertResult([0x8C, 0xF0], .invalid)            // mov eax, sreg 6
        assertLength([0x8E, 0xD8], 2)                   // mov ds,ax
        XCTAssertEqual(instruction([0x0F, 0x00, 0xD8])?.isProtectedModeOnly, true)   // ltr ax
        XCTAssertEqual(instruction([0x63, 0xC0])?.isProtectedModeOnly, true)         // arpl
    }

    func testX87Escapes() {
        let fld = instruction([0xD9, 0x45, 0x08])           // fld dword [ebp+8]
        XCTAssertEqual(fld?.length, 3)
        XCTAssertEqual(fld?.x87Escape, 1)
        XCTAssertEqual(fld?.reg, 0)
        XCTAssertEqual(fld?.isa, .x87)
        XCTAssertEqual(fld?.memory.segment, .ss)
        XCTAssertEqual(instruction([0xDE, 0xD9])?.modrmByte, 0xD9)   // fcompp
        assertLength([0xDB, 0xE3], 2)                                 // fninit
        assertLength([0xDD, 0x06, 0x34, 0x12], 4, code32: false)      // fld qword [0x1234]
        assertResult([0xD9, 0xD1], .invalid)
        assertResult([0xD9, 0x08], .invalid)                          // D9 /1 memory
        XCTAssertEqual(instruction([0xDF, 0x08])?.isa, .sse3)         // FISTTP is SSE3
        assertResult([0xDA, 0xC8 + 0x20], .invalid)                   // DA E8
    }

    func testSIMDVariantsAndSets() {
        let addps = instruction([0x0F, 0x58, 0xC1])
        XCTAssertEqual(addps?.simdPrefix, SIMDPrefix.none)
        XCTAssertEqual(addps?.isa, .sse)
        let addsd = instruction([0xF2, 0x0F, 0x58, 0xC1])
        XCTAssertEqual(addsd?.simdPrefix, .pF2)
        XCTAssertEqual(addsd?.isa, .sse2)
        XCTAssertEqual(instruction([0xF3, 0x0F, 0x58, 0xC1])?.isa, .sse)
        XCTAssertEqual(instruction([0x66, 0x0F, 0x58, 0xC1])?.isa, .sse2)
        XCTAssertEqual(instruction([0x0F, 0x6F, 0xC1])?.isa, .mmx)
        XCTAssertEqual(instruction([0x66, 0x0F, 0x6F, 0xC1])?.isa, .sse2)
        XCTAssertEqual(instruction([0x0F, 0x77])?.length, 2)          // emms
        assertResult([0x66, 0x0F, 0x77], .invalid)
        assertLength([0x0F, 0x70, 0xC1, 0x1B], 4)                     // pshufw with imm8
        assertLength([0x66, 0x0F, 0x73, 0xF8, 4], 5)                  // pslldq
        assertResult([0x0F, 0x73, 0xF8, 4], .invalid)                 // no MMX form of /7
        assertResult([0xF2, 0x0F, 0x28, 0xC1], .invalid)              // movaps has no F2 form
        assertResult([0x0F, 0x2B, 0xC1], .invalid)                    // movntps needs memory
        assertResult([0x66, 0x0F, 0x12, 0xC1], .invalid)              // movlpd needs memory
        XCTAssertEqual(instruction([0x0F, 0xAE, 0x00])?.isa, .fxsr)   // fxsave [eax]
        XCTAssertEqual(instruction([0x0F, 0xAE, 0xF8])?.isa, .sse)    // sfence
    }
}

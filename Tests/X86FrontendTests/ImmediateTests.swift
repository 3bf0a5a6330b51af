import XCTest
import X86Frontend

final class ImmediateTests: XCTestCase {
    func testSignExtendedImm8() {
        let d = instruction([0x83, 0xC0, 0xFF])      // add eax,-1
        XCTAssertEqual(d?.length, 3)
        XCTAssertEqual(d?.immediate, 0xFFFF_FFFF)
        XCTAssertEqual(instruction([0x6A, 0x80])?.signedImmediate, -128)   // push -128
        XCTAssertEqual(instruction([0x6B, 0xC0, 0xFE])?.signedImmediate, -2)
        // Unsigned imm8 stays zero-extended.
        XCTAssertEqual(instruction([0xCD, 0x80])?.immediate, 0x80)
        XCTAssertEqual(instruction([0xE4, 0xF0])?.immediate, 0xF0)
        XCTAssertEqual(instruction([0xC1, 0xE0, 0x81])?.immediate, 0x81)
    }

    func testOperandSizedImmediates() {
        assertLength([0x68, 1, 2, 3, 4], 5)
        assertLength([0x66, 0x68, 1, 2], 4)
        assertLength([0x68, 1, 2], 3, code32: false)
        assertLength([0x69, 0xC0, 1, 2, 3, 4], 6)
        assertLength([0x66, 0x69, 0xC0, 1, 2], 5)
        assertLength([0xC7, 0x00, 1, 2, 3, 4], 6)
        assertLength([0x66, 0xC7, 0x00, 1, 2], 5)
        assertLength([0xB8, 1, 2, 3, 4], 5)
        assertLength([0xB0, 1], 2)
        assertLength([0x81, 0x04, 0x24, 1, 2, 3, 4], 7)   // SIB then imm32
    }

    func testWordImmediates() {
        let ret = instruction([0xC2, 0x08, 0x00])
        XCTAssertEqual(ret?.length, 3)
        XCTAssertEqual(ret?.immediate, 8)
        assertLength([0x66, 0xCA, 4, 0], 4)   // retf imm16 regardless of operand size
    }

    func testEnter() {
        let d = instruction([0xC8, 0x10, 0x20, 0x03])
        XCTAssertEqual(d?.length, 4)
        XCTAssertEqual(d?.immediate, 0x2010)
        XCTAssertEqual(d?.immediate2, 3)
        XCTAssertEqual(instruction([0x66, 0xC8, 0x10, 0x20, 0x03])?.operandSize, 16)
    }

    func testMoffsFollowsAddressSize() {
        let a32 = instruction([0xA1, 0x78, 0x56, 0x34, 0x12])   // mov eax,[0x12345678]
        XCTAssertEqual(a32?.length, 5)
        XCTAssertEqual(a32?.hasMemoryOperand, true)
        XCTAssertEqual(a32?.memory.displacement, 0x1234_5678)
        XCTAssertEqual(a32?.memory.hasBase, false)
        XCTAssertEqual(a32?.memory.segment, .ds)
        let a16 = instruction([0x67, 0xA1, 0xFE, 0xFF])          // mov eax,[0xFFFE]
        XCTAssertEqual(a16?.length, 4)
        XCTAssertEqual(a16?.memory.displacement, 0xFFFE)         // moffs16 is unsigned
        XCTAssertEqual(a16?.operandSize, 32)
        let real = instruction([0x26, 0xA2, 0x34, 0x12], code32: false)   // mov es:[0x1234],al
        XCTAssertEqual(real?.length, 4)
        XCTAssertEqual(real?.memory.segment, .es)
        XCTAssertEqual(real?.operandSize, 8)
        assertLength([0x67, 0xA3, 1, 2, 3, 4], 6, code32: false)
    }

    func testFarPointers() {
        let far32 = instruction([0xEA, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00])   // jmp 0x8:0x12345678
        XCTAssertEqual(far32?.length, 7)
        XCTAssertEqual(far32?.immediate, 0x1234_5678)
        XCTAssertEqual(far32?.immediate2, 8)
        let far16 = instruction([0xEA, 0x00, 0x7C, 0x00, 0xF0], code32: false)   // jmp 0xF000:0x7C00
        XCTAssertEqual(far16?.length, 5)
        XCTAssertEqual(far16?.immediate, 0x7C00)
        XCTAssertEqual(far16?.immediate2, 0xF000)
        assertLength([0x66, 0x9A, 1, 2, 3, 4, 5, 6], 8, code32: false)      // call far ptr16:32
        assertLength([0x66, 0x9A, 1, 2, 3, 4], 6)                          // call far ptr16:16
        assertLength([0xFF, 0x2D, 1, 2, 3, 4], 6)                          // jmp far [disp32]
    }

    func testRelativeBranches() {
        let short = instruction([0xEB, 0xFE])           // jmp $
        XCTAssertEqual(short?.length, 2)
        XCTAssertEqual(short?.branchTarget(instructionAddress: 0x1000), 0x1000)
        let near = instruction([0xE8, 0x00, 0x01, 0x00, 0x00])
        XCTAssertEqual(near?.branchTarget(instructionAddress: 0x1000), 0x1105)
        let jcc = instruction([0x0F, 0x84, 0xFA, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(jcc?.length, 6)
        XCTAssertEqual(jcc?.branchTarget(instructionAddress: 0x2000), 0x2000)
        // 16-bit: rel16, and the target wraps within 64 KiB.
        let wrap = instruction([0xE9, 0x00, 0x10], code32: false)
        XCTAssertEqual(wrap?.length, 3)
        XCTAssertEqual(wrap?.branchTarget(instructionAddress: 0xF000), 0x0003)
        let rel16In32 = instruction([0x66, 0x0F, 0x85, 0x10, 0x00])
        XCTAssertEqual(rel16In32?.length, 5)
        XCTAssertEqual(rel16In32?.branchTarget(instructionAddress: 0x0001_FFF0), 0x0005)
        assertLength([0x66, 0xE8, 1, 2, 3, 4], 6, code32: false)
    }

    /// Every proper prefix of a valid instruction is `.truncated`.
    func testTruncatedAtEveryLength() {
        let samples: [([UInt8], Bool)] = [
            ([0x26, 0x66, 0xF3, 0x81, 0x84, 0x88, 1, 2, 3, 4, 5, 6], true),   // SIB, disp32, imm16
            ([0x26, 0x66, 0x67, 0x81, 0x84, 1, 2, 3, 4], true),               // [si+disp16], imm16
            ([0x8B, 0x04, 0xCD, 0x10, 0, 0, 0], true),
            ([0x0F, 0x84, 1, 2, 3, 4], true),
            ([0xC8, 1, 2, 3], true),
            ([0x9A, 1, 2, 3, 4, 5, 6], true),
            ([0x9A, 1, 2, 3, 4], false),
            ([0x67, 0xA1, 1, 2], true),
            ([0xA1, 1, 2], false),
            ([0x8B, 0x86, 1, 2], false),
            ([0xC7, 0x46, 0x02, 1, 2], false),
            ([0xDD, 0x85, 1, 2, 3, 4], true),
            ([0x66, 0x0F, 0x70, 0xC1, 0x1B], true),
            ([0x0F, 0x0B], true),
        ]
        for (bytes, code32) in samples {
            assertLength(bytes, UInt8(bytes.count), code32: code32)
            for cut in 0..<bytes.count {
                assertResult(Array(bytes[..<cut]), .truncated, code32: code32)
            }
            // Extra bytes after the instruction are not consumed.
            assertLength(bytes + [0x90, 0x90], UInt8(bytes.count), code32: code32)
        }
    }
}

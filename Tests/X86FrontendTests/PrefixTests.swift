import XCTest
import X86Frontend

final class PrefixTests: XCTestCase {
    func testOperandSizePrefixSwitchesImmediateAndOperandSize() {
        // 05 iz: add eAX, imm
        let plain = instruction([0x05, 1, 2, 3, 4])
        XCTAssertEqual(plain?.length, 5)
        XCTAssertEqual(plain?.operandSize, 32)
        XCTAssertEqual(plain?.immediate, 0x0403_0201)
        let narrow = instruction([0x66, 0x05, 1, 2])
        XCTAssertEqual(narrow?.length, 4)
        XCTAssertEqual(narrow?.operandSize, 16)
        XCTAssertEqual(narrow?.prefixes, [.operandSize])
        // In 16-bit code the same prefix widens.
        let wide = instruction([0x66, 0x05, 1, 2, 3, 4], code32: false)
        XCTAssertEqual(wide?.length, 6)
        XCTAssertEqual(wide?.operandSize, 32)
        XCTAssertEqual(instruction([0x05, 1, 2], code32: false)?.operandSize, 16)
    }

    func testByteFormsHaveOperandSize8WhateverThePrefix() {
        XCTAssertEqual(instruction([0x66, 0x04, 0x7F])?.operandSize, 8)
        XCTAssertEqual(instruction([0x66, 0x04, 0x7F])?.operandSizeAttribute, 16)
        XCTAssertEqual(instruction([0x0F, 0x94, 0xC0])?.operandSize, 8)   // sete al
    }

    func testAddressSizePrefixSwitchesModRMForm() {
        // 8B 46 08: mov eax,[bp+8] in 16-bit addressing, [esi+8] in 32-bit.
        let a16 = instruction([0x67, 0x8B, 0x46, 0x08])
        XCTAssertEqual(a16?.addressSize, 16)
        XCTAssertEqual(a16?.memory.base, 5)
        XCTAssertEqual(a16?.memory.segment, .ss)
        let a32 = instruction([0x8B, 0x46, 0x08])
        XCTAssertEqual(a32?.addressSize, 32)
        XCTAssertEqual(a32?.memory.base, 6)
        XCTAssertEqual(a32?.memory.segment, .ds)
    }

    func testEverySegmentOverride() {
        let overrides: [(UInt8, SegmentRegister)] = [(0x26, .es), (0x2E, .cs), (0x36, .ss), (0x3E, .ds),
                                                     (0x64, .fs), (0x65, .gs)]
        for (byte, segment) in overrides {
            // mov eax,[ebp+4]: default SS, overridden.
            let decoded = instruction([byte, 0x8B, 0x45, 0x04])
            XCTAssertEqual(decoded?.segmentOverride, segment)
            XCTAssertEqual(decoded?.memory.segment, segment)
            XCTAssertEqual(decoded?.memory.segmentIsDefault, false)
            XCTAssertEqual(decoded?.prefixes, [.segment])
        }
    }

    func testLastSegmentOverrideWins() {
        let decoded = instruction([0x26, 0x64, 0x2E, 0x8B, 0x00])
        XCTAssertEqual(decoded?.segmentOverride, .cs)
        XCTAssertEqual(decoded?.length, 5)
    }

    func testRepeatedAndMixedPrefixes() {
        let decoded = instruction([0x66, 0x66, 0x67, 0x67, 0xF3, 0xA5])   // rep movsw with 16-bit addressing
        XCTAssertEqual(decoded?.length, 6)
        XCTAssertEqual(decoded?.prefixes, [.operandSize, .addressSize, .rep])
        XCTAssertEqual(decoded?.operandSize, 16)
        XCTAssertEqual(decoded?.addressSize, 16)
    }

    func testLastOfRepAndRepneWins() {
        XCTAssertEqual(instruction([0xF3, 0xF2, 0xA6])?.prefixes, [.repne])
        XCTAssertEqual(instruction([0xF2, 0xF3, 0xA6])?.prefixes, [.rep])
    }

    func testLockOnlyOnLockableMemoryDestinations() {
        XCTAssertEqual(instruction([0xF0, 0x01, 0x03])?.prefixes, [.lock])   // lock add [ebx],eax
        assertLength([0xF0, 0x0F, 0xC7, 0x0E], 4)                          // lock cmpxchg8b [esi]
        assertLength([0xF0, 0x87, 0x03], 3)                                // lock xchg [ebx],eax
        assertLength([0xF0, 0x83, 0x00, 0x01], 4)                          // lock add dword [eax],1
        assertResult([0xF0, 0x01, 0xC3], .invalid)                         // register destination
        assertResult([0xF0, 0x39, 0x03], .invalid)                         // cmp is not lockable
        assertResult([0xF0, 0x83, 0x38, 0x01], .invalid)                   // cmp /7 either
        assertResult([0xF0, 0x90], .invalid)
        assertResult([0xF0, 0x8B, 0x03], .invalid)                         // mov
    }

    func testFifteenByteLimit() {
        // 14 prefixes and a one-byte opcode: exactly 15 bytes, allowed.
        let fourteen = [UInt8](repeating: 0x3E, count: 14)
        assertLength(fourteen + [0x90], 15)
        // 15 prefixes: too long, even though the opcode byte was never given.
        assertResult([UInt8](repeating: 0x3E, count: 15), .tooLong)
        assertResult([UInt8](repeating: 0x3E, count: 15) + [0x90], .tooLong)
        // 11 prefixes + add eax,imm32 (5 bytes) = 16 bytes: too long with any number of bytes given.
        let eleven = [UInt8](repeating: 0x26, count: 11)
        assertResult(eleven + [0x05, 1, 2, 3, 4], .tooLong)
        assertResult(eleven + [0x05, 1, 2, 3], .tooLong)
        assertResult(eleven + [0x05], .tooLong)
        // 10 prefixes + 5 = 15: fine, and truncated when short.
        let ten = [UInt8](repeating: 0x26, count: 10)
        assertLength(ten + [0x05, 1, 2, 3, 4], 15)
        assertResult(ten + [0x05, 1, 2, 3], .truncated)
        // A SIB/displacement that would cross byte 15.
        assertResult([UInt8](repeating: 0x66, count: 9) + [0x81, 0x84, 0x24, 1, 2, 3, 4, 5, 6], .tooLong)
    }
}

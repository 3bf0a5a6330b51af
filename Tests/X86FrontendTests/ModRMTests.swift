import XCTest
import X86Frontend

final class ModRMTests: XCTestCase {
    private let none = MemoryOperand.noRegister

    /// 16-bit forms: (rm, base, index, default segment).
    func testAll16BitForms() {
        let forms: [(UInt8, UInt8, UInt8, SegmentRegister)] = [
            (0, 3, 6, .ds), (1, 3, 7, .ds), (2, 5, 6, .ss), (3, 5, 7, .ss),
            (4, 6, none, .ds), (5, 7, none, .ds), (7, 3, none, .ds)]
        for (rm, base, index, segment) in forms {
            for mod: UInt8 in 0...2 {
                var bytes: [UInt8] = [0x8B, mod << 6 | rm]
                if mod == 1 { bytes.append(0x80) }
                if mod == 2 { bytes += [0x34, 0x92] }
                guard let d = instruction(bytes, code32: false) else { continue }
                XCTAssertEqual(d.length, UInt8(bytes.count))
                XCTAssertEqual(d.memory.base, base)
                XCTAssertEqual(d.memory.index, index)
                XCTAssertEqual(d.memory.segment, segment)
                XCTAssertEqual(d.memory.displacement, mod == 1 ? -128 : mod == 2 ? Int32(Int16(bitPattern: 0x9234)) : 0)
            }
        }
    }

    func test16BitDirectAddressAndBPForms() {
        let direct = instruction([0x8B, 0x06, 0x34, 0x12], code32: false)   // mov ax,[0x1234]
        XCTAssertEqual(direct?.length, 4)
        XCTAssertEqual(direct?.memory.hasBase, false)
        XCTAssertEqual(direct?.memory.displacement, 0x1234)
        XCTAssertEqual(direct?.memory.segment, .ds)
        let bp = instruction([0x8B, 0x46, 0xFE], code32: false)               // mov ax,[bp-2]
        XCTAssertEqual(bp?.memory.base, 5)
        XCTAssertEqual(bp?.memory.displacement, -2)
        XCTAssertEqual(bp?.memory.segment, .ss)
    }

    func test32BitDirectAndBaseForms() {
        let direct = instruction([0x8B, 0x05, 0x78, 0x56, 0x34, 0x12])        // mov eax,[0x12345678]
        XCTAssertEqual(direct?.length, 6)
        XCTAssertEqual(direct?.memory.hasBase, false)
        XCTAssertEqual(direct?.memory.hasIndex, false)
        XCTAssertEqual(direct?.memory.displacement, 0x1234_5678)
        let ebp = instruction([0x8B, 0x45, 0xF8])                              // [ebp-8]
        XCTAssertEqual(ebp?.memory.base, 5)
        XCTAssertEqual(ebp?.memory.segment, .ss)
        XCTAssertEqual(ebp?.memory.displacement, -8)
        let disp32 = instruction([0x8B, 0x80, 0, 0, 0, 0x80])                  // [eax-0x80000000]
        XCTAssertEqual(disp32?.length, 6)
        XCTAssertEqual(disp32?.memory.displacement, Int32.min)
    }

    func testSIBForms() {
        // [eax+ecx*4]
        let scaled = instruction([0x8B, 0x04, 0x88])
        XCTAssertEqual(scaled?.length, 3)
        XCTAssertEqual(scaled?.memory.base, 0)
        XCTAssertEqual(scaled?.memory.index, 1)
        XCTAssertEqual(scaled?.memory.scale, 4)
        // [esp]: SIB with index 100 = no index, base ESP, default SS.
        let esp = instruction([0x8B, 0x04, 0x24])
        XCTAssertEqual(esp?.memory.base, 4)
        XCTAssertEqual(esp?.memory.hasIndex, false)
        XCTAssertEqual(esp?.memory.segment, .ss)
        // No base: mod 00 with SIB base 101 means disp32 + index*scale, default DS.
        let noBase = instruction([0x8B, 0x04, 0xCD, 0x10, 0, 0, 0])           // [ecx*8+0x10]
        XCTAssertEqual(noBase?.length, 7)
        XCTAssertEqual(noBase?.memory.hasBase, false)
        XCTAssertEqual(noBase?.memory.index, 1)
        XCTAssertEqual(noBase?.memory.scale, 8)
        XCTAssertEqual(noBase?.memory.displacement, 0x10)
        XCTAssertEqual(noBase?.memory.segment, .ds)
        // SIB base 101 with mod 01 is EBP + disp8, default SS.
        let ebpBase = instruction([0x8B, 0x44, 0x05, 0x04])                   // [ebp+eax+4]
        XCTAssertEqual(ebpBase?.length, 4)
        XCTAssertEqual(ebpBase?.memory.base, 5)
        XCTAssertEqual(ebpBase?.memory.index, 0)
        XCTAssertEqual(ebpBase?.memory.segment, .ss)
        // Index EBP does not make SS the default.
        let ebpIndex = instruction([0x8B, 0x04, 0x28])                         // [eax+ebp]
        XCTAssertEqual(ebpIndex?.memory.segment, .ds)
        // No base, no index: [disp32].
        let bare = instruction([0x8B, 0x04, 0x25, 1, 0, 0, 0])
        XCTAssertEqual(bare?.memory.hasBase, false)
        XCTAssertEqual(bare?.memory.hasIndex, false)
        XCTAssertEqual(bare?.memory.displacement, 1)
    }

    func testRegisterOperandHasNoMemory() {
        let d = instruction([0x89, 0xD8])   // mov eax,ebx
        XCTAssertEqual(d?.isRegisterOperand, true)
        XCTAssertEqual(d?.hasMemoryOperand, false)
        XCTAssertEqual(d?.reg, 3)
        XCTAssertEqual(d?.rm, 0)
    }

    func testControlRegisterMovesIgnoreMod() {
        // 0F 20 /r with mod 00: still a register, no displacement follows.
        let d = instruction([0x0F, 0x20, 0x05])
        XCTAssertEqual(d?.length, 3)
        XCTAssertEqual(d?.hasMemoryOperand, false)
        XCTAssertEqual(d?.isRegisterOperand, true)
        XCTAssertEqual(d?.reg, 0)
        XCTAssertEqual(d?.rm, 5)
        assertResult([0x0F, 0x22, 0xC8], .invalid)   // mov cr1,eax
        assertLength([0x0F, 0x23, 0xF8], 3)          // mov dr7,eax
    }

    func testGroupOpcodesCarryTheRegField() {
        let d = instruction([0xF7, 0xD8])            // neg eax
        XCTAssertEqual(d?.opcode, 0xF7)
        XCTAssertEqual(d?.reg, 3)
        assertLength([0xF7, 0xC0, 1, 2, 3, 4], 6)     // test eax,imm32
        assertLength([0xF6, 0xC0, 1], 3)              // test al,imm8
        assertLength([0xF7, 0xE0], 2)                 // mul eax: no immediate
        assertResult([0xFF, 0xF8], .invalid)          // FF /7
        assertResult([0xFF, 0xD8], .invalid)          // call far with a register
        assertLength([0xFF, 0x18], 2)                 // call far [eax]
        assertResult([0x8F, 0xC8], .invalid)          // 8F /1
        assertResult([0xC6, 0xC8, 0], .invalid)       // C6 /1
        assertResult([0x0F, 0xBA, 0xE0, 1], .instruction(instruction([0x0F, 0xBA, 0xE0, 1])!))
        assertResult([0x0F, 0xBA, 0xC0, 1], .invalid) // 0F BA /0
    }
}

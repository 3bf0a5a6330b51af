import XCTest
import X86Frontend

final class DisassemblyTests: XCTestCase {
    private func assertText(_ bytes: [UInt8], _ text: String, code32: Bool = true,
                            file: StaticString = #filePath, line: UInt = #line) {
        guard let d = instruction(bytes, code32: code32, file: file, line: line) else { return }
        XCTAssertEqual(d.description, text, hex(bytes), file: file, line: line)
    }

    func testIntegerInstructions() {
        assertText([0x01, 0xD8], "add eax, ebx")
        assertText([0x66, 0x01, 0xD8], "add ax, bx")
        assertText([0x00, 0xE0], "add al, ah")
        assertText([0x8B, 0x44, 0x8D, 0xF0], "mov eax, dword ptr [ebp+ecx*4-0x10]")
        assertText([0x26, 0x8A, 0x07], "mov al, byte ptr es:[bx]", code32: false)
        assertText([0x8B, 0x46, 0x02], "mov ax, word ptr [bp+0x2]", code32: false)
        assertText([0xA1, 0x34, 0x12], "mov ax, word ptr [0x1234]", code32: false)
        assertText([0x83, 0xC4, 0xF0], "add esp, 0xfffffff0")
        assertText([0x66, 0x83, 0xC4, 0xF0], "add sp, 0xfff0")
        assertText([0xF0, 0x0F, 0xB1, 0x0A], "lock cmpxchg dword ptr [edx], ecx")
        assertText([0xF3, 0xA5], "rep movs dword ptr es:[edi], dword ptr ds:[esi]")
        assertText([0xF3, 0xA6], "repe cmps byte ptr ds:[si], byte ptr es:[di]", code32: false)
        assertText([0xC8, 0x10, 0x00, 0x01], "enter 0x10, 0x1")
        assertText([0xEA, 0x00, 0x7C, 0x00, 0x00], "jmp far 0x0:0x7c00", code32: false)
        assertText([0xEB, 0xFE], "jmp $+0x0")
        assertText([0x74, 0x10], "je $+0x12")
        assertText([0xFF, 0x15, 0x00, 0x10, 0x00, 0x00], "call dword ptr [0x1000]")
        assertText([0xFF, 0x1F], "call far fword ptr [edi]")
        assertText([0x0F, 0x22, 0xC0], "mov cr0, eax")
        assertText([0x8E, 0xD8], "mov ds, ax")
        assertText([0x0F, 0xB6, 0xC1], "movzx eax, cl")
        assertText([0x60], "pushad")
        assertText([0x60], "pusha", code32: false)
        assertText([0xD1, 0xE0], "shl eax, 1")
        assertText([0xF3, 0x90], "pause")
        let jump = instruction([0xE9, 0x00, 0x01, 0x00, 0x00])
        XCTAssertEqual(jump?.disassembly(address: 0x1000), "jmp 0x1105")
    }

    func testX87AndSIMD() {
        assertText([0xD9, 0x45, 0x08], "fld dword ptr [ebp+0x8]")
        assertText([0xDC, 0xC1], "fadd st(1), st")
        assertText([0xD8, 0xC1], "fadd st, st(1)")
        assertText([0xDF, 0xE0], "fnstsw ax")
        assertText([0xDB, 0x28], "fld tbyte ptr [eax]")
        assertText([0x0F, 0x58, 0xC1], "addps xmm0, xmm1")
        assertText([0xF2, 0x0F, 0x58, 0xC1], "addsd xmm0, xmm1")
        assertText([0x0F, 0xFE, 0xC1], "paddd mm0, mm1")
        assertText([0x66, 0x0F, 0xFE, 0xC1], "paddd xmm0, xmm1")
        assertText([0xF3, 0x0F, 0x6F, 0xC1], "movdqu xmm0, xmm1")
        assertText([0xF3, 0x0F, 0x2D, 0xC1], "cvtss2si eax, xmm1")
    }
}

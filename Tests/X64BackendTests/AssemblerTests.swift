import XCTest
@testable import X64Backend

/// Every form the code generator emits, with every register and addressing
/// corner case, byte for byte against GNU as.
final class AssemblerTests: XCTestCase {
    /// One instruction: its Intel-syntax text and how our assembler makes it.
    private struct Case {
        let text: String
        let emit: (inout X64Assembler) -> Void
    }

    private var cases: [Case] = []

    private func add(_ text: String, _ emit: @escaping (inout X64Assembler) -> Void) {
        cases.append(Case(text: text, emit: emit))
    }

    private static let registers = HostRegister.allCases
    private static let sizes: [OperandSize] = [.byte, .word, .dword, .qword]

    private static func ptr(_ size: OperandSize) -> String {
        switch size {
        case .byte: return "byte ptr"
        case .word: return "word ptr"
        case .dword: return "dword ptr"
        case .qword: return "qword ptr"
        }
    }

    private static func text(_ memory: MemoryOperand) -> String {
        var text = "[" + memory.base.name(.qword)
        if let index = memory.index { text += "+\(index.name(.qword))*\(memory.scale)" }
        if memory.displacement > 0 { text += "+\(memory.displacement)" }
        if memory.displacement < 0 { text += "\(memory.displacement)" }
        return text + "]"
    }

    /// Every base with each displacement size, and SIB forms with every index and scale.
    private static var memoryOperands: [MemoryOperand] {
        var operands: [MemoryOperand] = []
        for base in registers {
            for displacement: Int32 in [0, 8, -128, 127, 128, -129, 0x12345, Int32.min] {
                operands.append(MemoryOperand(base: base, displacement: displacement))
            }
        }
        for index in registers where index != .rsp {
            for (scale, base) in zip([1, 2, 4, 8] as [UInt8], [HostRegister.rbp, .r13, .rsp, .r12]) {
                operands.append(MemoryOperand(base: base, index: index, scale: scale, displacement: 0))
                operands.append(MemoryOperand(base: .rbx, index: index, scale: scale, displacement: -8))
            }
        }
        return operands
    }

    func testEncodingsMatchGNUAssembler() throws {
        let registers = Self.registers
        for size in Self.sizes {
            for a in registers {
                for b in registers {
                    add("mov \(a.name(size)), \(b.name(size))") { $0.mov(size, a, b) }
                }
            }
            for (position, memory) in Self.memoryOperands.enumerated() {
                let register = registers[position % 16]
                add("mov \(register.name(size)), \(Self.ptr(size)) \(Self.text(memory))") { $0.load(size, register, memory) }
                add("mov \(Self.ptr(size)) \(Self.text(memory)), \(register.name(size))") { $0.store(size, memory, register) }
                add("mov \(Self.ptr(size)) \(Self.text(memory)), -2") { $0.storeImmediate(size, memory, -2) }
            }
        }
        for register in registers {
            for value: UInt64 in [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF_8000_0000, ~0, 0x1_0000_0000, 0x1234_5678_9ABC_DEF0] {
                let text: String
                if value <= UInt64(UInt32.max) { text = "mov \(register.name(.dword)), \(value)" }
                else if Int32(exactly: Int64(bitPattern: value)) != nil { text = "mov \(register.name(.qword)), \(Int64(bitPattern: value))" }
                else { text = "movabs \(register.name(.qword)), \(value)" }
                add(text) { $0.movImmediate(register, value) }
            }
            add("movabs \(register.name(.qword)), 5") { $0.movabs(register, 5) }
            add("push \(register.name(.qword))") { $0.push(register) }
            add("pop \(register.name(.qword))") { $0.pop(register) }
            add("call \(register.name(.qword))") { $0.call(register) }
            for size in [OperandSize.dword, .qword] {
                add("neg \(register.name(size))") { $0.neg(size, register) }
                add("not \(register.name(size))") { $0.not(size, register) }
                for operation in ShiftOperation.allCases {
                    add("\(operation) \(register.name(size)), cl") { $0.shiftByCL(operation, size, register) }
                    for count: UInt8 in [1, 5, 32] {
                        add("\(operation) \(register.name(size)), \(count)") { $0.shift(operation, size, register, by: count) }
                    }
                }
                for operation in ALUOperation.allCases {
                    for immediate: Int32 in [0, -1, 127, -128, 128, 0x1234_5678, Int32.min] {
                        add("\(operation) \(register.name(size)), \(immediate)") {
                            $0.alu(operation, size, .register(register), immediate: immediate)
                        }
                    }
                }
            }
            for condition in ConditionCode.allCases {
                add("set\(condition.name) \(register.name(.byte))") { $0.setcc(condition, register) }
            }
        }
        for a in registers {
            for b in registers {
                for size in [OperandSize.dword, .qword] {
                    for operation in ALUOperation.allCases {
                        add("\(operation) \(a.name(size)), \(b.name(size))") { $0.alu(operation, size, a, b) }
                    }
                    add("test \(a.name(size)), \(b.name(size))") { $0.test(size, a, b) }
                    add("imul \(a.name(size)), \(b.name(size))") { $0.imul(size, a, b) }
                    add("movzx \(a.name(size)), \(b.name(.byte))") { $0.movzx(size, a, .register(b), from: .byte) }
                    add("movzx \(a.name(size)), \(b.name(.word))") { $0.movzx(size, a, .register(b), from: .word) }
                    add("movsx \(a.name(size)), \(b.name(.byte))") { $0.movsx(size, a, .register(b), from: .byte) }
                    add("movsx \(a.name(size)), \(b.name(.word))") { $0.movsx(size, a, .register(b), from: .word) }
                }
                add("movsxd \(a.name(.qword)), \(b.name(.dword))") { $0.movsxd(a, .register(b)) }
                for condition in [ConditionCode.e, .ne, .l, .ge, .le, .g, .b, .ae, .be, .a] {
                    add("cmov\(condition.name) \(a.name(.qword)), \(b.name(.qword))") { $0.cmov(condition, .qword, a, b) }
                    add("cmov\(condition.name) \(a.name(.dword)), \(b.name(.dword))") { $0.cmov(condition, .dword, a, b) }
                }
            }
        }
        for (position, memory) in Self.memoryOperands.enumerated() {
            let register = registers[(position * 7) % 16]
            for size in [OperandSize.dword, .qword] {
                add("movzx \(register.name(size)), byte ptr \(Self.text(memory))") { $0.movzx(size, register, .memory(memory), from: .byte) }
                add("movzx \(register.name(size)), word ptr \(Self.text(memory))") { $0.movzx(size, register, .memory(memory), from: .word) }
                add("movsx \(register.name(size)), byte ptr \(Self.text(memory))") { $0.movsx(size, register, .memory(memory), from: .byte) }
                add("movsx \(register.name(size)), word ptr \(Self.text(memory))") { $0.movsx(size, register, .memory(memory), from: .word) }
                add("cmp \(Self.ptr(size)) \(Self.text(memory)), 0") { $0.alu(.cmp, size, .memory(memory), immediate: 0) }
                add("add \(Self.ptr(size)) \(Self.text(memory)), 1000") { $0.alu(.add, size, .memory(memory), immediate: 1000) }
                add("cmp \(register.name(size)), \(Self.ptr(size)) \(Self.text(memory))") { $0.alu(.cmp, size, register, memory) }
            }
            add("movsxd \(register.name(.qword)), dword ptr \(Self.text(memory))") { $0.movsxd(register, .memory(memory)) }
            for size in [OperandSize.dword, .qword] {
                add("lea \(register.name(size)), \(Self.text(memory))") { $0.lea(size, register, memory) }
            }
            // Guest x87 instructions the JIT runs on the host FPU, and the byte compare of its residence test.
            add("fadd qword ptr \(Self.text(memory))") { $0.x87(escape: 4, reg: 0, memory) }
            add("fld tbyte ptr \(Self.text(memory))") { $0.x87(escape: 3, reg: 5, memory) }
            add("fistp word ptr \(Self.text(memory))") { $0.x87(escape: 7, reg: 3, memory) }
            add("fnsave \(Self.text(memory))") { $0.x87(escape: 5, reg: 6, memory) }
            add("cmp byte ptr \(Self.text(memory)), 200") { $0.compareByte(memory, 200) }
            add("pushfq; pop qword ptr \(Self.text(memory))") { $0.storeFlags(memory) }
        }
        add("fmul st(0), st(3)") { $0.x87(escape: 0, modrm: 0xCB) }
        add("fsqrt") { $0.x87(escape: 1, modrm: 0xFA) }
        for register in registers { add("jmp \(register.name(.qword))") { $0.jump(register) } }
        add("fstp st(0)") { $0.x87(escape: 5, modrm: 0xD8) }
        add("fucomip st(0), st(1)") { $0.x87(escape: 7, modrm: 0xE9) }
        add("ret") { $0.ret() }
        try compare()
    }

    /// Jumps to labels: backward ones short when they reach, forward ones
    /// long unless asked short; GNU as gets the same choice through {disp32}.
    func testJumpsToLabels() throws {
        var assembler = X64Assembler()
        var lines: [String] = []
        let top = assembler.newLabel(), ahead = assembler.newLabel(), near = assembler.newLabel(), far = assembler.newLabel()
        assembler.bind(top); lines.append("top:")
        assembler.jmp(ahead); lines.append("{disp32} jmp ahead")
        assembler.jcc(.ne, near, short: true); lines.append("jne closeby")
        assembler.jcc(.ge, ahead); lines.append("{disp32} jge ahead")
        assembler.jmp(top); lines.append("jmp top")
        assembler.jcc(.b, top); lines.append("jb top")
        assembler.bind(near); lines.append("closeby:")
        for _ in 0..<40 { assembler.movabs(.rax, 1); lines.append("movabs rax, 1") }
        assembler.bind(ahead); lines.append("ahead:")
        assembler.jmp(top); lines.append("jmp top")
        assembler.jcc(.l, top); lines.append("jl top")
        assembler.jmp(near); lines.append("jmp closeby")
        assembler.jmp(far, short: true); lines.append("jmp last")
        assembler.ret(); lines.append("ret")
        assembler.bind(far); lines.append("last:")
        assembler.jcc(.le, far); lines.append("jle last")
        XCTAssertTrue(assembler.isResolved)
        let expected = try GNUAssembler.assemble(lines)
        XCTAssertEqual(assembler.bytes, expected, "\n ours: \(hex(assembler.bytes))\ngnu as: \(hex(expected))")
    }

    /// Assembles every case in both and names the first that differs.
    private func compare() throws {
        let expected = try GNUAssembler.assemble(cases.map(\.text))
        var offset = 0
        for item in cases {
            var assembler = X64Assembler()
            item.emit(&assembler)
            let ours = assembler.bytes
            let theirs = Array(expected[min(offset, expected.count)..<min(offset + ours.count, expected.count)])
            if ours != theirs {
                XCTFail("`\(item.text)`: ours \(hex(ours)), gnu as \(hex(Array(expected[offset..<min(offset + 16, expected.count)])))")
                return  // lengths may differ: later offsets are meaningless
            }
            offset += ours.count
        }
        XCTAssertEqual(offset, expected.count, "GNU as produced more bytes")
        print("AssemblerTests: \(cases.count) instructions match GNU as byte for byte")
    }
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined(separator: " ") }

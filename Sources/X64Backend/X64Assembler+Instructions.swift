/// The instructions the code generator uses, one method per form. Where an
/// instruction has several encodings, the one GNU `as` picks is used, so
/// the byte-exact tests can compare with it.

/// Two-operand integer operations with the classic 00-3F layout: opcode
/// `8 * digit + 1` is `op r/m, r` and `81`/`83 /digit` take an immediate.
public enum ALUOperation: UInt8, CaseIterable, Sendable {
    case add = 0, or = 1, adc = 2, sbb = 3, and = 4, sub = 5, xor = 6, cmp = 7
}

/// Shifts and rotates: `C1`/`D1`/`D3 /digit`.
public enum ShiftOperation: UInt8, CaseIterable, Sendable {
    case rol = 0, ror = 1, shl = 4, shr = 5, sar = 7
}

extension X64Assembler {
    // MARK: moves

    /// mov dst, src (89 /r; 88 for bytes).
    public mutating func mov(_ size: OperandSize, _ destination: HostRegister, _ source: HostRegister) {
        emit(Opcode(size == .byte ? 0x88 : 0x89), size: size, reg: source.rawValue, regIsByteRegister: size == .byte,
             rm: .register(destination), rmIsByteRegister: size == .byte)
    }

    /// mov dst, [memory] (8B /r; 8A for bytes).
    public mutating func load(_ size: OperandSize, _ destination: HostRegister, _ memory: MemoryOperand) {
        emit(Opcode(size == .byte ? 0x8A : 0x8B), size: size, reg: destination.rawValue,
             regIsByteRegister: size == .byte, rm: .memory(memory))
    }

    /// lea dst, [memory] (8D /r): the TLB probe's last-byte address.
    public mutating func lea(_ size: OperandSize, _ destination: HostRegister, _ memory: MemoryOperand) {
        precondition(size == .dword || size == .qword)
        emit(Opcode(0x8D), size: size, reg: destination.rawValue, rm: .memory(memory))
    }

    /// mov [memory], src (89 /r; 88 for bytes).
    public mutating func store(_ size: OperandSize, _ memory: MemoryOperand, _ source: HostRegister) {
        emit(Opcode(size == .byte ? 0x88 : 0x89), size: size, reg: source.rawValue,
             regIsByteRegister: size == .byte, rm: .memory(memory))
    }

    /// mov [memory], imm (C6/C7 /0); a qword store sign-extends its 32-bit immediate.
    public mutating func storeImmediate(_ size: OperandSize, _ memory: MemoryOperand, _ value: Int32) {
        emit(Opcode(size == .byte ? 0xC6 : 0xC7), size: size, reg: 0, rm: .memory(memory))
        switch size {
        case .byte: byte(UInt8(truncatingIfNeeded: value))
        case .word: int16(UInt16(truncatingIfNeeded: value))
        case .dword, .qword: int32(UInt32(bitPattern: value))
        }
    }

    /// Loads a constant with the shortest exact form: mov r32, imm32
    /// (zero-extends), mov r64, simm32, or movabs r64, imm64. Leaves the flags alone.
    public mutating func movImmediate(_ destination: HostRegister, _ value: UInt64) {
        if value <= UInt64(UInt32.max) {
            emitOpcodeRegister(0xB8, destination, wide: false)
            int32(UInt32(value))
        } else if let signed = Int32(exactly: Int64(bitPattern: value)) {
            emit(Opcode(0xC7), size: .qword, reg: 0, rm: .register(destination))
            int32(UInt32(bitPattern: signed))
        } else {
            movabs(destination, value)
        }
    }

    /// movabs r64, imm64 (REX.W B8+r).
    public mutating func movabs(_ destination: HostRegister, _ value: UInt64) {
        emitOpcodeRegister(0xB8, destination, wide: true)
        int64(value)
    }

    /// movzx dst, src: bytes or words zero-extended (0F B6/B7).
    public mutating func movzx(_ size: OperandSize, _ destination: HostRegister, _ source: RMOperand, from sourceSize: OperandSize) {
        precondition(sourceSize == .byte || sourceSize == .word)
        emit(Opcode(sourceSize == .byte ? 0xB6 : 0xB7, escape0F: true), size: size, reg: destination.rawValue,
             rm: source, rmIsByteRegister: sourceSize == .byte)
    }

    /// movsx dst, src: bytes or words sign-extended (0F BE/BF).
    public mutating func movsx(_ size: OperandSize, _ destination: HostRegister, _ source: RMOperand, from sourceSize: OperandSize) {
        precondition(sourceSize == .byte || sourceSize == .word)
        emit(Opcode(sourceSize == .byte ? 0xBE : 0xBF, escape0F: true), size: size, reg: destination.rawValue,
             rm: source, rmIsByteRegister: sourceSize == .byte)
    }

    /// movsxd r64, r/m32 (REX.W 63 /r).
    public mutating func movsxd(_ destination: HostRegister, _ source: RMOperand) {
        emit(Opcode(0x63), size: .qword, reg: destination.rawValue, rm: source)
    }

    // MARK: arithmetic

    /// op dst, src (01, 09, ... 39 /r).
    public mutating func alu(_ operation: ALUOperation, _ size: OperandSize, _ destination: HostRegister, _ source: HostRegister) {
        emit(Opcode(operation.rawValue << 3 | 1), size: size, reg: source.rawValue, rm: .register(destination))
    }

    /// op dst, [memory] (03, 0B, ... 3B /r): the TLB tag compare.
    public mutating func alu(_ operation: ALUOperation, _ size: OperandSize, _ destination: HostRegister, _ source: MemoryOperand) {
        precondition(size != .byte)
        emit(Opcode(operation.rawValue << 3 | 3), size: size, reg: destination.rawValue, rm: .memory(source))
    }

    /// op r/m, imm (83 /digit ib when the immediate fits a signed byte, else 81 /digit id).
    public mutating func alu(_ operation: ALUOperation, _ size: OperandSize, _ destination: RMOperand, immediate: Int32) {
        precondition(size != .byte)
        if let short = Int8(exactly: immediate) {
            emit(Opcode(0x83), size: size, reg: operation.rawValue, rm: destination)
            byte(UInt8(bitPattern: short))
        } else if destination == .register(.rax) {
            // The accumulator's own form (05, 0D, ... 3D id), one byte shorter; GNU as picks it.
            if size == .word { byte(0x66) }
            if size == .qword { byte(0x48) }
            byte(operation.rawValue << 3 | 5)
            if size == .word { int16(UInt16(truncatingIfNeeded: immediate)) } else { int32(UInt32(bitPattern: immediate)) }
        } else {
            emit(Opcode(0x81), size: size, reg: operation.rawValue, rm: destination)
            if size == .word { int16(UInt16(truncatingIfNeeded: immediate)) } else { int32(UInt32(bitPattern: immediate)) }
        }
    }

    /// test a, b (85 /r).
    public mutating func test(_ size: OperandSize, _ a: HostRegister, _ b: HostRegister) {
        emit(Opcode(0x85), size: size, reg: b.rawValue, rm: .register(a))
    }

    /// imul dst, src (0F AF /r).
    public mutating func imul(_ size: OperandSize, _ destination: HostRegister, _ source: HostRegister) {
        emit(Opcode(0xAF, escape0F: true), size: size, reg: destination.rawValue, rm: .register(source))
    }

    /// neg r (F7 /3).
    public mutating func neg(_ size: OperandSize, _ register: HostRegister) {
        emit(Opcode(0xF7), size: size, reg: 3, rm: .register(register))
    }

    /// not r (F7 /2).
    public mutating func not(_ size: OperandSize, _ register: HostRegister) {
        emit(Opcode(0xF7), size: size, reg: 2, rm: .register(register))
    }

    /// shift r, cl (D3 /digit).
    public mutating func shiftByCL(_ operation: ShiftOperation, _ size: OperandSize, _ register: HostRegister) {
        emit(Opcode(0xD3), size: size, reg: operation.rawValue, rm: .register(register))
    }

    /// shift r, imm8 (D1 /digit for 1, as GNU as does; C1 /digit ib otherwise).
    public mutating func shift(_ operation: ShiftOperation, _ size: OperandSize, _ register: HostRegister, by count: UInt8) {
        if count == 1 {
            emit(Opcode(0xD1), size: size, reg: operation.rawValue, rm: .register(register))
        } else {
            emit(Opcode(0xC1), size: size, reg: operation.rawValue, rm: .register(register))
            byte(count)
        }
    }

    // MARK: conditions

    /// setcc r8 (0F 90+cc /0).
    public mutating func setcc(_ condition: ConditionCode, _ register: HostRegister) {
        emit(Opcode(0x90 | condition.rawValue, escape0F: true), size: .byte, reg: 0, rm: .register(register), rmIsByteRegister: true)
    }

    /// cmovcc dst, src (0F 40+cc /r).
    public mutating func cmov(_ condition: ConditionCode, _ size: OperandSize, _ destination: HostRegister, _ source: HostRegister) {
        emit(Opcode(0x40 | condition.rawValue, escape0F: true), size: size, reg: destination.rawValue, rm: .register(source))
    }

    // MARK: control flow

    /// jmp label (EB rel8 / E9 rel32).
    public mutating func jmp(_ label: AssemblerLabel, short: Bool = false) {
        jump(to: label, short: 0xEB, long: 0xE9, longEscape0F: false, forceShort: short)
    }

    /// jcc label (70+cc rel8 / 0F 80+cc rel32).
    public mutating func jcc(_ condition: ConditionCode, _ label: AssemblerLabel, short: Bool = false) {
        jump(to: label, short: 0x70 | condition.rawValue, long: 0x80 | condition.rawValue, longEscape0F: true, forceShort: short)
    }

    /// jmp r64 (FF /4).
    public mutating func jump(_ register: HostRegister) {
        emit(Opcode(0xFF), size: .dword, reg: 4, rm: .register(register))
    }

    /// call r64 (FF /2).
    public mutating func call(_ register: HostRegister) {
        emit(Opcode(0xFF), size: .dword, reg: 2, rm: .register(register))
    }

    public mutating func push(_ register: HostRegister) { emitOpcodeRegister(0x50, register, wide: false) }
    public mutating func pop(_ register: HostRegister) { emitOpcodeRegister(0x58, register, wide: false) }
    public mutating func ret() { byte(0xC3) }
}

// MARK: x87 (guest instructions run on the host FPU)

extension X64Assembler {
    /// An x87 register form: escape byte D8+`escape`, then the ModRM byte as is.
    public mutating func x87(escape: UInt8, modrm: UInt8) {
        byte(0xD8 | escape & 7)
        byte(modrm)
    }

    /// An x87 memory form: escape byte D8+`escape` with /`reg` on `memory`.
    public mutating func x87(escape: UInt8, reg: UInt8, _ memory: MemoryOperand) {
        emit(Opcode(0xD8 | escape & 7), size: .dword, reg: reg & 7, rm: .memory(memory))
    }

    /// PUSHFQ; POP qword [memory]: RFLAGS to memory, no register used.
    public mutating func storeFlags(_ memory: MemoryOperand) {
        byte(0x9C)
        emit(Opcode(0x8F), size: .dword, reg: 0, rm: .memory(memory))
    }

    /// CMP byte [memory], imm8.
    public mutating func compareByte(_ memory: MemoryOperand, _ value: UInt8) {
        emit(Opcode(0x80), size: .dword, reg: 7, rm: .memory(memory))
        byte(value)
    }
}

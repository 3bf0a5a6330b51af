/// Builds x86-64 machine code into a byte array. The encoding core is one
/// function (`emit`) that takes an opcode with its prefix needs and a ModRM
/// operand pair; the instruction methods (X64Assembler+Instructions) only
/// choose opcodes. Labels are resolved when bound; jumps to labels not yet
/// bound are patched then.
public struct X64Assembler {
    /// The code so far. The buffer is shared by copies of the assembler:
    /// an assembler is built up in one place and not copied.
    private let buffer = CodeBuffer()
    public var bytes: [UInt8] { buffer.bytes }

    /// Where each label was bound (nil until then).
    private var labelPositions: [Int?] = []
    /// Jumps waiting for a label.
    private var fixups: [Fixup] = []

    /// A jump waiting for its label: where its displacement is, and its size.
    private struct Fixup {
        var label: Int
        var at: Int
        var size: Int
    }

    /// Room for a usual block's labels and jumps at once: growing from
    /// empty took several allocations per block, a measurable part of
    /// translation.
    public init() {
        labelPositions.reserveCapacity(32)
        fixups.reserveCapacity(32)
    }

    public var position: Int { buffer.count }

    /// The code so far, without copying it; valid until the next emit or reset.
    var emitted: UnsafeRawBufferPointer { buffer.emitted }

    /// Forgets the code, labels and jumps, keeping the memory for the next
    /// block (the code generator is reused from block to block).
    mutating func reset() {
        buffer.removeAll()
        labelPositions.removeAll(keepingCapacity: true)
        fixups.removeAll(keepingCapacity: true)
    }

    // MARK: raw bytes

    public mutating func byte(_ value: UInt8) { buffer.append(value) }

    mutating func int16(_ value: UInt16) {
        buffer.append(UInt8(truncatingIfNeeded: value))
        buffer.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func int32(_ value: UInt32) {
        buffer.append(UInt8(truncatingIfNeeded: value))
        buffer.append(UInt8(truncatingIfNeeded: value >> 8))
        buffer.append(UInt8(truncatingIfNeeded: value >> 16))
        buffer.append(UInt8(truncatingIfNeeded: value >> 24))
    }

    mutating func int64(_ value: UInt64) {
        int32(UInt32(truncatingIfNeeded: value))
        int32(UInt32(truncatingIfNeeded: value >> 32))
    }

    // MARK: the encoding core

    /// A one-byte opcode and what it needs around it (a plain value: no
    /// allocation per instruction).
    struct Opcode {
        var value: UInt8
        /// Preceded by the 0x0F escape.
        var escape0F = false
        init(_ value: UInt8, escape0F: Bool = false) {
            self.value = value
            self.escape0F = escape0F
        }
    }

    /// Emits [0x66] [REX] [0x0F] opcode ModRM [SIB] [displacement]. `reg` is
    /// the ModRM reg field: a register number or an opcode extension (/digit).
    /// `size` sets 0x66 (word) and REX.W (qword); `byteRegisters` says the
    /// operands are byte registers, so SPL..DIL need an empty REX.
    mutating func emit(_ opcode: Opcode, size: OperandSize, reg: UInt8, regIsByteRegister: Bool = false,
                       rm: RMOperand, rmIsByteRegister: Bool = false) {
        if size == .word { byte(0x66) }
        var rex: UInt8 = 0
        if size == .qword { rex |= 8 }
        if reg >= 8 { rex |= 4 }
        var forceREX = regIsByteRegister && reg >= 4 && reg < 8
        switch rm {
        case let .register(register):
            if register.isExtended { rex |= 1 }
            if rmIsByteRegister && register.needsREXAsByte { forceREX = true }
        case let .memory(memory):
            if memory.base.isExtended { rex |= 1 }
            if memory.index?.isExtended == true { rex |= 2 }
        }
        if rex != 0 || forceREX { byte(0x40 | rex) }
        if opcode.escape0F { byte(0x0F) }
        byte(opcode.value)
        modRM(reg: reg & 7, rm: rm)
    }

    private mutating func modRM(reg: UInt8, rm: RMOperand) {
        switch rm {
        case let .register(register):
            byte(0xC0 | reg << 3 | register.low3)
        case let .memory(memory):
            let displacement = memory.displacement
            // Mod 00 with base 101 means RIP-relative (or disp32 with SIB):
            // RBP and R13 as bases always carry a displacement.
            let mod: UInt8
            if displacement == 0 && memory.base.low3 != 5 { mod = 0 }
            else if Int8(exactly: displacement) != nil { mod = 1 }
            else { mod = 2 }
            // rm 100 means "a SIB byte follows": RSP and R12 as bases need one.
            if memory.index != nil || memory.base.low3 == 4 {
                byte(mod << 6 | reg << 3 | 4)
                let scaleBits = UInt8(memory.scale.trailingZeroBitCount)
                let index = memory.index?.low3 ?? 4  // 100: no index
                byte(scaleBits << 6 | index << 3 | memory.base.low3)
            } else {
                byte(mod << 6 | reg << 3 | memory.base.low3)
            }
            if mod == 1 { byte(UInt8(bitPattern: Int8(displacement))) }
            if mod == 2 { int32(UInt32(bitPattern: displacement)) }
        }
    }

    /// A REX prefix for an instruction with the register in the opcode's low bits (push, pop, mov imm).
    mutating func emitOpcodeRegister(_ opcode: UInt8, _ register: HostRegister, wide: Bool) {
        let rex: UInt8 = (wide ? 8 : 0) | (register.isExtended ? 1 : 0)
        if rex != 0 { byte(0x40 | rex) }
        byte(opcode | register.low3)
    }

    // MARK: labels

    public mutating func newLabel() -> AssemblerLabel {
        labelPositions.append(nil)
        return AssemblerLabel(id: labelPositions.count - 1)
    }

    public func isBound(_ label: AssemblerLabel) -> Bool { labelPositions[label.id] != nil }

    /// Binds `label` here and patches the jumps already made to it.
    public mutating func bind(_ label: AssemblerLabel) {
        precondition(labelPositions[label.id] == nil, "label bound twice")
        labelPositions[label.id] = position
        var kept = 0
        for index in fixups.indices {
            let fixup = fixups[index]
            if fixup.label != label.id {
                fixups[kept] = fixup
                kept += 1
                continue
            }
            let distance = position - (fixup.at + fixup.size)
            if fixup.size == 1 {
                guard let short = Int8(exactly: distance) else {
                    preconditionFailure("short jump of \(distance) bytes does not fit rel8")
                }
                buffer[fixup.at] = UInt8(bitPattern: short)
            } else {
                let value = UInt32(bitPattern: Int32(distance))
                for index in 0..<4 { buffer[fixup.at + index] = UInt8(truncatingIfNeeded: value >> UInt32(8 * index)) }
            }
        }
        fixups.removeLast(fixups.count - kept)
    }

    /// Emits a jump with a one-byte (`shortOpcode`) or four-byte form. A
    /// bound label gets the short form when it reaches; an unbound one gets
    /// the long form unless the caller promises a short distance.
    /// The short form is one opcode byte; the long form is `longOpcode`,
    /// after a 0x0F escape when `longEscape0F`.
    mutating func jump(to label: AssemblerLabel, short shortOpcode: UInt8, long longOpcode: UInt8,
                       longEscape0F: Bool, forceShort: Bool) {
        if let target = labelPositions[label.id] {
            let shortDistance = target - (position + 2)
            if let short = Int8(exactly: shortDistance) {
                byte(shortOpcode)
                byte(UInt8(bitPattern: short))
            } else {
                precondition(!forceShort, "short jump of \(shortDistance) bytes does not fit rel8")
                if longEscape0F { byte(0x0F) }
                byte(longOpcode)
                int32(UInt32(bitPattern: Int32(target - (position + 4))))
            }
        } else if forceShort {
            byte(shortOpcode)
            fixups.append(Fixup(label: label.id, at: position, size: 1))
            byte(0)
        } else {
            if longEscape0F { byte(0x0F) }
            byte(longOpcode)
            fixups.append(Fixup(label: label.id, at: position, size: 4))
            int32(0)
        }
    }

    /// True when every jump has found its label.
    public var isResolved: Bool { fixups.isEmpty }
}

import IR
import X86State

/// PUSH and POP in their forms, PUSHA/POPA, PUSHF/POPF, ENTER, LEAVE.
extension TranslationContext {
    func translateStack() -> Bool {
        let opcode = instruction.opcode
        let bytes = Int(instruction.operandSizeAttribute) / 8
        switch opcode {
        case 0x50...0x57:
            push(readRegister(Int(opcode & 7), bytes: bytes), bytes: bytes)
        case 0x58...0x5F:
            let (value, afterPop) = popValue(bytes: bytes)
            setStackPointer(afterPop)
            writeRegister(Int(opcode & 7), bytes: bytes, value)
        case 0x68, 0x6A:
            push(constant(instruction.immediate), bytes: bytes)
        case 0x06, 0x0E, 0x16, 0x1E, 0x0FA0, 0x0FA8:
            let segment = pushedSegment(opcode)
            let selector = b.loadState(offset: CPUStateLayout.segmentSelector(segment), .u16)
            push(selector, bytes: bytes)
        case 0x07, 0x17, 0x1F, 0x0FA1, 0x0FA9:
            let (selector, afterPop) = popValue(bytes: bytes)
            let segment = pushedSegment(opcode)
            // The segment load may fault; ESP moves only after it succeeded.
            loadSegment(segment, truncate(selector, bytes: 2)) { setStackPointer(afterPop) }
        case 0x8F where instruction.reg == 0:
            let (value, afterPop) = popValue(bytes: bytes)
            if instruction.isRegisterOperand || usesStackPointer(instruction.memory) {
                // POP into ESP keeps the popped value; a memory address through ESP
                // is computed with ESP already incremented.
                setStackPointer(afterPop)
                write(modrmLocation(), value, bytes: bytes)
            } else {
                write(modrmLocation(), value, bytes: bytes)
                setStackPointer(afterPop)
            }
        case 0xFF where instruction.reg == 6:
            push(read(modrmLocation(), bytes: bytes), bytes: bytes)
        case 0x60:
            // The ESP slot holds the register as it was, whole, whatever the stack's size.
            let original = readRegister(Register.esp.rawValue, bytes: bytes)
            var pointer = stackPointer()
            for register in 0..<8 {
                pointer = offsetStackPointer(pointer, by: -Int32(bytes))
                let value = register == Register.esp.rawValue ? original : readRegister(register, bytes: bytes)
                store(.ss, pointer, value, bytes: bytes)
            }
            setStackPointer(pointer)
        case 0x61:
            var pointer = stackPointer()
            var values: [Temp] = []
            for _ in 0..<8 {
                values.append(load(.ss, pointer, bytes: bytes))
                pointer = offsetStackPointer(pointer, by: Int32(bytes))
            }
            for (slot, register) in (0..<8).reversed().enumerated() where register != Register.esp.rawValue {
                writeRegister(register, bytes: bytes, values[slot])
            }
            setStackPointer(pointer)
        case 0x9C:
            if faultsAsIOPLSensitiveInVirtual8086() { return true }
            let flags = b.call(X86Helper.readFlags.index, [], result: .i32)
            // The pushed image has VM and RF clear.
            push(b.and(flags, UInt64(~(EFLAGS.virtual8086 | EFLAGS.resume))), bytes: bytes)
        case 0x9D:
            if faultsAsIOPLSensitiveInVirtual8086() { return true }
            let (value, afterPop) = popValue(bytes: bytes)
            b.call(X86Helper.writeFlags.index, [value, constant(UInt32(bytes))])
            setStackPointer(afterPop)
            knownConditionCodes = .eflags
            endBlockAfterInstruction()  // IF or TF may have changed
        case 0xC8:
            enter(size: instruction.immediate & 0xFFFF, level: UInt32(instruction.immediate2) & 31, bytes: bytes)
        case 0xC9:
            let framePointer = readRegister(Register.ebp.rawValue, bytes: stack32 ? 4 : 2)
            let value = load(.ss, framePointer, bytes: bytes)
            setStackPointer(offsetStackPointer(framePointer, by: Int32(bytes)))
            writeRegister(Register.ebp.rawValue, bytes: bytes, value)
        default:
            return false
        }
        return true
    }

    private func pushedSegment(_ opcode: UInt16) -> Segment {
        switch opcode {
        case 0x06, 0x07: return .es
        case 0x0E: return .cs
        case 0x16, 0x17: return .ss
        case 0x1E, 0x1F: return .ds
        case 0x0FA0, 0x0FA1: return .fs
        default: return .gs
        }
    }

    private func usesStackPointer(_ memory: MemoryOperand) -> Bool {
        memory.base == UInt8(Register.esp.rawValue) && instruction.addressSize == 32
    }

    /// ENTER: push eBP, copy `level - 1` outer frame pointers, push the new
    /// frame pointer, and reserve `size` bytes. Registers change only at the end.
    private func enter(size: UInt32, level: UInt32, bytes: Int) {
        let stackBytes = stack32 ? 4 : 2
        var pointer = offsetStackPointer(stackPointer(), by: -Int32(bytes))
        store(.ss, pointer, readRegister(Register.ebp.rawValue, bytes: bytes), bytes: bytes)
        // FrameTemp: with a 32-bit operand on a 16-bit stack, ESP's upper half over
        // the new SP (as the host CPU does with a 16-bit SS); pushed and put in EBP.
        let frame = bytes == 4 && !stack32
            ? b.or(b.and(globals.registers[Register.esp.rawValue], 0xFFFF_0000), pointer) : pointer
        if level > 0 {
            var outer = readRegister(Register.ebp.rawValue, bytes: stackBytes)
            for _ in 1..<max(level, 1) {
                outer = offsetStackPointer(outer, by: -Int32(bytes))
                pointer = offsetStackPointer(pointer, by: -Int32(bytes))
                store(.ss, pointer, load(.ss, outer, bytes: bytes), bytes: bytes)
            }
            pointer = offsetStackPointer(pointer, by: -Int32(bytes))
            store(.ss, pointer, frame, bytes: bytes)
        }
        pointer = offsetStackPointer(pointer, by: -Int32(size))
        // The final stack pointer must be writable: its segment check (#SS) and a
        // write probe of its page (#PF), storing nothing.
        if size > 0 {
            let linear = linearAddress(pointer, segment: .ss, bytes: 1, access: .write)
            b.call(X86Helper.system.index, [b.constant(record: SystemCall(.probeWrite)), constant(0), linear])
        }
        writeRegister(Register.ebp.rawValue, bytes: bytes, frame)
        setStackPointer(pointer)
    }
}

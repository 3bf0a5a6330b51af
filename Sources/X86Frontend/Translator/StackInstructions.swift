import IR
import X86State

/// PUSH and POP in their forms, PUSHA/POPA, PUSHF/POPF, ENTER, LEAVE.
extension TranslationContext {
    /// Bytes a PUSH or POP moves: the operand-size attribute's.
    var stackOperandBytes: Int { long64 ? Int(instruction.operandSize) / 8 : Int(instruction.operandSizeAttribute) / 8 }

    /// The width of the stack pointer: RSP, ESP or SP.
    var stackAddressBytes: Int { long64 ? 8 : (stack32 ? 4 : 2) }

    /// PUSH of a register, an immediate, r/m or a segment register.
    func translatePush() {
        push(loadOperand(instruction.operand1), bytes: stackOperandBytes)
    }

    /// POP into a register or r/m.
    func translatePop() {
        let destination = instruction.operand1
        let (value, afterPop) = popValue(bytes: stackOperandBytes)
        if !destination.usesRM || instruction.isRegisterOperand || usesStackPointer(instruction.memory) {
            // POP into ESP keeps the popped value; a memory address through ESP
            // is computed with ESP already incremented.
            setStackPointer(afterPop)
            storeOperand(destination, value)
        } else {
            storeOperand(destination, value)
            setStackPointer(afterPop)
        }
    }

    func popSegment() {
        let (selector, afterPop) = popValue(bytes: stackOperandBytes)
        // The segment load may fault; ESP moves only after it succeeded.
        loadSegment(segmentRegister(instruction.operand1), truncate(selector, bytes: 2)) { setStackPointer(afterPop) }
    }

    /// PUSHA: the ESP slot holds the register as it was, whole, whatever the stack's size.
    func pushAll() {
        let bytes = stackOperandBytes
        let original = readRegister(Register.esp.rawValue, bytes: bytes)
        var pointer = stackPointer()
        for register in 0..<8 {
            pointer = offsetStackPointer(pointer, by: -Int32(bytes))
            let value = register == Register.esp.rawValue ? original : readRegister(register, bytes: bytes)
            store(.ss, pointer, value, bytes: bytes)
        }
        setStackPointer(pointer)
    }

    /// POPA: every register but ESP, from the slots PUSHA filled.
    func popAll() {
        let bytes = stackOperandBytes
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
    }

    func pushFlags() {
        if faultsAsIOPLSensitiveInVirtual8086() { return }
        let flags = b.call(X86Helper.readFlags.index, [], result: .i32)
        // The pushed image has VM and RF clear.
        push(b.and(flags, UInt64(~(EFLAGS.virtual8086 | EFLAGS.resume))), bytes: stackOperandBytes)
    }

    func popFlags() {
        if faultsAsIOPLSensitiveInVirtual8086() { return }
        let bytes = stackOperandBytes
        let (value, afterPop) = popValue(bytes: bytes)
        b.call(X86Helper.writeFlags.index, [value, constant(UInt32(bytes))])
        setStackPointer(afterPop)
        knownConditionCodes = .eflags
        endBlockAfterInstruction()  // IF or TF may have changed
    }

    /// ENTER Iw, Ib: the frame size and the nesting level (mod 32).
    func translateEnter() {
        enter(size: instruction.immediate & 0xFFFF, level: UInt32(instruction.immediate2) & 31, bytes: stackOperandBytes)
    }

    func leave() {
        let bytes = stackOperandBytes
        let framePointer = readRegister(Register.ebp.rawValue, bytes: stackAddressBytes)
        let value = load(.ss, framePointer, bytes: bytes)
        setStackPointer(offsetStackPointer(framePointer, by: Int32(bytes)))
        writeRegister(Register.ebp.rawValue, bytes: bytes, value)
    }

    private func usesStackPointer(_ memory: MemoryOperand) -> Bool {
        memory.base == UInt8(Register.esp.rawValue) && instruction.addressSize != 16
    }

    /// ENTER: push eBP, copy `level - 1` outer frame pointers, push the new
    /// frame pointer, and reserve `size` bytes. Registers change only at the end.
    private func enter(size: UInt32, level: UInt32, bytes: Int) {
        let stackBytes = stackAddressBytes
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

import IR
import X86State

/// Flag-bit instructions, CLI/STI, HLT, IN/OUT, BOUND (CPUID and RDTSC are one
/// helper call each in the dispatch; WAIT is in X87Instructions).
extension TranslationContext {
    /// CLC (0) / STC (1) / CMC (2).
    func carryFlag(_ operation: UInt8) {
        let flags = arithmeticFlags()
        let updated: Temp
        switch operation {
        case 0: updated = b.and(flags, UInt64(~EFLAGS.carry))
        case 1: updated = b.or(flags, constant(EFLAGS.carry))
        default: updated = b.xor(flags, constant(EFLAGS.carry))
        }
        setFlags(value: updated)
    }

    /// CLD / STD: the direction global is the string step's sign (+1 or -1).
    func setDirection(up: Bool) {
        b.move(into: globals.direction, constant: up ? 1 : UInt64(UInt32(bitPattern: -1)))
    }

    /// CLI / STI.
    func interruptFlag(set: Bool) {
        if flags.contains(.ioPrivilegeCheck) {
            // CPL > IOPL (no VME yet): #GP(0).
            raiseException(ExceptionVector.generalProtection)
            return
        }
        let eflags = b.loadState(offset: CPUStateLayout.eflags, .u32)
        if !set {
            b.storeState(b.and(eflags, UInt64(~EFLAGS.interrupt)), offset: CPUStateLayout.eflags, .u32)
        } else {
            b.storeState(b.or(eflags, constant(EFLAGS.interrupt)), offset: CPUStateLayout.eflags, .u32)
            // STI holds interrupts off for one more instruction.
            let hidden = b.loadState(offset: CPUStateLayout.hiddenFlags, .u32)
            b.storeState(b.or(hidden, constant(HiddenFlags.interruptShadow.rawValue)), offset: CPUStateLayout.hiddenFlags, .u32)
            endBlockAfterInstruction()
        }
    }

    func halt() {
        // Privileged: CPL 3 in virtual-8086 mode faults too.
        if flags.contains(.protectedMode) && flags.cpl != 0 {
            raiseException(ExceptionVector.generalProtection)
            return
        }
        b.storeState(addressValue(nextAddress), offset: CPUStateLayout.eip, long64 ? .u64 : .u32, addressType)
        b.call(X86Helper.halt.index)
        endBlockWithStateFromHelper()
    }

    /// IN AL/eAX, Ib/DX.
    func input() {
        let port = loadOperand(instruction.operand2)
        checkIOPermission(port)
        storeOperand(instruction.operand1, b.call(X86Helper.portIn.index, [port, constant(UInt32(operandBytes))], result: .i32))
    }

    /// OUT Ib/DX, AL/eAX.
    func output() {
        let port = loadOperand(instruction.operand1)
        checkIOPermission(port)
        b.call(X86Helper.portOut.index, [port, loadOperand(instruction.operand2), constant(UInt32(operandBytes))])
    }

    /// BOUND: the signed index must lie within [lower, upper].
    func checkBounds() {
        guard instruction.hasMemoryOperand else { return raiseException(ExceptionVector.invalidOpcode) }
        let bytes = operandBytes
        let address = effectiveAddress()
        let lower = signExtend(load(memorySegment, address, bytes: bytes), bytes: bytes)
        let upper = signExtend(load(memorySegment, truncateAddress(b.add(address, UInt64(bytes))), bytes: bytes), bytes: bytes)
        let index = signExtend(loadOperand(instruction.operand1), bytes: bytes)
        let inside = b.newLabel()
        let outside = b.newLabel()
        b.branch(if: .lt, index, lower, to: outside)
        b.branch(if: .le, index, upper, to: inside)
        b.setLabel(outside)
        b.call(X86Helper.raiseInterrupt.index, [constant(ExceptionVector.boundRange), addressValue(instructionAddress),
                                                 constant(InterruptKind.exception.rawValue)])
        b.exitBlock(0)
        b.setLabel(inside)
    }

    /// IN/OUT/INS/OUTS at CPL > IOPL, and always in virtual-8086 mode (whatever
    /// IOPL), consult the TSS's I/O bitmap.
    func checkIOPermission(_ port: Temp) {
        if flags.contains(.ioPrivilegeCheck) || flags.contains(.virtual8086) {
            b.call(X86Helper.checkIOPermission.index, [port, constant(UInt32(operandBytes))])
        }
    }
}

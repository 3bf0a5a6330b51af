import IR
import X86State

/// Flag-bit instructions, CLI/STI, HLT, IN/OUT, CPUID, RDTSC, BOUND (WAIT is in X87Instructions).
extension TranslationContext {
    func translateSystem() -> Bool {
        let opcode = instruction.opcode
        switch opcode {
        case 0xF8, 0xF9, 0xF5:
            // CLC / STC / CMC.
            let flags = arithmeticFlags()
            let updated: Temp
            switch opcode {
            case 0xF8: updated = b.and(flags, UInt64(~EFLAGS.carry))
            case 0xF9: updated = b.or(flags, constant(EFLAGS.carry))
            default: updated = b.xor(flags, constant(EFLAGS.carry))
            }
            setFlags(value: updated)
        case 0xFC, 0xFD:
            b.move(into: globals.direction, constant: opcode == 0xFC ? 1 : UInt64(UInt32(bitPattern: -1)))
        case 0xFA, 0xFB:
            if flags.contains(.ioPrivilegeCheck) {
                // CPL > IOPL (no VME yet): #GP(0).
                raiseException(ExceptionVector.generalProtection)
                return true
            }
            let eflags = b.loadState(offset: CPUStateLayout.eflags, .u32)
            if opcode == 0xFA {
                b.storeState(b.and(eflags, UInt64(~EFLAGS.interrupt)), offset: CPUStateLayout.eflags, .u32)
            } else {
                b.storeState(b.or(eflags, constant(EFLAGS.interrupt)), offset: CPUStateLayout.eflags, .u32)
                // STI holds interrupts off for one more instruction.
                let hidden = b.loadState(offset: CPUStateLayout.hiddenFlags, .u32)
                b.storeState(b.or(hidden, constant(HiddenFlags.interruptShadow.rawValue)), offset: CPUStateLayout.hiddenFlags, .u32)
                endBlockAfterInstruction()
            }
        case 0xF4:
            // Privileged: CPL 3 in virtual-8086 mode faults too.
            if flags.contains(.protectedMode) && flags.cpl != 0 {
                raiseException(ExceptionVector.generalProtection)
                return true
            }
            b.storeState(constant(nextAddress), offset: CPUStateLayout.eip, .u32)
            b.call(X86Helper.halt.index)
            endBlockWithStateFromHelper()
        case 0xE4, 0xE5, 0xEC, 0xED:
            let port = opcode <= 0xE5 ? constant(instruction.immediate & 0xFF) : readRegister(Register.edx.rawValue, bytes: 2)
            checkIOPermission(port)
            writeRegister(0, bytes: operandBytes, b.call(X86Helper.portIn.index, [port, constant(UInt32(operandBytes))], result: .i32))
        case 0xE6, 0xE7, 0xEE, 0xEF:
            let port = opcode <= 0xE7 ? constant(instruction.immediate & 0xFF) : readRegister(Register.edx.rawValue, bytes: 2)
            checkIOPermission(port)
            b.call(X86Helper.portOut.index, [port, readRegister(0, bytes: operandBytes), constant(UInt32(operandBytes))])
        case 0x0FA2:
            b.call(X86Helper.cpuid.index)
        case 0x0F31:
            b.call(X86Helper.readTimeStampCounter.index)
        case 0x0F1F, 0x0F18...0x0F1E:
            break  // hint NOPs
        case 0x62:
            guard instruction.hasMemoryOperand else { return false }
            // BOUND: the signed index must lie within [lower, upper].
            let bytes = operandBytes
            let address = effectiveAddress()
            let lower = signExtend(load(memorySegment, address, bytes: bytes), bytes: bytes)
            let upper = signExtend(load(memorySegment, truncateAddress(b.add(address, UInt64(bytes))), bytes: bytes), bytes: bytes)
            let index = signExtend(readRegister(Int(instruction.reg), bytes: bytes), bytes: bytes)
            let inside = b.newLabel()
            let outside = b.newLabel()
            b.branch(if: .lt, index, lower, to: outside)
            b.branch(if: .le, index, upper, to: inside)
            b.setLabel(outside)
            b.call(X86Helper.raiseInterrupt.index, [constant(ExceptionVector.boundRange), constant(instructionAddress),
                                                     constant(InterruptKind.exception.rawValue)])
            b.exitBlock(0)
            b.setLabel(inside)
        default:
            return false
        }
        return true
    }

    /// IN/OUT/INS/OUTS at CPL > IOPL, and always in virtual-8086 mode (whatever
    /// IOPL), consult the TSS's I/O bitmap.
    func checkIOPermission(_ port: Temp) {
        if flags.contains(.ioPrivilegeCheck) || flags.contains(.virtual8086) {
            b.call(X86Helper.checkIOPermission.index, [port, constant(UInt32(operandBytes))])
        }
    }
}

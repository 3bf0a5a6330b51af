import IR
import X86State

/// Jumps, calls, returns, loops, and the INT family.
extension TranslationContext {
    func translateControlFlow() -> Bool {
        let opcode = instruction.opcode
        let bytes = Int(instruction.operandSizeAttribute) / 8
        switch opcode {
        case 0xEB, 0xE9:
            jump(to: instruction.branchTarget(instructionAddress: instructionAddress), slot: 0)
            blockEnded = true
        case 0x70...0x7F, 0x0F80...0x0F8F:
            conditionalJump(conditionTest(UInt8(opcode & 0xF)))
        case 0xE3:
            // JCXZ / JECXZ: the address size picks CX or ECX.
            let counter = readRegister(Register.ecx.rawValue, bytes: Int(instruction.addressSize) / 8)
            conditionalJump(b.setcond(.eq, counter, constant(0)))
        case 0xE0, 0xE1, 0xE2:
            // LOOPNE / LOOPE / LOOP: decrement the counter (CX or ECX) without touching flags.
            let counterBytes = Int(instruction.addressSize) / 8
            let counter = truncate(b.sub(readRegister(Register.ecx.rawValue, bytes: counterBytes), constant(1)), bytes: counterBytes)
            writeRegister(Register.ecx.rawValue, bytes: counterBytes, counter)
            var taken = b.setcond(.ne, counter, constant(0))
            if opcode != 0xE2 {
                let zero = condition(0x4)
                let wanted = opcode == 0xE1 ? zero : b.binary(.xor, zero, constant: 1)
                taken = b.and(taken, wanted)
            }
            conditionalJump(taken)
        case 0xE8:
            push(constant(nextAddress), bytes: bytes)
            jump(to: instruction.branchTarget(instructionAddress: instructionAddress), slot: 0)
            blockEnded = true
        case 0xFF where instruction.reg == 2 || instruction.reg == 4:
            var target = read(modrmLocation(), bytes: bytes)
            if bytes == 2 { target = truncate(target, bytes: 2) }
            if instruction.reg == 2 { push(constant(nextAddress), bytes: bytes) }
            exitBlock(nextEIP: target)
        case 0xC3, 0xC2:
            let (target, afterPop) = popValue(bytes: bytes)
            let release = opcode == 0xC2 ? Int32(instruction.immediate & 0xFFFF) : 0
            setStackPointer(release == 0 ? afterPop : offsetStackPointer(afterPop, by: release))
            exitBlock(nextEIP: target)
        case 0x9A, 0xEA:
            let selector = constant(UInt32(instruction.immediate2))
            let offset = constant(instruction.immediate)
            farTransfer(call: opcode == 0x9A, selector: selector, offset: offset, bytes: bytes)
        case 0xFF where instruction.reg == 3 || instruction.reg == 5:
            guard instruction.hasMemoryOperand else { return false }
            let address = effectiveAddress()
            let offset = load(memorySegment, address, bytes: bytes)
            let selector = load(memorySegment, truncateAddress(b.add(address, UInt64(bytes))), bytes: 2)
            farTransfer(call: instruction.reg == 3, selector: selector, offset: offset, bytes: bytes)
        case 0xCB, 0xCA:
            let release = opcode == 0xCA ? instruction.immediate & 0xFFFF : 0
            b.call(X86Helper.farReturn.index, [constant(UInt32(bytes)), constant(release)])
            endBlockWithStateFromHelper()
        case 0xCF:
            b.call(X86Helper.interruptReturn.index, [constant(UInt32(bytes))])
            knownConditionCodes = .eflags
            endBlockWithStateFromHelper()
        case 0xCC:
            softwareInterrupt(3)
        case 0xCD:
            // INT3 and INTO are not IOPL-sensitive; INT n is.
            if faultsAsIOPLSensitiveInVirtual8086() { return true }
            softwareInterrupt(instruction.immediate & 0xFF)
        case 0xCE:
            // INTO: INT 4 only when OF is set.
            let skip = b.newLabel()
            b.branch(if: .eq, condition(0x0), constant(0), to: skip)
            b.call(X86Helper.raiseInterrupt.index, [constant(ExceptionVector.overflow), constant(nextAddress),
                                                     constant(InterruptKind.software.rawValue)])
            b.exitBlock(0)
            b.setLabel(skip)
        case 0xF1:
            // ICEBP: a #DB trap reported after the instruction.
            b.call(X86Helper.raiseInterrupt.index, [constant(ExceptionVector.debug), constant(nextAddress),
                                                     constant(InterruptKind.exception.rawValue)])
            b.exitBlock(0)
            blockEnded = true
        default:
            return false
        }
        return true
    }

    /// Ends the block on a 0/1 condition: slot 0 to the branch target, slot 1 to the next instruction.
    private func conditionalJump(_ taken: Temp) {
        conditionalJump(ConditionTest.value(taken))
    }

    private func conditionalJump(_ taken: ConditionTest) {
        let notTaken = b.newLabel()
        b.branch(if: taken.condition.negated, taken.left, rightOperand(taken), to: notTaken)
        jump(to: instruction.branchTarget(instructionAddress: instructionAddress), slot: 0)
        b.setLabel(notTaken)
        jump(to: nextAddress, slot: 1)
        blockEnded = true
    }

    private func farTransfer(call: Bool, selector: Temp, offset: Temp, bytes: Int) {
        if call {
            let call = FarCall(operandBytes: bytes, instructionLength: Int(instruction.length))
            b.call(X86Helper.farCall.index, [selector, offset, b.constant(record: call)])
        } else {
            b.call(X86Helper.farJump.index, [selector, offset, constant(UInt32(bytes))])
        }
        endBlockWithStateFromHelper()
    }

    private func softwareInterrupt(_ vector: UInt32) {
        b.call(X86Helper.raiseInterrupt.index, [constant(vector), constant(nextAddress), constant(InterruptKind.software.rawValue)])
        b.exitBlock(0)
        blockEnded = true
    }

    /// The helper has set CS:EIP (and maybe the mode): just leave.
    func endBlockWithStateFromHelper() {
        b.exitBlock(0)
        blockEnded = true
    }
}

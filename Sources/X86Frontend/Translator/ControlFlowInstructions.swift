import IR
import X86State

/// Jumps, calls, returns, loops, and the INT family.
extension TranslationContext {
    /// JMP rel8/rel16/rel32.
    func jumpRelative() {
        jump(to: relativeBranchTarget, slot: 0)
        blockEnded = true
    }

    /// CALL rel16/rel32.
    func callRelative() {
        push(addressValue(nextAddress), bytes: stackOperandBytes)
        jump(to: relativeBranchTarget, slot: 0)
        blockEnded = true
    }

    /// JCXZ / JECXZ: the address size picks CX or ECX.
    func jumpIfCounterZero() {
        let bytes = Int(instruction.addressSize) / 8
        let taken = withWordType(bytes == 8 ? .i64 : .i32) {
            b.setcond(.eq, readRegister(Register.ecx.rawValue, bytes: bytes), constant(0))
        }
        conditionalJump(taken)
    }

    /// LOOPNE (0) / LOOPE (1) / LOOP (2): decrement the counter (CX or ECX) without touching flags.
    func loop(_ kind: UInt8) {
        let counterBytes = Int(instruction.addressSize) / 8
        // The counter's width (RCX in 64-bit mode) decides the ops' type.
        let taken = withWordType(counterBytes == 8 ? .i64 : .i32) { () -> Temp in
            let counter = truncate(b.sub(readRegister(Register.ecx.rawValue, bytes: counterBytes), constant(1)), bytes: counterBytes)
            writeRegister(Register.ecx.rawValue, bytes: counterBytes, counter)
            var taken = b.setcond(.ne, counter, constant(0))
            if kind != 2 {
                let zero = condition(0x4)
                let wanted = kind == 1 ? zero : b.binary(.xor, zero, constant: 1)
                taken = b.binary(.and, taken, converted(wanted, to: .i32), .i32)
            }
            return taken
        }
        conditionalJump(taken)
    }

    /// JMP/CALL r/m: near, to an offset in a register or memory.
    func branchIndirect(call: Bool) {
        let bytes = stackOperandBytes
        var target = read(operandLocation(instruction.operand1), bytes: bytes)
        if bytes == 2 { target = truncate(target, bytes: 2) }
        if call { push(addressValue(nextAddress), bytes: bytes) }
        exitBlock(nextEIP: target)
    }

    /// RET and RET imm16 (bytes to release after the return address).
    func returnNear() {
        let (target, afterPop) = popValue(bytes: stackOperandBytes)
        let release = instruction.operand1 == .Iw ? Int32(immediateOperand(.Iw)) : 0
        setStackPointer(release == 0 ? afterPop : offsetStackPointer(afterPop, by: release))
        exitBlock(nextEIP: target)
    }

    /// Far JMP/CALL to ptr16:16/32 (Ap) or m16:16/32 (Mp).
    func branchFar(call: Bool) {
        let bytes = stackOperandBytes
        if instruction.operand1 == .Ap {
            let selector = constant(UInt32(instruction.immediate2))
            let offset = constant(instruction.immediate)
            farTransfer(call: call, selector: selector, offset: offset, bytes: bytes)
        } else {
            guard instruction.hasMemoryOperand else { return raiseException(ExceptionVector.invalidOpcode) }
            let address = effectiveAddress()
            let offset = load(memorySegment, address, bytes: bytes)
            let selector = load(memorySegment, truncateAddress(b.binary(.add, address, constant: UInt64(bytes), addressType)), bytes: 2)
            farTransfer(call: call, selector: selector, offset: offset, bytes: bytes)
        }
    }

    /// RETF and RETF imm16.
    func returnFar() {
        let release = instruction.operand1 == .Iw ? immediateOperand(.Iw) : 0
        b.call(X86Helper.farReturn.index, [constant(UInt32(stackOperandBytes)), constant(release)])
        endBlockWithStateFromHelper()
    }

    func interruptReturn() {
        b.call(X86Helper.interruptReturn.index, [constant(UInt32(stackOperandBytes))])
        knownConditionCodes = .eflags
        endBlockWithStateFromHelper()
    }

    /// INT n. INT3 and INTO are not IOPL-sensitive; INT n is.
    func interrupt() {
        if faultsAsIOPLSensitiveInVirtual8086() { return }
        softwareInterrupt(immediateOperand(.Ib))
    }

    /// INTO: INT 4 only when OF is set.
    func interruptOnOverflow() {
        let skip = b.newLabel()
        b.branch(if: .eq, condition(0x0), constant(0), to: skip)
        b.call(X86Helper.raiseInterrupt.index, [constant(ExceptionVector.overflow), addressValue(nextAddress),
                                                 constant(InterruptKind.software.rawValue)])
        b.exitBlock(0)
        b.setLabel(skip)
    }

    /// ICEBP: a #DB trap reported after the instruction.
    func debugTrap() {
        b.call(X86Helper.raiseInterrupt.index, [constant(ExceptionVector.debug), addressValue(nextAddress),
                                                 constant(InterruptKind.exception.rawValue)])
        b.exitBlock(0)
        blockEnded = true
    }

    /// Ends the block on a 0/1 condition: slot 0 to the branch target, slot 1 to the next instruction.
    private func conditionalJump(_ taken: Temp) {
        conditionalJump(ConditionTest.value(taken))
    }

    func conditionalJump(_ taken: ConditionTest) {
        let notTaken = b.newLabel()
        b.branch(if: taken.condition.negated, taken.left, rightOperand(taken), to: notTaken, taken.type)
        jump(to: relativeBranchTarget, slot: 0)
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

    func softwareInterrupt(_ vector: UInt32) {
        b.call(X86Helper.raiseInterrupt.index, [constant(vector), addressValue(nextAddress), constant(InterruptKind.software.rawValue)])
        b.exitBlock(0)
        blockEnded = true
    }

    /// The helper has set CS:EIP (and maybe the mode): just leave.
    func endBlockWithStateFromHelper() {
        b.exitBlock(0)
        blockEnded = true
    }
}

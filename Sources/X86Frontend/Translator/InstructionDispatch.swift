import IR
import X86State

extension TranslationContext {
    /// Translates `instruction` by the semantics its opcode table entry names:
    /// one switch, each case one routine of an instruction family.
    func translateInstruction() {
        if instruction.isProtectedModeOnly && !isProtectedMode {
            raiseException(ExceptionVector.invalidOpcode)
            return
        }
        let i = instruction
        switch i.semantics {
        case .invalidOpcode: raiseException(ExceptionVector.invalidOpcode)

        case let .alu(operation): translateALU(operation)
        case .increment: incrementOrDecrement(operandLocation(i.operand1), decrement: false, bytes: operandBytes)
        case .decrement: incrementOrDecrement(operandLocation(i.operand1), decrement: true, bytes: operandBytes)
        case .test: translateTest()
        case .not: translateNot()
        case .neg: translateNeg()
        case let .multiplyAccumulator(signed): multiplyAccumulator(signed: signed)
        case .multiplySigned: multiplySigned()
        case let .divide(signed): divide(signed: signed)
        case .decimalAdjust: decimalAdjust()

        case .move: translateMove()
        case .moveFromSegment: moveFromSegment()
        case .loadEffectiveAddress: loadEffectiveAddress()
        case .exchange: exchange()
        case .nop:
            // 90 with REX.B is XCHG r8, rAX (not PAUSE/NOP).
            if long64 && i.opcode == 0x90 && i.rex & 1 != 0 { exchangeWithAccumulator(i.opcodeRegister) }
        case .signExtendAccumulator: signExtendAccumulator()
        case .signExtendIntoDX: signExtendIntoDX()
        case .storeFlagsIntoAH: storeFlagsIntoAH()
        case .loadFlagsFromAH: loadFlagsFromAH()
        case .setALFromCarry: setALFromCarry()
        case .translateByte: translateByte()
        case let .loadFarPointer(segment): loadFarPointer(segment)
        case .moveZeroExtend: moveExtended(signed: false)
        case .moveSignExtend: moveExtended(signed: true)
        case let .conditionalMove(condition): conditionalMove(condition)
        case let .setOnCondition(condition): setOnCondition(condition)
        case .byteSwap: byteSwap()
        case .exchangeAndAdd: exchangeAndAdd()
        case .compareExchange: compareExchange()
        case .compareExchange8Bytes: compareExchange8Bytes()

        case .push: translatePush()
        case .pop: translatePop()
        case .popSegment: popSegment()
        case .pushAll: pushAll()
        case .popAll: popAll()
        case .pushFlags: pushFlags()
        case .popFlags: popFlags()
        case .enter: translateEnter()
        case .leave: leave()

        case .jumpRelative: jumpRelative()
        case .callRelative: callRelative()
        case let .jumpConditional(condition): conditionalJump(conditionTest(condition))
        case .jumpIfCounterZero: jumpIfCounterZero()
        case let .loop(kind): loop(kind)
        case .jumpIndirect: branchIndirect(call: false)
        case .callIndirect: branchIndirect(call: true)
        case .returnNear: returnNear()
        case .returnFar: returnFar()
        case .interruptReturn: interruptReturn()
        case .jumpFar: branchFar(call: false)
        case .callFar: branchFar(call: true)
        case .breakpoint: softwareInterrupt(3)
        case .interrupt: interrupt()
        case .interruptOnOverflow: interruptOnOverflow()
        case .debugTrap: debugTrap()

        case let .shift(operation): shift(operation)
        case let .doubleShift(left): doubleShift(left: left)

        case let .bitTest(operation): bitTest(operation)
        case let .bitScan(forward): bitScan(forward: forward)

        case .moveString: moveString()
        case .compareString: compareString()
        case .storeString: storeString()
        case .loadString: loadString()
        case .scanString: scanString()
        case .inputString: inputString()
        case .outputString: outputString()

        case let .carryFlag(operation): carryFlag(operation)
        case .clearDirection: setDirection(up: true)
        case .setDirection: setDirection(up: false)
        case .clearInterrupts: interruptFlag(set: false)
        case .setInterrupts: interruptFlag(set: true)
        case .halt: halt()
        case .input: input()
        case .output: output()
        case .cpuid: b.call(X86Helper.cpuid.index)
        case .readTimeStampCounter: b.call(X86Helper.readTimeStampCounter.index)
        case .checkBounds: checkBounds()

        case let .storeSystemRegister(operation): storeSystemRegister(operation)
        case let .loadSystemRegister(operation): loadSystemRegister(operation)
        case let .verifySegment(operation): verifySegment(operation)
        case let .descriptorTableRegister(operation): descriptorTableRegister(operation)
        case .loadMachineStatus: loadMachineStatus()
        case .invalidatePage: invalidatePage()
        case let .loadSegmentInformation(operation): loadSegmentInformation(operation)
        case .clearTaskSwitched: clearTaskSwitched()
        case .moveFromControlRegister: moveFromSystemRegister(.readControlRegister)
        case .moveFromDebugRegister: moveFromSystemRegister(.readDebugRegister)
        case .moveToControlRegister: moveToSystemRegister(.writeControlRegister)
        case .moveToDebugRegister: moveToSystemRegister(.writeDebugRegister)
        case .readMSR: _ = system(.readMSR)
        case .writeMSR: _ = system(.writeMSR)
        case .systemEnter: systemEnterOrExit(.systemEnter)
        case .systemExit: systemEnterOrExit(.systemExit)
        case .invalidateCaches: _ = system(.invalidateCaches)
        case .adjustRPL: adjustRPL()

        case .x87: translateX87(kind: i.x87Escape ?? 0)
        case .wait: translateWait()
        case .fxsave: translateX87(kind: X87Call.fxsave)
        case .fxrstor: translateX87(kind: X87Call.fxrstor)
        case let .sse(form): translateSSE(form)
        case .loadMXCSR: translateLoadMXCSR()
        case .storeMXCSR: translateStoreMXCSR()
        case .sseHint: translateSSEHint()
        case .fastSystemCall:
            _ = system(.fastSystemCall, operand: addressValue(nextAddress))
            endBlockWithStateFromHelper()
        case .fastSystemReturn:
            _ = system(.fastSystemReturn)
            endBlockWithStateFromHelper()
        case .swapGS: _ = system(.swapGS)
        case .readTimeStampCounterAndProcessor: _ = system(.readTimeStampCounterAndProcessor)
        case let .mmx(form): translateMMX(form)
        case .emms: translateEMMS()
        case .moveBetweenMMXAndXMM: translateMoveBetweenMMXAndXMM()
        case let .convertBetweenMMXAndXMM(form): translateConversionBetweenMMXAndXMM(form)
        }
    }
}

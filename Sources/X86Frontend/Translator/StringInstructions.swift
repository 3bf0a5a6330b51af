import IR
import X86State

/// MOVS CMPS STOS LODS SCAS INS OUTS, with REP/REPE/REPNE: one iteration per
/// pass, then a jump back to the same instruction, so interrupts are taken
/// between iterations as on the CPU. Each routine is its iteration between
/// `beginString` and `endString`; the accumulator and the DX port are its
/// table operands, the X/Y memory operands the index registers it advances.
extension TranslationContext {
    /// What one string iteration works with.
    struct StringIteration {
        let bytes: Int
        let addressBytes: Int
        let repeated: Bool
        let finished: Label
        /// eSI/eDI's step: the operand size, negative with DF set.
        let step: Temp
        /// DS or the override: the source's segment.
        let sourceSegment: Segment
        let sourceIndex: Temp
        let destinationIndex: Temp
    }

    /// With REP, skips everything when eCX is zero; reads the index registers.
    private func beginString() -> StringIteration {
        let bytes = operandBytes
        let addressBytes = Int(instruction.addressSize) / 8
        let repeated = instruction.prefixes.contains(.rep) || instruction.prefixes.contains(.repne)
        let finished = b.newLabel()
        // Counter and index arithmetic is as wide as the address size (RCX, RSI, RDI in 64-bit mode).
        let indexType: IRType = addressBytes == 8 ? .i64 : .i32
        if repeated {
            withWordType(indexType) { b.branch(if: .eq, readRegister(Register.ecx.rawValue, bytes: addressBytes), constant(0), to: finished) }
        }
        var step = b.binary(.mul, globals.direction, constant(UInt32(bytes)), .i32)
        if indexType == .i64 { step = b.unary(.exts32to64, step) }
        let sourceSegment = instruction.segmentOverride.map { Segment(rawValue: Int($0.rawValue))! } ?? .ds
        let (sourceIndex, destinationIndex) = withWordType(indexType) {
            (readRegister(Register.esi.rawValue, bytes: addressBytes), readRegister(Register.edi.rawValue, bytes: addressBytes))
        }
        return StringIteration(bytes: bytes, addressBytes: addressBytes, repeated: repeated, finished: finished, step: step,
                               sourceSegment: sourceSegment, sourceIndex: sourceIndex, destinationIndex: destinationIndex)
    }

    /// With REP, counts eCX down and goes round again (REPE/REPNE also stop on
    /// ZF for the comparing forms), else goes on to the next instruction.
    private func endString(_ iteration: StringIteration, comparesFlags: Bool = false) {
        withWordType(iteration.addressBytes == 8 ? .i64 : .i32) { endStringInIndexType(iteration, comparesFlags: comparesFlags) }
    }

    private func endStringInIndexType(_ iteration: StringIteration, comparesFlags: Bool) {
        let addressBytes = iteration.addressBytes
        if iteration.repeated {
            let counter = truncate(b.sub(readRegister(Register.ecx.rawValue, bytes: addressBytes), constant(1)), bytes: addressBytes)
            writeRegister(Register.ecx.rawValue, bytes: addressBytes, counter)
            b.branch(if: .eq, counter, constant(0), to: iteration.finished)
            if comparesFlags {
                // REPE stops when ZF clears, REPNE when it sets.
                let zero = condition(0x4)
                b.branch(if: instruction.prefixes.contains(.rep) ? .eq : .ne, zero, constant(0), to: iteration.finished)
            }
            jump(to: instructionAddress, slot: 0)
            b.setLabel(iteration.finished)
            jump(to: nextAddress, slot: 1)
            blockEnded = true
        } else {
            b.setLabel(iteration.finished)
        }
    }

    func moveString() {
        let s = beginString()
        store(.es, s.destinationIndex, load(s.sourceSegment, s.sourceIndex, bytes: s.bytes), bytes: s.bytes)
        advance(Register.esi, by: s.step, addressBytes: s.addressBytes)
        advance(Register.edi, by: s.step, addressBytes: s.addressBytes)
        endString(s)
    }

    func compareString() {
        let s = beginString()
        let first = load(s.sourceSegment, s.sourceIndex, bytes: s.bytes)
        let second = load(.es, s.destinationIndex, bytes: s.bytes)
        setFlags(.sub, bytes: s.bytes, result: truncate(b.sub(first, second), bytes: s.bytes), source: second)
        advance(Register.esi, by: s.step, addressBytes: s.addressBytes)
        advance(Register.edi, by: s.step, addressBytes: s.addressBytes)
        endString(s, comparesFlags: true)
    }

    func storeString() {
        let s = beginString()
        store(.es, s.destinationIndex, loadOperand(instruction.operand2), bytes: s.bytes)
        advance(Register.edi, by: s.step, addressBytes: s.addressBytes)
        endString(s)
    }

    func loadString() {
        let s = beginString()
        storeOperand(instruction.operand1, load(s.sourceSegment, s.sourceIndex, bytes: s.bytes))
        advance(Register.esi, by: s.step, addressBytes: s.addressBytes)
        endString(s)
    }

    func scanString() {
        let s = beginString()
        let value = load(.es, s.destinationIndex, bytes: s.bytes)
        let accumulator = loadOperand(instruction.operand1)
        setFlags(.sub, bytes: s.bytes, result: truncate(b.sub(accumulator, value), bytes: s.bytes), source: value)
        advance(Register.edi, by: s.step, addressBytes: s.addressBytes)
        endString(s, comparesFlags: true)
    }

    /// INS: the port is read before the store, as the CPU does.
    func inputString() {
        let s = beginString()
        let port = loadOperand(instruction.operand2)
        checkIOPermission(port)
        let value = b.call(X86Helper.portIn.index, [port, constant(UInt32(s.bytes))], result: .i32)
        store(.es, s.destinationIndex, value, bytes: s.bytes)
        advance(Register.edi, by: s.step, addressBytes: s.addressBytes)
        endString(s)
    }

    func outputString() {
        let s = beginString()
        checkIOPermission(loadOperand(instruction.operand1))
        let value = load(s.sourceSegment, s.sourceIndex, bytes: s.bytes)
        b.call(X86Helper.portOut.index, [loadOperand(instruction.operand1), value, constant(UInt32(s.bytes))])
        advance(Register.esi, by: s.step, addressBytes: s.addressBytes)
        endString(s)
    }

    private func advance(_ register: Register, by step: Temp, addressBytes: Int) {
        withWordType(addressBytes == 8 ? .i64 : .i32) {
            let moved = b.add(readRegister(register.rawValue, bytes: addressBytes), step)
            writeRegister(register.rawValue, bytes: addressBytes, truncate(moved, bytes: addressBytes))
        }
    }
}

import IR
import X86State

/// MOVS CMPS STOS LODS SCAS INS OUTS, with REP/REPE/REPNE: one iteration per
/// pass, then a jump back to the same instruction, so interrupts are taken
/// between iterations as on the CPU.
extension TranslationContext {
    func translateStrings() -> Bool {
        let opcode = instruction.opcode
        switch opcode {
        case 0xA4...0xA7, 0xAA...0xAF, 0x6C...0x6F:
            break
        default:
            return false
        }
        let bytes = operandBytes
        let addressBytes = Int(instruction.addressSize) / 8
        let repeated = instruction.prefixes.contains(.rep) || instruction.prefixes.contains(.repne)
        let finished = b.newLabel()
        if repeated {
            b.branch(if: .eq, readRegister(Register.ecx.rawValue, bytes: addressBytes), constant(0), to: finished)
        }
        let step = b.binary(.mul, globals.direction, constant(UInt32(bytes)))
        let sourceSegment = instruction.segmentOverride.map { Segment(rawValue: Int($0.rawValue))! } ?? .ds
        let sourceIndex = readRegister(Register.esi.rawValue, bytes: addressBytes)
        let destinationIndex = readRegister(Register.edi.rawValue, bytes: addressBytes)
        var comparesFlags = false
        switch opcode {
        case 0xA4, 0xA5:
            store(.es, destinationIndex, load(sourceSegment, sourceIndex, bytes: bytes), bytes: bytes)
            advance(Register.esi, by: step, addressBytes: addressBytes)
            advance(Register.edi, by: step, addressBytes: addressBytes)
        case 0xA6, 0xA7:
            let first = load(sourceSegment, sourceIndex, bytes: bytes)
            let second = load(.es, destinationIndex, bytes: bytes)
            setFlags(.sub, bytes: bytes, result: truncate(b.sub(first, second), bytes: bytes), source: second)
            advance(Register.esi, by: step, addressBytes: addressBytes)
            advance(Register.edi, by: step, addressBytes: addressBytes)
            comparesFlags = true
        case 0xAA, 0xAB:
            store(.es, destinationIndex, readRegister(0, bytes: bytes), bytes: bytes)
            advance(Register.edi, by: step, addressBytes: addressBytes)
        case 0xAC, 0xAD:
            writeRegister(0, bytes: bytes, load(sourceSegment, sourceIndex, bytes: bytes))
            advance(Register.esi, by: step, addressBytes: addressBytes)
        case 0xAE, 0xAF:
            let value = load(.es, destinationIndex, bytes: bytes)
            let accumulator = readRegister(0, bytes: bytes)
            setFlags(.sub, bytes: bytes, result: truncate(b.sub(accumulator, value), bytes: bytes), source: value)
            advance(Register.edi, by: step, addressBytes: addressBytes)
            comparesFlags = true
        case 0x6C, 0x6D:
            // INS: the port is read before the store, as the CPU does.
            let port = readRegister(Register.edx.rawValue, bytes: 2)
            checkIOPermission(port)
            let value = b.call(X86Helper.portIn.index, [port, constant(UInt32(bytes))], result: .i32)
            store(.es, destinationIndex, value, bytes: bytes)
            advance(Register.edi, by: step, addressBytes: addressBytes)
        default:
            checkIOPermission(readRegister(Register.edx.rawValue, bytes: 2))
            let value = load(sourceSegment, sourceIndex, bytes: bytes)
            b.call(X86Helper.portOut.index, [readRegister(Register.edx.rawValue, bytes: 2), value, constant(UInt32(bytes))])
            advance(Register.esi, by: step, addressBytes: addressBytes)
        }
        if repeated {
            let counter = truncate(b.sub(readRegister(Register.ecx.rawValue, bytes: addressBytes), constant(1)), bytes: addressBytes)
            writeRegister(Register.ecx.rawValue, bytes: addressBytes, counter)
            b.branch(if: .eq, counter, constant(0), to: finished)
            if comparesFlags {
                // REPE stops when ZF clears, REPNE when it sets.
                let zero = condition(0x4)
                b.branch(if: instruction.prefixes.contains(.rep) ? .eq : .ne, zero, constant(0), to: finished)
            }
            jump(to: instructionAddress, slot: 0)
            b.setLabel(finished)
            jump(to: nextAddress, slot: 1)
            blockEnded = true
        } else {
            b.setLabel(finished)
        }
        return true
    }

    private func advance(_ register: Register, by step: Temp, addressBytes: Int) {
        let moved = b.add(readRegister(register.rawValue, bytes: addressBytes), step)
        writeRegister(register.rawValue, bytes: addressBytes, truncate(moved, bytes: addressBytes))
    }
}

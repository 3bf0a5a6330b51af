import IR
import X86State

/// Descriptor-table and control instructions (0F 00, 0F 01, LAR, LSL, CLTS,
/// MOV CRn/DRn, RDMSR/WRMSR, SYSENTER/SYSEXIT, INVD/WBINVD), ARPL and CMPXCHG8B.
extension TranslationContext {
    func translateSystemTables() -> Bool {
        let opcode = instruction.opcode
        let bytes = operandBytes
        switch opcode {
        case 0x0F00:
            switch instruction.reg {
            case 0, 1: // SLDT, STR: 16 bits to memory, operand size to a register
                let value = system(instruction.reg == 0 ? .storeLDTR : .storeTaskRegister)
                let location = modrmLocation(bytes: 2)
                if case .memory = location { write(location, value, bytes: 2) } else { write(location, value, bytes: bytes) }
            case 2, 3: // LLDT, LTR
                let selector = read(modrmLocation(bytes: 2), bytes: 2)
                _ = system(instruction.reg == 2 ? .loadLDTR : .loadTaskRegister, operand: selector)
            case 4, 5: // VERR, VERW
                let selector = read(modrmLocation(bytes: 2), bytes: 2)
                _ = system(instruction.reg == 4 ? .verifyRead : .verifyWrite, operand: selector)
                knownConditionCodes = nil
            default:
                return false
            }
        case 0x0F01:
            switch instruction.reg {
            case 0, 1, 2, 3: // SGDT SIDT LGDT LIDT: the helper moves the 6 bytes
                guard instruction.hasMemoryOperand else { return false }
                let address = linearAddress(effectiveAddress(), segment: memorySegment, bytes: 6,
                                            access: instruction.reg < 2 ? .write : .read)
                let operations: [SystemOperation] = [.storeGDTR, .storeIDTR, .loadGDTR, .loadIDTR]
                _ = system(operations[Int(instruction.reg)], address: address)
            case 4: // SMSW
                let value = system(.storeMachineStatus)
                let location = modrmLocation(bytes: 2)
                if case .memory = location { write(location, value, bytes: 2) } else { write(location, value, bytes: bytes) }
            case 6: // LMSW
                _ = system(.loadMachineStatus, operand: read(modrmLocation(bytes: 2), bytes: 2))
                endBlockAfterInstruction()
            case 7: // INVLPG
                guard instruction.hasMemoryOperand else { return false }
                _ = system(.invalidatePage, address: b.add(segmentBase(memorySegment), effectiveAddress()))
            default:
                return false
            }
        case 0x0F02, 0x0F03:
            let selector = read(modrmLocation(bytes: 2), bytes: 2)
            let result = system(opcode == 0x0F02 ? .loadAccessRights : .loadSegmentLimit, operand: selector, wide: true)
            knownConditionCodes = nil
            let skip = b.newLabel()
            b.branch(if: .eq, b.unary(.high64to32, result, .i64), constant(0), to: skip)
            writeRegister(Int(instruction.reg), bytes: bytes, b.unary(.low64to32, result, .i64))
            b.setLabel(skip)
        case 0x0F06:
            _ = system(.clearTaskSwitched)
            endBlockAfterInstruction()
        case 0x0F20, 0x0F21:
            let value = system(opcode == 0x0F20 ? .readControlRegister : .readDebugRegister, register: Int(instruction.reg))
            writeRegister(Int(instruction.rm), bytes: 4, value)
        case 0x0F22, 0x0F23:
            _ = system(opcode == 0x0F22 ? .writeControlRegister : .writeDebugRegister, register: Int(instruction.reg),
                       operand: globals.registers[Int(instruction.rm)])
            endBlockAfterInstruction()
        case 0x0F30, 0x0F32:
            _ = system(opcode == 0x0F30 ? .writeMSR : .readMSR)
        case 0x0F34, 0x0F35:
            _ = system(opcode == 0x0F34 ? .systemEnter : .systemExit)
            endBlockWithStateFromHelper()
        case 0x0F08, 0x0F09:
            _ = system(.invalidateCaches)
        case 0x63:
            // ARPL: raise the destination selector's RPL to the source's; ZF says whether it did.
            guard isProtectedMode else { return false }
            let location = modrmLocation(bytes: 2)
            let destination = read(location, bytes: 2)
            let sourceRPL = b.and(readRegister(Int(instruction.reg), bytes: 2), 3)
            let lower = b.setcond(.ltu, b.and(destination, 3), sourceRPL)
            let adjusted = b.or(b.and(destination, 0xFFFC), sourceRPL)
            // Only a raised RPL is written back: an unchanged selector in a
            // read-only segment is no write, and no fault.
            let unchanged = b.newLabel()
            b.branch(if: .eq, lower, constant(0), to: unchanged)
            write(location, adjusted, bytes: 2)
            b.setLabel(unchanged)
            let flags = b.and(arithmeticFlags(), UInt64(EFLAGS.arithmetic & ~EFLAGS.zero))
            setFlags(value: b.or(flags, b.shl(lower, 6)))
        case 0x0FC7 where instruction.reg == 1:
            guard instruction.hasMemoryOperand else { return false }
            // CMPXCHG8B: EDX:EAX against m64; equal: m64 = ECX:EBX; the memory is written either way.
            let address = linearAddress(effectiveAddress(), segment: memorySegment, bytes: 8, access: .write)
            let old = b.loadGuest(address, .u64, mmu: mmuIndex, .i64)
            let expected = pair(high: globals.registers[Register.edx.rawValue], low: globals.registers[Register.eax.rawValue])
            let replacement = pair(high: globals.registers[Register.ecx.rawValue], low: globals.registers[Register.ebx.rawValue])
            let equal = b.setcond(.eq, old, expected, .i64)
            b.storeGuest(address, b.movcond(.ne, b.unary(.extu32to64, equal), b.constant(0, .i64), then: replacement, else: old, .i64),
                         .u64, mmu: mmuIndex, .i64)
            let keepLabel = b.newLabel()
            b.branch(if: .ne, equal, constant(0), to: keepLabel)
            b.move(into: globals.registers[Register.eax.rawValue], b.unary(.low64to32, old, .i64))
            b.move(into: globals.registers[Register.edx.rawValue], b.unary(.high64to32, old, .i64))
            b.setLabel(keepLabel)
            let flags = b.and(arithmeticFlags(), UInt64(EFLAGS.arithmetic & ~EFLAGS.zero))
            setFlags(value: b.or(flags, b.shl(equal, 6)))
        default:
            return false
        }
        return true
    }

    private func pair(high: Temp, low: Temp) -> Temp {
        b.binary(.or, b.binary(.shl, b.unary(.extu32to64, high), b.constant(32, .i64), .i64), b.unary(.extu32to64, low), .i64)
    }

    /// Calls the system helper; the result is i32 unless `wide`.
    private func system(_ operation: SystemOperation, register: Int = 0, operand: Temp? = nil, address: Temp? = nil,
                        wide: Bool = false) -> Temp {
        let call = SystemCall(operation, operandBytes: operandBytes, register: register)
        return b.call(X86Helper.system.index, [b.constant(record: call), operand ?? constant(0), address ?? constant(0)],
                      result: wide ? .i64 : .i32)
    }
}

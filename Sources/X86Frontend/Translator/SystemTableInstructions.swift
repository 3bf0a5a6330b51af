import IR
import X86State

/// Descriptor-table and control instructions (0F 00, 0F 01, LAR, LSL, CLTS,
/// MOV CRn/DRn, RDMSR/WRMSR, SYSENTER/SYSEXIT, INVD/WBINVD), ARPL and CMPXCHG8B.
/// Most are one call of the `system` helper, told the operation.
extension TranslationContext {
    /// SLDT, STR, SMSW: 16 bits to memory, the operand size to a register.
    func storeSystemRegister(_ operation: SystemOperation) {
        storeWordOrRegister(system(operation))
    }

    /// LLDT, LTR.
    func loadSystemRegister(_ operation: SystemOperation) {
        _ = system(operation, operand: loadOperand(instruction.operand1))
    }

    /// VERR, VERW: the helper sets ZF.
    func verifySegment(_ operation: SystemOperation) {
        _ = system(operation, operand: loadOperand(instruction.operand1))
        knownConditionCodes = nil
    }

    /// SGDT SIDT LGDT LIDT: the helper moves the 6 bytes.
    func descriptorTableRegister(_ operation: SystemOperation) {
        guard instruction.hasMemoryOperand else { return raiseException(ExceptionVector.invalidOpcode) }
        let stores = operation == .storeGDTR || operation == .storeIDTR
        let address = linearAddress(effectiveAddress(), segment: memorySegment, bytes: 6, access: stores ? .write : .read)
        _ = system(operation, address: address)
    }

    func loadMachineStatus() {
        _ = system(.loadMachineStatus, operand: loadOperand(instruction.operand1))
        endBlockAfterInstruction()
    }

    func invalidatePage() {
        guard instruction.hasMemoryOperand else { return raiseException(ExceptionVector.invalidOpcode) }
        // No segment checks: INVLPG only names a page.
        let linear = long64 ? linearAddress64(effectiveAddress(), segment: memorySegment)
                            : b.binary(.add, segmentBase(memorySegment), effectiveAddress(), .i32)
        _ = system(.invalidatePage, address: linear)
    }

    /// LAR, LSL: the helper answers (found << 32 | value); ZF says whether it was found.
    func loadSegmentInformation(_ operation: SystemOperation) {
        let selector = loadOperand(instruction.operand2)
        let result = system(operation, operand: selector, wide: true)
        knownConditionCodes = nil
        let skip = b.newLabel()
        b.branch(if: .eq, b.unary(.high64to32, result, .i64), constant(0), to: skip)
        storeOperand(instruction.operand1, b.unary(.low64to32, result, .i64))
        b.setLabel(skip)
    }

    func clearTaskSwitched() {
        _ = system(.clearTaskSwitched)
        endBlockAfterInstruction()
    }

    /// MOV r32, CRn/DRn.
    func moveFromSystemRegister(_ operation: SystemOperation) {
        let value = system(operation, register: instruction.regRegister, wide: long64)
        storeOperand(instruction.operand1, value)
    }

    /// MOV CRn/DRn, r32: may change the mode or the paging: the block ends.
    func moveToSystemRegister(_ operation: SystemOperation) {
        let value = readRegister(registerNumber(instruction.operand2), bytes: long64 ? 8 : 4)
        _ = system(operation, register: instruction.regRegister, operand: value)
        endBlockAfterInstruction()
    }

    /// SYSENTER, SYSEXIT: the helper sets CS:EIP.
    func systemEnterOrExit(_ operation: SystemOperation) {
        _ = system(operation)
        endBlockWithStateFromHelper()
    }

    /// ARPL: raise the destination selector's RPL to the source's; ZF says whether it did.
    func adjustRPL() {
        guard isProtectedMode else { return raiseException(ExceptionVector.invalidOpcode) }
        let location = operandLocation(instruction.operand1)
        let destination = read(location, bytes: 2)
        let sourceRPL = b.and(loadOperand(instruction.operand2), 3)
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
    }

    /// CMPXCHG8B: EDX:EAX against m64; equal: m64 = ECX:EBX; the memory is written either way.
    func compareExchange8Bytes() {
        guard instruction.hasMemoryOperand else { return raiseException(ExceptionVector.invalidOpcode) }
        if long64 && instruction.rexW { return compareExchange16Bytes() }
        withWordType(.i32) { compareExchange8BytesInWords() }
    }

    /// CMPXCHG16B: RDX:RAX against m128 (16-byte aligned, else #GP(0)); equal:
    /// m128 = RCX:RBX; the memory is written either way; else RDX:RAX = m128.
    private func compareExchange16Bytes() {
        withWordType(.i64) {
            let address = linearAddress(effectiveAddress(), segment: memorySegment, bytes: 16, access: .write)
            let aligned = b.newLabel()
            b.branch(if: .testEq, address, constant(15), to: aligned)
            b.call(X86Helper.raiseInterrupt.index, [constant(ExceptionVector.generalProtection), addressValue(instructionAddress),
                                                     constant(InterruptKind.exception.rawValue)])
            b.exitBlock(0)
            b.setLabel(aligned)
            let highAddress = b.add(address, 8)
            let low = b.loadGuest(address, .u64, mmu: mmuIndex), high = b.loadGuest(highAddress, .u64, mmu: mmuIndex)
            let rax = readRegister(Register.eax.rawValue, bytes: 8), rdx = readRegister(Register.edx.rawValue, bytes: 8)
            let difference = b.or(b.xor(low, rax), b.xor(high, rdx))
            let equal = b.setcond(.eq, difference, constant(0))
            let zero = constant(0)
            b.storeGuest(address, b.movcond(.eq, difference, zero, then: readRegister(Register.ebx.rawValue, bytes: 8), else: low),
                         .u64, mmu: mmuIndex)
            b.storeGuest(highAddress, b.movcond(.eq, difference, zero, then: readRegister(Register.ecx.rawValue, bytes: 8), else: high),
                         .u64, mmu: mmuIndex)
            writeRegister(Register.eax.rawValue, bytes: 8, b.movcond(.eq, difference, zero, then: rax, else: low))
            writeRegister(Register.edx.rawValue, bytes: 8, b.movcond(.eq, difference, zero, then: rdx, else: high))
            withWordType(.i32) {
                let flags = b.and(arithmeticFlags(), UInt64(EFLAGS.arithmetic & ~EFLAGS.zero))
                setFlags(value: b.or(flags, b.shl(equal, 6)))
            }
        }
    }

    private func compareExchange8BytesInWords() {
        let address = linearAddress(effectiveAddress(), segment: memorySegment, bytes: 8, access: .write)
        let old = b.loadGuest(address, .u64, mmu: mmuIndex, .i64)
        let expected = pair(high: readRegister(Register.edx.rawValue, bytes: 4), low: readRegister(Register.eax.rawValue, bytes: 4))
        let replacement = pair(high: readRegister(Register.ecx.rawValue, bytes: 4), low: readRegister(Register.ebx.rawValue, bytes: 4))
        let equal = b.setcond(.eq, old, expected, .i64)
        b.storeGuest(address, b.movcond(.ne, b.unary(.extu32to64, equal), b.constant(0, .i64), then: replacement, else: old, .i64),
                     .u64, mmu: mmuIndex, .i64)
        let keepLabel = b.newLabel()
        b.branch(if: .ne, equal, constant(0), to: keepLabel)
        writeRegister(Register.eax.rawValue, bytes: 4, b.unary(.low64to32, old, .i64))
        writeRegister(Register.edx.rawValue, bytes: 4, b.unary(.high64to32, old, .i64))
        b.setLabel(keepLabel)
        let flags = b.and(arithmeticFlags(), UInt64(EFLAGS.arithmetic & ~EFLAGS.zero))
        setFlags(value: b.or(flags, b.shl(equal, 6)))
    }

    private func pair(high: Temp, low: Temp) -> Temp {
        b.binary(.or, b.binary(.shl, b.unary(.extu32to64, high), b.constant(32, .i64), .i64), b.unary(.extu32to64, low), .i64)
    }

    /// Calls the system helper; the result is i32 unless `wide`.
    func system(_ operation: SystemOperation, register: Int = 0, operand: Temp? = nil, address: Temp? = nil,
                wide: Bool = false) -> Temp {
        let call = SystemCall(operation, operandBytes: operandBytes, register: register)
        return b.call(X86Helper.system.index, [b.constant(record: call), operand ?? constant(0), address ?? constant(0)],
                      result: wide ? .i64 : .i32)
    }
}

import IR
import X86State

/// Everything the translation of one block knows: the static mode it runs in,
/// where it is, what the lazy flags hold, and the IR being built. Instruction
/// families extend it with their `translate…` methods.
final class TranslationContext {
    let builder: IRBuilder
    let globals: X86Globals
    let flags: HiddenFlags
    let codeSegmentBase: UInt32
    /// The linear address of the block's first instruction.
    let startLinear: LinearAddress
    /// The instruction being translated, its address (EIP or RIP) and the next one's.
    var instruction: DecodedInstruction
    var instructionAddress: UInt64 = 0
    var nextAddress: UInt64 = 0
    /// The lazy-flags operation the code so far leaves in cc_op, when known here.
    var knownConditionCodes: ConditionCodeOperation?
    /// Set when the instruction ended the block (a jump, an exception, a mode change).
    var blockEnded = false
    /// The guest's FPU is in the host's at this point of the block (see `translateX87OnHost`).
    var hostX87Acquired = false
    /// An x87 instruction of this block ran through the helper, which takes
    /// the FPU back from the host's.
    var x87HelperCalled = false

    /// An MMX instruction earlier in the block took the FPU into `CPUState.x87`
    /// and found no exception pending, and no x87 instruction has run since.
    var mmxReady = false
    /// `X86Translator.missingInstructionSets`.
    var missingInstructionSets: UInt32 = 0

    /// The instruction's extension is one the CPU model leaves out (#UD).
    var instructionSetMissing: Bool { missingInstructionSets & (1 << UInt32(instruction.isa.rawValue)) != 0 }

    init(builder: IRBuilder, globals: X86Globals, flags: HiddenFlags, codeSegmentBase: UInt32, startLinear: LinearAddress) {
        self.startLinear = startLinear
        self.builder = builder
        self.globals = globals
        self.flags = flags
        self.codeSegmentBase = codeSegmentBase
        instruction = DecodedInstruction.placeholder
    }

    var b: IRBuilder { builder }
    var isProtectedMode: Bool { flags.contains(.protectedMode) && !flags.contains(.virtual8086) }
    var stack32: Bool { flags.contains(.stack32) }
    /// 64-bit mode: registers are the i64 views, addresses 64 bits wide.
    var long64: Bool { flags.contains(.code64) }
    var mmuIndex: Int { flags.cpl == 3 ? 1 : 0 }

    /// Operand size in bytes (1, 2 or 4) and its log2.
    var operandBytes: Int { Int(instruction.operandSize) / 8 }
    var sizeShift: Int { operandBytes.trailingZeroBitCount }

    func constant(_ value: UInt32) -> Temp { b.constant(UInt64(value)) }

    /// The type of addresses and instruction pointers: i64 in 64-bit mode.
    var addressType: IRType { long64 ? .i64 : .i32 }

    /// An instruction address (or any address-sized value) as a constant of `addressType`.
    func addressValue(_ value: UInt64) -> Temp { b.constant(value & addressType.mask, addressType) }

    /// Runs `build` with ops of `type` unless told otherwise (see `IRBlock.wordType`).
    func withWordType<Result>(_ type: IRType, _ build: () -> Result) -> Result {
        let saved = b.block.wordType
        b.block.wordType = type
        defer { b.block.wordType = saved }
        return build()
    }

    /// A value of `type` from `value`, zero-extended or cut as needed.
    func converted(_ value: Temp, to type: IRType) -> Temp {
        let from = b.block.info(value).type
        if from == type { return value }
        return type == .i64 ? b.unary(.extu32to64, value) : b.unary(.low64to32, value)
    }

    // MARK: registers

    /// Reads general register `number` at `bytes` width, zero-extended to 32 bits.
    /// Byte registers 4-7 are AH CH DH BH.
    ///
    /// Always a fresh temp, never the global itself: an instruction that writes
    /// the register and then uses what it read (XCHG, XADD, ADD EAX,EAX's flags)
    /// must see the old value. The optimizer's copy propagation removes the copy
    /// wherever that is safe.
    func readRegister(_ number: Int, bytes: Int) -> Temp {
        // In 64-bit mode, as a temp of the word type (all 64 bits: always i64).
        if long64 { return converted(readRegister64(number, bytes: bytes), to: bytes == 8 ? .i64 : b.block.wordType) }
        switch bytes {
        case 4: return b.copy(globals.registers[number])
        case 2: return b.unary(.ext16u, globals.registers[number])
        default:
            return number < 4 ? b.unary(.ext8u, globals.registers[number])
                              : b.extract(globals.registers[number - 4], position: 8, size: 8)
        }
    }

    /// Writes the low `bytes` of `value` to register `number`, keeping its other bits.
    func writeRegister(_ number: Int, bytes: Int, _ value: Temp) {
        if long64 { return writeRegister64(number, bytes: bytes, value) }
        switch bytes {
        case 4: b.move(into: globals.registers[number], value)
        case 2: b.deposit(into: globals.registers[number], globals.registers[number], value, position: 0, size: 16)
        default:
            let full = globals.registers[number & 3]
            b.deposit(into: full, full, value, position: number < 4 ? 0 : 8, size: 8)
        }
    }

    // MARK: memory

    /// The base of a segment, read from the state (it changes only through segment loads,
    /// which end the block when they could change how it was translated).
    /// The low half of the 64-bit base: with the i32 add after it, the 4 GiB
    /// wrap of 32-bit linear addresses (`AddressSize.bits32`).
    func segmentBase(_ segment: Segment) -> Temp {
        b.loadState(offset: CPUStateLayout.segmentBase(segment), .u32)
    }

    /// The effective address (offset in the segment) of the memory operand.
    func effectiveAddress() -> Temp {
        if long64 { return effectiveAddress64() }
        let memory = instruction.memory
        var address = b.constant(UInt64(UInt32(bitPattern: memory.displacement)))
        if memory.hasBase {
            address = b.add(address, globals.registers[Int(memory.base)])
        }
        if memory.hasIndex {
            let index = memory.scaleShift == 0 ? globals.registers[Int(memory.index)]
                                               : b.shl(globals.registers[Int(memory.index)], UInt64(memory.scaleShift))
            address = b.add(address, index)
        }
        if instruction.addressSize == 16 { address = b.unary(.ext16u, address) }
        return address
    }

    var memorySegment: Segment { Segment(rawValue: Int(instruction.memory.segment.rawValue))! }

    /// Segment base + offset: the linear address of an access of `bytes`.
    /// Outside protected mode the access must also fit under the segment's
    /// limit (a word at offset FFFF raises #GP, or #SS on the stack).
    /// In protected mode, a segment that is not flat (see `HiddenFlags.checkedSegment`)
    /// has each access checked by a helper: null, type and limit, for `access`.
    func linearAddress(_ offset: Temp, segment: Segment, bytes: Int, access: SegmentAccess = .read) -> Temp {
        if long64 { return linearAddress64(offset, segment: segment) }
        if isProtectedMode && flags.contains(.checkedSegment(segment)) {
            checkSegment(segment, offset: offset, bytes: bytes, access: access)
        } else if isProtectedMode && (segment == .fs || segment == .gs) {
            // Flat or null (see `HiddenFlags.checkedSegment`): a null one faults.
            let selector = b.loadState(offset: CPUStateLayout.segmentSelector(segment), .u16)
            let usable = b.newLabel()
            b.branch(if: .ne, b.and(selector, 0xFFFC), constant(0), to: usable)
            checkSegment(segment, offset: offset, bytes: bytes, access: access)
            b.setLabel(usable)
        }
        if !isProtectedMode {
            let limit = b.loadState(offset: CPUStateLayout.segmentLimit(segment), .u32)
            let lastStart = bytes > 1 ? b.sub(limit, constant(UInt32(bytes - 1))) : limit
            let inside = b.newLabel()
            b.branch(if: .leu, offset, lastStart, to: inside)
            let vector = segment == .ss ? ExceptionVector.stackFault : ExceptionVector.generalProtection
            b.call(X86Helper.raiseInterrupt.index, [constant(vector), addressValue(instructionAddress),
                                                     constant(InterruptKind.exception.rawValue)])
            b.exitBlock(0)
            b.setLabel(inside)
        }
        // A flat model (DS, ES and SS at base 0, the block keyed on it) needs no addition.
        if !flags.contains(.segmentBases) && (segment == .ds || segment == .es || segment == .ss) { return offset }
        return b.add(segmentBase(segment), offset)
    }

    func checkSegment(_ segment: Segment, offset: Temp, bytes: Int, access: SegmentAccess) {
        b.call(X86Helper.checkSegmentAccess.index, [b.constant(record: SegmentCheck(segment: segment, access: access, bytes: bytes)), offset])
    }

    /// Loads `bytes` from segment:offset, zero-extended to 32 bits.
    func load(_ segment: Segment, _ offset: Temp, bytes: Int) -> Temp {
        b.loadGuest(linearAddress(offset, segment: segment, bytes: bytes), .unsigned(bytes: bytes), mmu: mmuIndex)
    }

    func store(_ segment: Segment, _ offset: Temp, _ value: Temp, bytes: Int) {
        // The store is as wide as its value's temp (the access cuts it).
        let value = bytes == 8 ? converted(value, to: .i64) : value
        b.storeGuest(linearAddress(offset, segment: segment, bytes: bytes, access: .write), value, .unsigned(bytes: bytes),
                     mmu: mmuIndex, b.block.info(value).type)
    }

    // MARK: the ModRM r/m operand

    /// A resolved r/m operand: a register, or a linear address computed once
    /// so a read-modify-write instruction uses it twice. Its segment and offset
    /// are kept when the segment is checked: a write then checks writability.
    enum Location {
        case register(Int)
        case memory(linear: Temp, checked: (segment: Segment, offset: Temp)? = nil)
    }

    /// The r/m operand, for accesses of `bytes` (the operand size unless given).
    func modrmLocation(bytes: Int? = nil) -> Location {
        if instruction.isRegisterOperand { return .register(instruction.rmRegister) }
        let offset = effectiveAddress(), segment = memorySegment
        let linear = linearAddress(offset, segment: segment, bytes: bytes ?? operandBytes)
        let checked = isProtectedMode && flags.contains(.checkedSegment(segment))
        return .memory(linear: linear, checked: checked ? (segment, offset) : nil)
    }

    /// The operand's value as a temp of the current word type.
    func read(_ location: Location, bytes: Int) -> Temp {
        switch location {
        case let .register(number): return readRegister(number, bytes: bytes)
        case let .memory(linear, _): return b.loadGuest(linear, .unsigned(bytes: bytes), mmu: mmuIndex)
        }
    }

    func write(_ location: Location, _ value: Temp, bytes: Int) {
        switch location {
        case let .register(number): writeRegister(number, bytes: bytes, value)
        case let .memory(linear, checked):
            if let checked { checkSegment(checked.segment, offset: checked.offset, bytes: bytes, access: .writeType) }
            let value = bytes == 8 ? converted(value, to: .i64) : value
            b.storeGuest(linear, value, .unsigned(bytes: bytes), mmu: mmuIndex, b.block.info(value).type)
        }
    }

    // MARK: stack

    /// The stack pointer as the stack's size sees it (SP or ESP).
    func stackPointer() -> Temp {
        if long64 { return globals.registers64[Register.esp.rawValue] }
        return stack32 ? globals.registers[Register.esp.rawValue] : b.unary(.ext16u, globals.registers[Register.esp.rawValue])
    }

    /// Writes a new stack pointer, keeping ESP's top half with a 16-bit stack.
    func setStackPointer(_ value: Temp) {
        writeRegister(Register.esp.rawValue, bytes: long64 ? 8 : (stack32 ? 4 : 2), value)
    }

    /// Stack pointer after adding `delta`, wrapped to the stack's size.
    func offsetStackPointer(_ pointer: Temp, by delta: Int32) -> Temp {
        if long64 { return b.binary(.add, pointer, constant: UInt64(bitPattern: Int64(delta)), .i64) }
        let moved = b.add(pointer, UInt64(UInt32(bitPattern: delta)))
        return stack32 ? moved : b.unary(.ext16u, moved)
    }

    /// PUSH: stores first, then moves ESP, so a faulting push changes nothing.
    func push(_ value: Temp, bytes: Int) {
        let newPointer = offsetStackPointer(stackPointer(), by: -Int32(bytes))
        store(.ss, newPointer, value, bytes: bytes)
        setStackPointer(newPointer)
    }

    /// POP's load; the caller commits with `setStackPointer(afterPop)`.
    func popValue(bytes: Int) -> (value: Temp, afterPop: Temp) {
        let pointer = stackPointer()
        let value = load(.ss, pointer, bytes: bytes)
        return (value, offsetStackPointer(pointer, by: Int32(bytes)))
    }

    // MARK: leaving the block

    /// Stores EIP and leaves to the loop, which looks up the next block.
    func exitBlock(nextEIP: Temp) {
        if long64 {
            b.storeState(converted(nextEIP, to: .i64), offset: CPUStateLayout.eip, .u64, .i64)
        } else {
            b.storeState(nextEIP, offset: CPUStateLayout.eip, .u32, .i32)
        }
        b.exitBlock(0)
        blockEnded = true
    }

    func exitBlock(nextEIP: UInt64) {
        exitBlock(nextEIP: addressValue(nextEIP))
    }

    /// A direct jump to a known EIP through chaining slot `slot`. A target
    /// on another page is never chained (its page may be remapped apart from
    /// this one): it leaves as an indirect jump does, through the lookup exit.
    func jump(to target: UInt64, slot: Int) {
        if long64 {
            b.storeState(addressValue(target), offset: CPUStateLayout.eip, .u64, .i64)
        } else {
            b.storeState(constant(UInt32(truncatingIfNeeded: target)), offset: CPUStateLayout.eip, .u32, .i32)
        }
        if flags.addressSize.mask(LinearAddress(codeSegmentBase) &+ LinearAddress(target)) >> 12 != startLinear >> 12 {
            b.exitBlock(0)
        } else {
            b.gotoBlock(slot: slot)
        }
    }

    /// Raises exception `vector` at this instruction (faults report its address).
    /// In virtual-8086 mode with IOPL below 3, PUSHF, POPF, INT n and IRET fault
    /// with #GP(0) for the monitor to emulate them (no VME). Answers whether it did.
    func faultsAsIOPLSensitiveInVirtual8086() -> Bool {
        guard flags.contains(.virtual8086) && flags.contains(.ioPrivilegeCheck) else { return false }
        raiseException(ExceptionVector.generalProtection)
        return true
    }

    func raiseException(_ vector: UInt32) {
        b.call(X86Helper.raiseInterrupt.index, [constant(vector), addressValue(instructionAddress), constant(InterruptKind.exception.rawValue)])
        b.exitBlock(0)
        blockEnded = true
    }
}

/// How an interrupt came to be, which decides what the CPU pushes and checks.
public enum InterruptKind: UInt32, Sendable {
    /// A fault or trap the CPU raised: the address passed is the faulting instruction's.
    case exception = 0
    /// INT n, INT3, INTO: the address passed is the next instruction's.
    case software = 1
    /// An external interrupt from the PIC.
    case external = 2
}

extension DecodedInstruction {
    static var placeholder: DecodedInstruction {
        guard case let .instruction(nop) = decode([0x90], codeSize32: false) else { preconditionFailure() }
        return nop
    }
}

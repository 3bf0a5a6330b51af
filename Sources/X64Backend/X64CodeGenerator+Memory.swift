import IR

/// State fields, guest memory and helper calls.
extension X64CodeGenerator {
    private func stateRange(_ op: IROp) -> Range<Int> {
        Int(op.constant)..<Int(op.constant) + op.access.bytes
    }

    private func touchesInstructionSlot(_ range: Range<Int>) -> Bool {
        let start = configuration.base.currentInstructionOffset
        return range.overlaps(start..<start + 8)
    }

    func translateStateAccess(_ op: IROp) {
        let range = stateRange(op)
        let memory = stateOperand(Int(op.constant))
        let access = op.access
        // The field may be a global's (or part of one): its slot must be current.
        writeBackGlobals(overlapping: range)
        if touchesInstructionSlot(range) { storePendingInstruction() }
        if op.opcode == .loadState {
            let out = outputRegister()
            load(access, op.type, into: out, from: .memory(memory))
            define(op.output, in: out)
        } else {
            let value = use(op.inputs.0)
            assembler.store(OperandSize(bytes: access.bytes), memory, value)
            forgetGlobals(overlapping: range)
        }
    }

    /// A load of `access` into an `type` register: extended as the access
    /// says, then kept zero-extended for i32.
    private func load(_ access: MemoryAccess, _ type: IRType, into register: HostRegister, from source: RMOperand) {
        guard case let .memory(memory) = source else { preconditionFailure() }
        switch access.bytes {
        case 1, 2:
            let from: OperandSize = access.bytes == 1 ? .byte : .word
            if access.isSigned { assembler.movsx(type.operandSize, register, source, from: from) }
            else { assembler.movzx(.dword, register, source, from: from) }
        case 4:
            if access.isSigned && type == .i64 { assembler.movsxd(register, source) }
            else { assembler.load(.dword, register, memory) }
        default:
            assembler.load(.qword, register, memory)
        }
    }

    func translateGuestAccess(_ op: IROp) {
        let configuration = configuration.base
        let address = op.inputs.0
        let arguments = op.opcode == .loadGuest ? [address] : [address, op.inputs.1]
        prepareCall(arguments: arguments, observesState: true)
        // The address is passed as 32 bits, whatever its temp's width.
        move(address, to: .rsi, size: .dword)
        let function: UInt64
        if op.opcode == .loadGuest {
            assembler.movImmediate(.rdx, UInt64(op.aux))
            assembler.movImmediate(.rcx, op.constant & 0xFFFF_FFFF)
            function = UInt64(UInt(bitPattern: unsafeBitCast(configuration.load, to: Int.self)))
        } else {
            move(op.inputs.1, to: .rdx, size: op.type.operandSize)
            assembler.movImmediate(.rcx, (UInt64(op.aux) | op.constant << 8) & 0xFFFF_FFFF)
            function = UInt64(UInt(bitPattern: unsafeBitCast(configuration.store, to: Int.self)))
        }
        callFunction(function)
        checkFault()
        if op.opcode == .loadGuest { takeResult(op) }
    }

    func translateCall(_ op: IROp) {
        let flags = HelperFlags(rawValue: op.aux)
        let mayFault = !flags.contains(.noFault)
        let accessesState = !flags.contains(.noState)
        let arguments = (0..<3).map(op.input).filter { !$0.isNone }
        prepareCall(arguments: arguments, observesState: mayFault || accessesState)
        for (position, argument) in (0..<3).map(op.input).enumerated() where !argument.isNone {
            move(argument, to: HostRegister.arguments[position + 1], size: type(of: argument).operandSize)
        }
        let helper = block.helpers[op.constant].function
        callFunction(UInt64(UInt(bitPattern: unsafeBitCast(helper, to: Int.self))))
        if mayFault { checkFault() }
        // The helper may have written any global's field.
        if accessesState { forgetGlobals() }
        if !op.output.isNone { takeResult(op) }
    }

    /// Globals (and the instruction address) to the state when the callee
    /// may look; caller-saved registers emptied.
    private func prepareCall(arguments: [Temp], observesState: Bool) {
        if observesState {
            storePendingInstruction()
            writeBackGlobals()
        }
        evacuateCallerSaved(arguments: arguments)
    }

    /// `temp` into an argument register at `size`. After
    /// `evacuateCallerSaved`, every source is a callee-saved register or a
    /// slot, so argument registers cannot overwrite one another's sources.
    private func move(_ temp: Temp, to register: HostRegister, size: OperandSize) {
        if let source = registers.register(of: temp) {
            assembler.mov(size, register, source)
        } else {
            assembler.load(size, register, slot(temp))
        }
    }

    private func callFunction(_ address: UInt64) {
        assembler.mov(.qword, .rdi, stateRegister)
        assembler.movImmediate(.rax, address)
        assembler.call(.rax)
    }

    /// Leaves through the fault exit when the state's fault word is >= 0.
    private func checkFault() {
        let fault = stateOperand(configuration.base.faultOffset)
        assembler.alu(.cmp, .dword, .memory(fault), immediate: 0)
        assembler.jcc(.ge, faultExit)
    }

    /// The call's result from RAX, cut to an i32 when the output is one.
    private func takeResult(_ op: IROp) {
        let out = outputRegister()
        assembler.mov(op.type.operandSize, out, .rax)
        define(op.output, in: out)
    }
}

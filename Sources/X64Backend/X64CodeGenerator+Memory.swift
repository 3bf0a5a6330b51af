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
        // STMXCSR reads the flags a resident run has not ORed in yet.
        if guestMXCSRResident, let simd = configuration.hostSIMD,
           range.overlaps(simd.mxcsrOffset..<simd.mxcsrOffset + 4) || range.overlaps(simd.raisedFlagsOffset..<simd.raisedFlagsOffset + 4) {
            leaveGuestMXCSR()
        }
        // The field may be a global's (or part of one): its slot must be current.
        writeBackGlobals(overlapping: range)
        if touchesInstructionSlot(range) { storePendingInstruction() }
        if op.opcode == .loadState {
            let out = outputRegister()
            load(access, op.type, into: out, from: .memory(memory))
            define(op.output, in: out)
        } else {
            let size = OperandSize(bytes: access.bytes)
            if let constant = constantOf[Int(op.inputs.0.index)],
               let immediate = immediate(of: constant, size == .qword ? .qword : .dword) {
                assembler.storeImmediate(size, memory, immediate)
            } else {
                assembler.store(size, memory, use(op.inputs.0))
            }
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

    /// The x87 instruction that a guest load at op `index` feeds through
    /// the transfer field (`loadGuest; storeState transfer; hostX87 [transfer]`,
    /// the loaded value used nowhere else), when the JIT can run it on guest
    /// memory directly: on the TLB hit path it reads the host address.
    func x87LoadFusedWith(_ index: Int) -> HostX87Instruction? {
        guard configuration.tlb != nil, configuration.hostX87 != nil, index + 2 < ops.count else { return nil }
        let load = ops[index], store = ops[index + 1], x87 = ops[index + 2]
        guard load.opcode == .loadGuest, store.opcode == .storeState, x87.opcode == .hostX87,
              store.inputs.0 == load.output, analysis.dies(load.output, at: index + 1),
              store.access.bytes == load.access.bytes, load.access.bytes >= 2 else { return nil }
        let instruction = HostX87Instruction(rawValue: x87.constant)
        guard instruction.isMemoryForm, instruction.stateOffset == Int(store.constant) else { return nil }
        return instruction
    }

    /// The argument registers of the load/store functions a guest access empties.
    static let accessArgumentRegisters: [HostRegister] = [.rsi, .rdx, .rdi]

    /// A guest access; with `x87`, a load fused with the x87 instruction that reads it.
    func translateGuestAccess(_ op: IROp, x87: HostX87Instruction? = nil) {
        let address = op.inputs.0
        let isLoad = op.opcode == .loadGuest
        // The access's temps, in the generator's reused list (an array made
        // here would be allocated for every guest access).
        callArguments.removeAll(keepingCapacity: true)
        callArguments.append(address)
        if !isLoad { callArguments.append(op.inputs.1) }
        let arguments = callArguments
        // Done for both paths, before they split, so the register file is
        // the same wherever the hit and miss paths join: the argument
        // registers the access uses are emptied (RAX and RCX, its scratch,
        // hold no temps); the other caller-saved registers keep their temps,
        // saved around the miss path's call. Globals and the instruction
        // address are stored on the miss path only, where the access may
        // fault or reach a device.
        if configuration.tlb != nil {
            evacuate(Self.accessArgumentRegisters, arguments: arguments)
        } else {
            prepareCall(arguments: arguments, observesState: false)
        }
        var miss = missPath(for: op)
        if let tlb = configuration.tlb {
            // The hit path takes the address and a store's value where they
            // are (an i32 register is zero-extended, as the address must
            // be; a constant value is stored as an immediate); the miss
            // path, emitted after the block's code (`emitMissPaths`) so the
            // hit path runs straight through, moves them to its arguments.
            // An i64 address (64-bit mode) is used whole.
            let addressSize = type(of: address).operandSize
            let addressRegister: HostRegister
            if let register = registers.register(of: address) {
                addressRegister = register
                addSetup(RegisterMove(size: addressSize, destination: .rsi, source: register), to: &miss)
            } else {
                move(address, to: .rsi, size: addressSize)
                addressRegister = .rsi
            }
            var value: StoredValue = .none
            if !isLoad {
                let size = op.type.operandSize
                if let register = registers.register(of: op.inputs.1) {
                    value = .register(register)
                    addSetup(RegisterMove(size: size, destination: .rdx, source: register), to: &miss)
                } else if let constant = immediate(op.inputs.1, size) {
                    value = .immediate(constant)
                    addSetup(RegisterMove(size: size, destination: .rdx, constant: constantOf[Int(op.inputs.1.index)]!), to: &miss)
                } else {
                    move(op.inputs.1, to: .rdx, size: size)
                    value = .register(.rdx)
                }
            }
            // A load's result goes straight to its register on the hit path;
            // the miss path moves it there from RAX after the call.
            let result: HostRegister? = isLoad && x87 == nil ? outputRegister() : nil
            let label = assembler.newLabel()
            emitTLBHit(op, tlb, address: addressRegister, addressSize: addressSize, value: value, result: result ?? .rax, x87: x87, miss: label)
            let done = assembler.newLabel()
            deferredMisses.append(DeferredMiss(label: label, done: done, miss: miss, result: result,
                                               resultSize: op.type.operandSize, x87: x87,
                                               x87Size: OperandSize(bytes: op.access.bytes), guestMXCSR: guestMXCSRResident))
            assembler.bind(done)
            if let result { define(op.output, in: result) }
            return
        } else {
            leaveGuestMXCSR()
            // The address is passed at its temp's width (i32 zero-extended).
            move(address, to: .rsi, size: type(of: address).operandSize)
            if !isLoad { move(op.inputs.1, to: .rdx, size: op.type.operandSize) }
            emitMissCall(miss)
        }
        if isLoad { takeResult(op) }
    }

    /// What a guest access's miss path does, fixed where the access is
    /// translated: the dirty globals it stores, the instruction address, the
    /// caller-saved registers it keeps across the call, and the call itself.
    /// Its lists are ranges of the block's `MissPathLists`, so a guest
    /// access allocates nothing of its own.
    struct MissPath {
        var globals: Range<Int>
        var constants: Range<Int>
        var instruction: UInt64?
        var kept: Range<Int>
        var function: UInt64
        /// The function is the load one (else the store one).
        var isLoad: Bool
        var arguments: Range<Int>
        /// Moves into RSI and RDX the hit path did not need.
        var setup: Range<Int>
    }

    /// The lists of every miss path of a block, end to end.
    struct MissPathLists {
        var globals: [RegisterStore] = []
        var constants: [ConstantStore] = []
        var kept: [HostRegister] = []
        var arguments: [ImmediateArgument] = []
        var setup: [RegisterMove] = []

        /// Sized for a usual block's accesses: one allocation per list.
        init() {
            globals.reserveCapacity(32)
            constants.reserveCapacity(16)
            kept.reserveCapacity(16)
            arguments.reserveCapacity(16)
            setup.reserveCapacity(16)
        }

        /// Empties the lists for the next block, keeping their storage.
        mutating func removeAll() {
            globals.removeAll(keepingCapacity: true)
            constants.removeAll(keepingCapacity: true)
            kept.removeAll(keepingCapacity: true)
            arguments.removeAll(keepingCapacity: true)
            setup.removeAll(keepingCapacity: true)
        }
    }

    /// Appends a move to the miss path made last.
    private func addSetup(_ move: RegisterMove, to miss: inout MissPath) {
        precondition(miss.setup.upperBound == missLists.setup.count, "setup moves go to the newest miss path")
        missLists.setup.append(move)
        miss.setup = miss.setup.lowerBound..<missLists.setup.count
    }

    /// A register copy (or a constant load, when `source` is nil) into an argument register.
    struct RegisterMove {
        var size: OperandSize
        var destination: HostRegister
        var source: HostRegister?
        var constant: UInt64 = 0

        init(size: OperandSize, destination: HostRegister, source: HostRegister) {
            self.size = size
            self.destination = destination
            self.source = source
        }

        init(size: OperandSize, destination: HostRegister, constant: UInt64) {
            self.size = size
            self.destination = destination
            self.constant = constant
        }
    }

    /// Where the hit path of a store takes its value from.
    enum StoredValue {
        case none
        case register(HostRegister)
        case immediate(Int32)
    }

    /// A miss path to emit after the block, and where it returns.
    struct DeferredMiss {
        var label: AssemblerLabel
        var done: AssemblerLabel
        var miss: MissPath
        /// A load's result register, and its size.
        var result: HostRegister?
        var resultSize: OperandSize
        /// A fused x87 load's instruction: the miss path puts the value in
        /// its transfer field (at `x87Size`) and runs it there.
        var x87: HostX87Instruction?
        var x87Size: OperandSize
        /// The guest's MXCSR is in the host's: put the host's back around the call.
        var guestMXCSR: Bool
    }

    /// A store of a register (a dirty global's) to its slot.
    struct RegisterStore {
        var size: OperandSize
        var slot: MemoryOperand
        var register: HostRegister
    }

    /// A store of a global's constant to its slot.
    struct ConstantStore {
        var size: OperandSize
        var slot: MemoryOperand
        var value: Int32
    }

    struct ImmediateArgument {
        var register: HostRegister
        var value: UInt64
    }

    private func missPath(for op: IROp) -> MissPath {
        let configuration = configuration.base
        // The miss path's copy of what a call that may fault needs in the
        // state: dirty globals and the pending instruction address are
        // stored, but the register file still counts them dirty and
        // pending, since the hit path that joins it stored nothing.
        let globalsStart = missLists.globals.count, keptStart = missLists.kept.count
        for register in RegisterFile.allocatable {
            guard let temp = registers.occupant[Int(register.rawValue)] else { continue }
            if isGlobal(temp) && registers.isDirty(temp) {
                missLists.globals.append(RegisterStore(size: type(of: temp).operandSize, slot: slot(temp), register: register))
            }
            if !register.isCalleeSaved { missLists.kept.append(register) }
        }
        let constantsStart = missLists.constants.count
        appendUnstoredConstants(to: &missLists.constants)
        let isLoad = op.opcode == .loadGuest
        let function = isLoad ? unsafeBitCast(configuration.load, to: Int.self) : unsafeBitCast(configuration.store, to: Int.self)
        let argumentsStart = missLists.arguments.count
        // The access kind and the MMU index after the address (and a store's
        // value). R8, unlike RSI and RDX, may hold a temp: it is pushed with
        // the kept registers before the arguments are loaded.
        let (accessRegister, mmuRegister): (HostRegister, HostRegister) = isLoad ? (.rdx, .rcx) : (.rcx, .r8)
        missLists.arguments.append(ImmediateArgument(register: accessRegister, value: UInt64(op.aux)))
        missLists.arguments.append(ImmediateArgument(register: mmuRegister, value: op.constant & 0xFFFF_FFFF))
        return MissPath(globals: globalsStart..<missLists.globals.count, constants: constantsStart..<missLists.constants.count,
                        instruction: pendingInstruction, kept: keptStart..<missLists.kept.count,
                        function: UInt64(UInt(bitPattern: function)), isLoad: isLoad, arguments: argumentsStart..<missLists.arguments.count,
                        setup: missLists.setup.count..<missLists.setup.count)
    }

    /// The load/store function's call, with the address in ESI and a
    /// store's value in RDX; a load's result is left in RAX. Uses RAX only
    /// besides the call's own registers.
    func emitMissCall(_ miss: MissPath) {
        // Sources are never RSI or RDX (emptied before the access), so the moves cannot clash.
        for move in missLists.setup[miss.setup] {
            if let source = move.source {
                assembler.mov(move.size, move.destination, source)
            } else {
                assembler.movImmediate(move.destination, move.constant & (move.size == .qword ? ~0 : 0xFFFF_FFFF))
            }
        }
        for global in missLists.globals[miss.globals] { assembler.store(global.size, global.slot, global.register) }
        for constant in missLists.constants[miss.constants] { assembler.storeImmediate(constant.size, constant.slot, constant.value) }
        if let address = miss.instruction { storeInstructionAddress(address) }
        // Temps still in caller-saved registers survive the call on the stack
        // (an odd count pads it, keeping RSP 16-byte aligned at the call).
        let kept = missLists.kept[miss.kept]
        for register in kept { assembler.push(register) }
        if kept.count % 2 != 0 { assembler.alu(.sub, .qword, .register(.rsp), immediate: 8) }
        for argument in missLists.arguments[miss.arguments] { assembler.movImmediate(argument.register, argument.value) }
        if let shared = sharedExits {
            callShared(miss.isLoad ? shared.loadCall : shared.storeCall)
        } else {
            callFunction(miss.function)
        }
        if kept.count % 2 != 0 { assembler.alu(.add, .qword, .register(.rsp), immediate: 8) }
        for register in kept.reversed() { assembler.pop(register) }
        checkFault()
    }

    /// The deferred miss paths, each returning to the code after its access.
    func emitMissPaths() {
        for deferred in deferredMisses {
            assembler.bind(deferred.label)
            let simd = deferred.guestMXCSR ? configuration.hostSIMD : nil
            // RAX is free here: the hit path's scratch, the call's result after.
            if let simd { HostSIMDEncoder.leaveGuestMXCSR(layout: simd, into: &assembler) }
            emitMissCall(deferred.miss)
            if let simd { HostSIMDEncoder.enterGuestMXCSR(layout: simd, into: &assembler) }
            if let result = deferred.result { assembler.mov(deferred.resultSize, result, .rax) }
            if let x87 = deferred.x87 {
                assembler.store(deferred.x87Size, stateOperand(x87.stateOffset), .rax)
                emitHostX87(x87)
            }
            assembler.jmp(deferred.done)
        }
        deferredMisses.removeAll(keepingCapacity: true)
    }

    /// The load/store functions' TLB hit path, inline: with the address in
    /// `address` (zero-extended) and a store's value in `value`, jumps to
    /// `miss` unless the entry's tag matches, else does the access through
    /// RAX + the address and leaves a load's result in `result`, extended as
    /// the function would. Uses RAX and RCX only.
    private func emitTLBHit(_ op: IROp, _ tlb: TLBLayout, address: HostRegister, addressSize: OperandSize, value: StoredValue,
                            result: HostRegister, x87: HostX87Instruction?, miss: AssemblerLabel) {
        let access = op.access
        let entryShift = tlb.entryBytes.trailingZeroBitCount
        precondition(tlb.entryBytes == 1 << entryShift && tlb.pageBits >= entryShift, "TLB entries must be a power of two in size")
        precondition(tlb.entriesPerMMU.nonzeroBitCount == 1, "TLB entry count must be a power of two")
        let pageMask = ~UInt32((1 << tlb.pageBits) - 1)  // sign-extended: ~(page size - 1) in 64 bits
        // RAX = the entry's offset within its MMU's table: shifting by
        // pageBits - log2(entryBytes) and masking gives index * entryBytes.
        assembler.mov(.dword, .rax, address)
        assembler.shift(.shr, .dword, .rax, by: UInt8(tlb.pageBits - entryShift))
        assembler.alu(.and, .dword, .register(.rax), immediate: Int32((tlb.entriesPerMMU - 1) << entryShift))
        // RCX = the page of the access's last byte, in 64 bits. It equals the
        // 64-bit tag only when the first byte's page is the entry's and the
        // access stays in it (one that runs past 4 GiB, where a 32-bit mode
        // wraps, ends on a page no tag of a 32-bit mode holds, and the slow
        // path splits it); tags with low bits set (invalid, slow path, code
        // page) never match.
        if access.bytes > 1 {
            assembler.lea(.qword, .rcx, MemoryOperand(base: address, displacement: Int32(access.bytes - 1)))
        } else {
            assembler.mov(addressSize, .rcx, address)
        }
        assembler.alu(.and, .qword, .register(.rcx), immediate: Int32(bitPattern: pageMask))
        let table = tlb.offset + Int(op.constant) * tlb.entriesPerMMU * tlb.entryBytes
        func field(_ offset: Int) -> MemoryOperand {
            guard let displacement = Int32(exactly: table + offset) else { preconditionFailure("TLB offset out of range") }
            return MemoryOperand(base: stateRegister, index: .rax, displacement: displacement)
        }
        let isLoad = op.opcode == .loadGuest
        assembler.alu(.cmp, .qword, .rcx, field(isLoad ? tlb.readTagOffset : tlb.writeTagOffset))
        assembler.jcc(.ne, miss)
        // The addend is signed: host = linear + addend in 64 bits.
        assembler.load(.qword, .rax, field(tlb.addendOffset))
        let host = MemoryOperand(base: .rax, index: address)
        if let x87 {
            assembler.x87(escape: x87.escape, reg: x87.reg, host)
        } else if isLoad {
            load(access, op.type, into: result, from: .memory(host))
        } else {
            switch value {
            case let .register(register): assembler.store(OperandSize(bytes: access.bytes), host, register)
            case let .immediate(constant): assembler.storeImmediate(OperandSize(bytes: access.bytes), host, constant)
            case .none: preconditionFailure("a store without a value")
            }
        }
    }

    func translateCall(_ op: IROp) {
        leaveGuestMXCSR()
        let flags = HelperFlags(rawValue: op.aux)
        let mayFault = !flags.contains(.noFault)
        let accessesState = !flags.contains(.noState)
        callArguments.removeAll(keepingCapacity: true)
        for position in 0..<3 where !op.input(position).isNone { callArguments.append(op.input(position)) }
        prepareCall(arguments: callArguments, observesState: mayFault || accessesState)
        for position in 0..<3 {
            let argument = op.input(position)
            guard !argument.isNone else { continue }
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
    /// `evacuateCallerSaved` (or, for a guest access, emptying the argument
    /// registers it uses), no source is an argument register being written,
    /// so argument registers cannot overwrite one another's sources.
    private func move(_ temp: Temp, to register: HostRegister, size: OperandSize) {
        if let source = registers.register(of: temp) {
            assembler.mov(size, register, source)
        } else {
            if let value = constantOf[Int(temp.index)] {
                assembler.movImmediate(register, value & (size == .qword ? ~0 : 0xFFFF_FFFF))
            } else {
                assembler.load(size, register, slot(temp))
            }
        }
    }

    func callFunction(_ address: UInt64) {
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

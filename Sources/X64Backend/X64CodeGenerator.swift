import IR

public enum X64BackendError: Error, CustomStringConvertible {
    case tooManyTemps(Int, Int)
    case missingLabel(UInt32)
    case cacheTooSmall(Int)

    public var description: String {
        switch self {
        case let .tooManyTemps(used, limit): return "block uses \(used) temps, more than the \(limit) scratch slots"
        case let .missingLabel(label): return "branch to label L\(label), which is never set"
        case let .cacheTooSmall(size): return "a block of \(size) bytes does not fit an empty code cache"
        }
    }
}

/// Translates one IRBlock into host code, op by op, in one forward pass.
///
/// The generated function is `(state) -> exit code`. RBX holds the state
/// pointer throughout; temps live in the registers of `RegisterFile`, their
/// memory slots (a global's state field, a local's scratch slot) being the
/// truth at every basic-block boundary and, for globals, before every op
/// that may fault, read the state or leave.
final class X64CodeGenerator {
    private(set) var block: IRBlock
    private(set) var ops: [IROp] = []
    let configuration: X64BackendConfiguration
    private(set) var analysis = BlockAnalysis()
    var assembler = X64Assembler()
    var registers = RegisterFile(tempCount: 0)
    /// The op being translated.
    var current = 0
    /// An insn_start whose address is not stored yet: it is stored only
    /// before something that could observe it.
    var pendingInstruction: UInt64?

    let stateRegister = HostRegister.rbx
    var irLabels: [AssemblerLabel] = []
    var faultExit = AssemblerLabel(id: 0)
    var epilogue = AssemblerLabel(id: 0)
    /// Callee-saved registers the prologue saves (the allocatable ones and RBX).
    static let savedRegisters: [HostRegister] = [.rbx, .rbp, .r12, .r13, .r14, .r15]

    /// A generator for `block`. `X64Backend` keeps one and hands it each
    /// block in turn (`prepare`), so the per-temp tables, the label lists
    /// and the code buffer are allocated once, not per block.
    init(_ block: IRBlock, configuration: X64BackendConfiguration) throws {
        self.block = block
        self.configuration = configuration
        irLabels.reserveCapacity(16)
        deferredMisses.reserveCapacity(16)
        chainStubs.reserveCapacity(2)
        stubExitCodes.reserveCapacity(2)
        callArguments.reserveCapacity(3)
        sharedJumps.reserveCapacity(4)
        try prepare(block)
    }

    /// Forgets the previous block and gets ready to generate `block`.
    func prepare(_ block: IRBlock) throws {
        let locals = block.tempCount - block.globalCount
        guard locals <= configuration.base.scratchSlots else {
            throw X64BackendError.tooManyTemps(locals, configuration.base.scratchSlots)
        }
        self.block = block
        ops = block.ops
        analysis.analyse(block)
        registers.reset(tempCount: block.tempCount)
        constantOf.reset(to: nil, count: block.tempCount)
        constantUnstored.reset(to: false, count: block.tempCount)
        unstoredCount = 0
        current = 0
        pendingInstruction = nil
        assembler.reset()
        faultExit = assembler.newLabel()
        epilogue = assembler.newLabel()
        irLabels.removeAll(keepingCapacity: true)
        for _ in 0..<Int(block.labelCount) { irLabels.append(assembler.newLabel()) }
        bodyOffset = 0
        chainSites.0 = -1
        chainSites.1 = -1
        chainStubs.removeAll(keepingCapacity: true)
        stubExitCodes.removeAll(keepingCapacity: true)
        chainRecordOffset = -1
        chainTag = ChainTag()
        yieldExit = nil
        entryCharge = 0
        deferredMisses.removeAll(keepingCapacity: true)
        missLists.removeAll()
        sharedJumps.removeAll(keepingCapacity: true)
        guestMXCSRResident = false
    }

    /// Lets go of the block's IR once its code is installed.
    func release() {
        ops = []
    }

    /// Where the body starts (after the prologue): chained jumps land here.
    private(set) var bodyOffset = 0
    /// Per chaining slot, the offset of its jump's rel32 field, or -1.
    private(set) var chainSites: (Int, Int) = (-1, -1)
    /// Per slot, the stub the jump goes to until it is chained.
    private var chainStubs: [(label: AssemblerLabel, slot: UInt64)] = []
    /// Offsets of the stubs' 64-bit exit codes (patched at install to name
    /// the chain record), and of the chain record itself.
    private(set) var stubExitCodes: [(offset: Int, slot: UInt64)] = []
    private(set) var chainRecordOffset = -1
    /// The runtime's words about the block, kept in its chain record.
    var chainTag: ChainTag = ChainTag()
    private var yieldExit: AssemblerLabel?
    /// What the block charged the instruction budget on entry.
    private var entryCharge: Int32 = 0
    /// Guest accesses' miss paths, emitted after the block's code.
    var deferredMisses: [DeferredMiss] = []
    var missLists = MissPathLists()
    /// The exits every block shares in the code cache; nil: each block has its own.
    var sharedExits: SharedExits?
    /// Jumps to shared exits, patched once the block's place in the cache is known.
    var sharedJumps: [SharedJump] = []
    /// A helper call's arguments (working space of `translateCall`).
    var callArguments: [Temp] = []
    /// Per temp, the constant a movi gave a local that lives in one basic
    /// block: it has no slot value and is put in a register only when an op
    /// cannot take it as an immediate.
    var constantOf: [UInt64?] = []
    /// Per global: its constant (in `constantOf`) is not in its state field
    /// yet; it is stored with an immediate where a register value would be.
    var constantUnstored: [Bool] = []
    var unstoredCount = 0
    /// The host's MXCSR holds the guest's (`HostSIMDEncoder.enterGuestMXCSR`):
    /// from a floating-point op with deferred flags up to the next thing that
    /// could run host code or read MXCSR (a call, a basic block's end, a
    /// guest access's miss path, a read of the MXCSR field).
    var guestMXCSRResident = false

    /// The block's code as an array (for tests and disassembly).
    func generate() throws -> [UInt8] {
        try emit()
        return assembler.bytes
    }

    /// Generates the block's code into the assembler (`assembler.emitted`).
    func emit() throws {
        prologue()
        bodyOffset = assembler.position
        if let chaining = configuration.chaining { checkOnEntry(chaining) }
        var index = 0
        while index < ops.count {
            current = index
            let op = ops[index]
            var last = index
            if let x87 = x87LoadFusedWith(index) {
                translateGuestAccess(op, x87: x87)
                last = index + 2
            } else {
                translate(op)
            }
            registers.unlockAll()
            for position in index...last {
                BlockAnalysis.forEachReference(ops[position]) { temp in
                    if analysis.dies(temp, at: position) { registers.release(temp) }
                }
            }
            index = last + 1
        }
        // A block whose last op is not an exit cannot be valid IR, but be safe: leave with code 0.
        if let last = ops.last, !last.opcode.properties.endsBlock { leave(with: 0) }
        emitMissPaths()
        for stub in chainStubs {
            assembler.bind(stub.label)
            stubExitCodes.append((assembler.position + 2, stub.slot))  // after REX.W B8
            assembler.movabs(.rax, BlockExit.gotoSlot | stub.slot)
            assembler.jmp(epilogue)
        }
        if let yieldExit {
            assembler.bind(yieldExit)
            if let chaining = configuration.chaining {
                assembler.alu(.add, .qword, .memory(stateOperand(chaining.budgetOffset)), immediate: entryCharge)
            }
            assembler.movImmediate(.rax, 0)
            assembler.jmp(epilogue)
        }
        assembler.bind(faultExit)
        assembler.movabs(.rax, BlockExit.fault)
        assembler.bind(epilogue)
        if let sharedExits { jumpToShared(sharedExits.epilogue) } else { emitEpilogue() }
        if !chainStubs.isEmpty { emitChainRecord() }
        for (id, label) in irLabels.enumerated() where !assembler.isBound(label) {
            if ops.contains(where: { $0.opcode.properties.usesLabel && $0.constant == UInt64(id) }) {
                throw X64BackendError.missingLabel(UInt32(id))
            }
        }
    }

    /// The host's MXCSR back before host code runs, the flags raised ORed
    /// into the guest's. Clobbers RAX and the flags.
    func leaveGuestMXCSR() {
        guard guestMXCSRResident, let layout = configuration.hostSIMD else { return }
        HostSIMDEncoder.leaveGuestMXCSR(layout: layout, into: &assembler)
        guestMXCSRResident = false
    }

    /// Restores what the prologue saved and returns the exit code in RAX.
    func emitEpilogue() {
        if let layout = configuration.hostX87 { saveResidentX87(layout) }
        assembler.alu(.add, .qword, .register(.rsp), immediate: 8)
        for register in Self.savedRegisters.reversed() { assembler.pop(register) }
        assembler.ret()
    }

    /// Six pushes after the return address leave RSP 8 bytes off a 16-byte
    /// boundary; the extra 8 aligns it for helper calls.
    private func prologue() {
        for register in Self.savedRegisters { assembler.push(register) }
        assembler.alu(.sub, .qword, .register(.rsp), immediate: 8)
        assembler.mov(.qword, stateRegister, .rdi)
    }

    private func translate(_ op: IROp) {
        switch op.opcode {
        case .mov, .movi, .add, .sub, .mul, .and, .or, .xor, .shl, .shr, .sar, .rotl, .rotr,
             .neg, .not, .ext8s, .ext8u, .ext16s, .ext16u, .ext32s, .ext32u,
             .extu32to64, .exts32to64, .low64to32, .high64to32, .deposit, .extract, .sextract:
            translateArithmetic(op)
        case .setcond, .movcond:
            translateCondition(op)
        case .loadState, .storeState:
            translateStateAccess(op)
        case .loadGuest, .storeGuest:
            translateGuestAccess(op)
        case .call:
            translateCall(op)
        case .label, .br, .brcond:
            translateBranch(op)
        case .insnStart:
            pendingInstruction = op.constant
        case .exitBlock:
            let code = op.constant & BlockExit.codeMask
            if code == 0, configuration.chaining != nil, let lookup = configuration.nextBlockLookup {
                leaveThroughLookup(lookup)
            } else {
                leave(with: code)
            }
        case .hostX87:
            emitHostX87(HostX87Instruction(rawValue: op.constant))
        case .hostSIMD:
            if let layout = configuration.hostSIMD {
                let instruction = HostSIMDInstruction(rawValue: op.constant)
                let resident = instruction.isFloatingPoint && instruction.flagsDeferred
                // One that switches MXCSR itself saves the host's: it must be the host's then.
                if instruction.isFloatingPoint && !resident { leaveGuestMXCSR() }
                if resident && !guestMXCSRResident {
                    HostSIMDEncoder.enterGuestMXCSR(layout: layout, into: &assembler)
                    guestMXCSRResident = true
                }
                HostSIMDEncoder.emit(instruction, layout: layout, into: &assembler, guestMXCSRResident: resident)
            } else {
                preconditionFailure("host_simd needs a HostSIMDLayout")
            }
        case .gotoBlock:
            if configuration.chaining != nil, op.constant < 2 {
                chainableExit(slot: op.constant)
            } else {
                leave(with: BlockExit.gotoSlot | op.constant)
            }
        }
    }

    /// A block entered through a chained jump has no run loop in front of it:
    /// it charges its instructions to the budget and leaves when that runs
    /// out or an exit is requested (which pushes the budget far below zero),
    /// giving the charge back: the state is as the previous block left it,
    /// EIP included, and the block runs again from the loop.
    private func checkOnEntry(_ chaining: ChainingLayout) {
        let exit = assembler.newLabel()
        yieldExit = exit
        for op in ops where op.opcode == .insnStart { entryCharge += 1 }
        assembler.alu(.sub, .qword, .memory(stateOperand(chaining.budgetOffset)), immediate: entryCharge)
        assembler.jcc(.s, exit)
    }

    /// The guest's x87 instruction itself; a memory form addresses its state field.
    func emitHostX87(_ instruction: HostX87Instruction) {
        if instruction.isMemoryForm {
            assembler.x87(escape: instruction.escape, reg: instruction.reg, stateOperand(instruction.stateOffset))
        } else {
            assembler.x87(escape: instruction.escape, modrm: instruction.modrm)
            if instruction.storesFlags { assembler.storeFlags(stateOperand(instruction.stateOffset)) }
        }
    }

    /// On the way out, a guest FPU left in the host's is saved to its image
    /// (FNSAVE also reinitialises the host FPU). RAX holds the exit code.
    private func saveResidentX87(_ layout: HostX87Layout) {
        let done = assembler.newLabel()
        assembler.compareByte(stateOperand(layout.residenceOffset), layout.host)
        assembler.jcc(.ne, done)
        assembler.x87(escape: 5, reg: 6, stateOperand(layout.imageOffset))  // FNSAVE
        assembler.storeImmediate(.byte, stateOperand(layout.residenceOffset), Int32(layout.image))
        assembler.bind(done)
    }

    /// A direct jump to another block: a rel32 jump the runtime patches to the
    /// next block's body once both are known; until then it reaches a stub
    /// that returns the slot to the loop.
    private func chainableExit(slot: UInt64) {
        endBasicBlock()
        let stub = assembler.newLabel()
        chainStubs.append((stub, slot))
        // After the E9 opcode.
        if slot == 0 { chainSites.0 = assembler.position + 1 } else { chainSites.1 = assembler.position + 1 }
        assembler.jmp(stub)
        resetRegisters()
    }

    /// The chain record, after the code: the runtime's tag, then per slot the
    /// distance from the record to the jump's rel32 field (`ChainRecord.noSite` for none).
    private func emitChainRecord() {
        while assembler.position % 4 != 0 { assembler.byte(0xCC) }
        chainRecordOffset = assembler.position
        let linearPC = chainTag.linearPC
        assembler.int32(UInt32(truncatingIfNeeded: linearPC))
        assembler.int32(UInt32(truncatingIfNeeded: linearPC >> 32))
        assembler.int32(chainTag.codeSegmentBase)
        assembler.int32(chainTag.flags)
        func siteWord(_ site: Int) -> UInt32 {
            UInt32(bitPattern: site < 0 ? ChainRecord.noSite : Int32(site - chainRecordOffset))
        }
        assembler.int32(siteWord(chainSites.0))
        assembler.int32(siteWord(chainSites.1))
    }

    /// Stores globals, then asks the runtime for the next block and jumps to
    /// its body; a 0 answer is exit code 0 already in RAX.
    private func leaveThroughLookup(_ lookup: NextBlockLookup) {
        endBasicBlock()
        if let shared = sharedExits?.lookup {
            jumpToShared(shared)
        } else {
            emitLookup(lookup)
        }
        resetRegisters()
    }

    /// The jump-cache probe and the lookup call, from a block whose globals
    /// are stored: the same code for every block.
    func emitLookup(_ lookup: NextBlockLookup) {
        if let jumpCache = configuration.jumpCache { probeJumpCache(jumpCache) }
        assembler.mov(.qword, .rdi, stateRegister)
        assembler.movImmediate(.rax, UInt64(UInt(bitPattern: unsafeBitCast(lookup, to: Int.self))))
        assembler.call(.rax)
        assembler.test(.qword, .rax, .rax)
        assembler.jcc(.e, epilogue)
        assembler.jump(.rax)
    }

    /// The jump cache's entry for the new CS:EIP and mode, inline: on a hit
    /// (and with nothing for the runtime to look at first) jumps straight to
    /// the block's body, else falls through to the lookup call. Every
    /// register but RBX is free here (the globals are stored).
    private func probeJumpCache(_ cache: JumpCacheLayout) {
        let slow = assembler.newLabel()
        let entryShift = cache.entryBytes.trailingZeroBitCount
        precondition(cache.entryBytes == 1 << entryShift && cache.entryCount.nonzeroBitCount == 1,
                     "jump cache entries and their count must be powers of two")
        // EAX = the mode flags; none of the unchainable ones may be set.
        assembler.load(.dword, .rax, stateOperand(cache.flagsStateOffset))
        assembler.mov(.dword, .rcx, .rax)
        assembler.alu(.and, .dword, .register(.rcx), immediate: Int32(bitPattern: cache.unchainableFlags))
        assembler.jcc(.ne, slow)
        assembler.alu(.cmp, .dword, .memory(stateOperand(cache.pendingExceptionOffset)), immediate: 0)
        assembler.jcc(.ge, slow)
        assembler.movabs(.rdi, cache.address)
        let open = assembler.newLabel()
        assembler.load(.dword, .rcx, MemoryOperand(base: .rdi))
        assembler.test(.dword, .rcx, .rcx)
        assembler.jcc(.e, open)
        // A raised interrupt line matters only with interrupts enabled.
        assembler.alu(.cmp, .dword, .register(.rcx), immediate: Int32(JumpCacheLayout.bypassUnlessInterruptsOff))
        assembler.jcc(.ne, slow)
        assembler.load(.dword, .rcx, stateOperand(cache.eflagsOffset))
        assembler.alu(.and, .dword, .register(.rcx), immediate: Int32(bitPattern: cache.interruptFlag))
        assembler.jcc(.ne, slow)
        assembler.bind(open)
        // ECX = CS base, RDX = linear PC (the 32-bit sum, zero-extended: the
        // 4 GiB wrap of 32-bit modes), RSI = the set's offset in the table.
        assembler.load(.dword, .rcx, stateOperand(cache.codeSegmentBaseStateOffset))
        assembler.load(.dword, .rdx, stateOperand(cache.eipOffset))
        assembler.alu(.add, .dword, .rdx, .rcx)
        assembler.mov(.dword, .rsi, .rdx)
        assembler.shift(.shr, .dword, .rsi, by: 12)
        assembler.alu(.xor, .dword, .rsi, .rdx)
        assembler.alu(.and, .dword, .register(.rsi), immediate: Int32(cache.entryCount - 1))
        assembler.shift(.shl, .dword, .rsi, by: UInt8(entryShift + JumpCacheLayout.ways.trailingZeroBitCount))
        assembler.alu(.add, .qword, .rsi, .rdi)
        func field(_ offset: Int) -> MemoryOperand {
            MemoryOperand(base: .rsi, displacement: Int32(cache.entriesOffset + offset))
        }
        // The first way whose linear PC matches is the candidate (both ways
        // share a cache line); the runtime looks further on a mismatch.
        let candidate = assembler.newLabel()
        assembler.alu(.cmp, .qword, .rdx, field(cache.linearPCOffset))
        assembler.jcc(.e, candidate, short: true)
        assembler.alu(.add, .qword, .register(.rsi), immediate: Int32(cache.entryBytes))
        assembler.alu(.cmp, .qword, .rdx, field(cache.linearPCOffset))
        assembler.jcc(.ne, slow)
        assembler.bind(candidate)
        assembler.alu(.cmp, .dword, .rcx, field(cache.codeSegmentBaseOffset))
        assembler.jcc(.ne, slow)
        assembler.alu(.cmp, .dword, .rax, field(cache.flagsOffset))
        assembler.jcc(.ne, slow)
        // The entry's generation must be the current one of its kind (its low bit).
        assembler.load(.dword, .r8, field(cache.generationOffset))
        assembler.mov(.dword, .r9, .r8)
        assembler.alu(.and, .dword, .register(.r9), immediate: 1)
        assembler.alu(.cmp, .dword, .r8,
                      MemoryOperand(base: .rdi, index: .r9, scale: 4, displacement: Int32(cache.generationsOffset)))
        assembler.jcc(.ne, slow)
        assembler.load(.qword, .rax, field(cache.bodyOffset))
        assembler.jump(.rax)
        assembler.bind(slow)
    }

    /// Stores globals and the pending instruction address, then returns `code`.
    func leave(with code: UInt64) {
        endBasicBlock()
        assembler.movImmediate(.rax, code)
        assembler.jmp(epilogue)
        resetRegisters()
    }

    // MARK: the instruction address

    var instructionSlot: MemoryOperand { stateOperand(configuration.base.currentInstructionOffset) }

    func storePendingInstruction() {
        guard let address = pendingInstruction else { return }
        storeInstructionAddress(address)
        pendingInstruction = nil
    }

    /// Stores `address` as the current instruction's. Uses RAX.
    func storeInstructionAddress(_ address: UInt64) {
        if let short = Int32(exactly: Int64(bitPattern: address)) {
            assembler.storeImmediate(.qword, instructionSlot, short)
        } else {
            assembler.movabs(.rax, address)
            assembler.store(.qword, instructionSlot, .rax)
        }
    }

    func stateOperand(_ offset: Int) -> MemoryOperand {
        guard let displacement = Int32(exactly: offset) else { preconditionFailure("state offset \(offset) out of range") }
        return MemoryOperand(base: stateRegister, displacement: displacement)
    }
}

extension IRType {
    var operandSize: OperandSize { self == .i64 ? .qword : .dword }
}

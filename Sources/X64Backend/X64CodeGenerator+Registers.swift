import IR

/// Moving temps between registers and their memory slots.
extension X64CodeGenerator {
    func isGlobal(_ temp: Temp) -> Bool { Int(temp.index) < block.globalCount }
    func type(of temp: Temp) -> IRType { block.info(temp).type }

    /// A global's state field, or a local's scratch slot.
    func slot(_ temp: Temp) -> MemoryOperand {
        switch block.info(temp).kind {
        case let .global(offset): return stateOperand(offset)
        case .local: return stateOperand(configuration.base.scratchOffset + 8 * (Int(temp.index) - block.globalCount))
        }
    }

    /// Loads a temp's value from its slot, at its width (an i32 slot may
    /// sit next to another field, and i32 values are kept zero-extended).
    func loadFromSlot(_ temp: Temp, into register: HostRegister) {
        if let value = constantOf[Int(temp.index)] {
            assembler.movImmediate(register, value)
        } else {
            assembler.load(type(of: temp).operandSize, register, slot(temp))
        }
    }

    /// A constant local's value as an immediate of an op of `size` (sign-
    /// extended to 64 bits for a qword op), or nil.
    func immediate(_ temp: Temp, _ size: OperandSize) -> Int32? {
        guard let value = constantOf[Int(temp.index)] else { return nil }
        return immediate(of: value, size)
    }

    /// movi: a local used only in this basic block, or a global whose value
    /// fits an immediate store, just remembers its constant (a global's is
    /// stored where a dirty register would be); others get it in a register.
    func defineConstant(_ temp: Temp, _ value: UInt64) {
        let index = Int(temp.index)
        if isGlobal(temp), immediate(of: value, type(of: temp).operandSize) != nil {
            registers.release(temp)
            registers.inMemory[index] = false
            constantOf[index] = value
            setUnstored(index, true)
            return
        }
        guard !isGlobal(temp), !analysis.crossesBlocks[index] else {
            let out = outputRegister()
            assembler.movImmediate(out, value)
            return define(temp, in: out)
        }
        registers.release(temp)
        registers.inMemory[index] = true
        constantOf[index] = value
    }

    func immediate(of value: UInt64, _ size: OperandSize) -> Int32? {
        size == .qword ? Int32(exactly: Int64(bitPattern: value)) : Int32(truncatingIfNeeded: value)
    }

    /// Appends the globals whose constant is not stored yet, with the store's operands.
    func appendUnstoredConstants(to list: inout [ConstantStore]) {
        guard unstoredCount > 0 else { return }
        for index in 0..<block.globalCount where constantUnstored[index] { list.append(constantStore(index)) }
    }

    /// The store that puts global `index`'s constant in its state field.
    private func constantStore(_ index: Int) -> ConstantStore {
        let temp = Temp(UInt16(index))
        let size = type(of: temp).operandSize
        return ConstantStore(size: size, slot: slot(temp), value: immediate(of: constantOf[index]!, size)!)
    }

    /// Stores the unstored constants of globals overlapping `range` (all when nil).
    func storeConstants(overlapping range: Range<Int>? = nil) {
        guard unstoredCount > 0 else { return }
        for index in 0..<block.globalCount where constantUnstored[index] && overlaps(Temp(UInt16(index)), range) {
            let store = constantStore(index)
            assembler.storeImmediate(store.size, store.slot, store.value)
            setUnstored(index, false)
            if registers.register(of: Temp(UInt16(index))) == nil { registers.inMemory[index] = true }
        }
    }

    func setUnstored(_ index: Int, _ value: Bool) {
        guard constantUnstored[index] != value else { return }
        constantUnstored[index] = value
        unstoredCount += value ? 1 : -1
    }

    /// A control-flow join or a jump away: no register holds anything, no
    /// constant is known.
    func resetRegisters() {
        precondition(unstoredCount == 0, "a global's constant was not stored before a join")
        registers.reset()
        // Locals' constants live in one basic block: only globals' can be stale here.
        for index in 0..<block.globalCount { constantOf[index] = nil }
    }

    /// The register holding `temp`, loading it if needed; locked for the current op.
    func use(_ temp: Temp) -> HostRegister {
        if let register = registers.register(of: temp) {
            registers.lock(register)
            return register
        }
        let register = allocate()
        loadFromSlot(temp, into: register)
        registers.bind(temp, to: register, clean: true)
        registers.lock(register)
        return register
    }

    /// A free register, evicting the held temp read furthest ahead (or never
    /// again in this basic block). The register is locked.
    func allocate() -> HostRegister {
        if let free = registers.freeRegister {
            registers.lock(free)
            return free
        }
        var victim: HostRegister?, distance = -1
        for register in RegisterFile.allocatable where registers.isEvictable(register) {
            let temp = registers.occupant[Int(register.rawValue)]!
            let next = analysis.nextRead(of: temp, from: current + 1, in: ops) ?? Int.max
            if next > distance { victim = register; distance = next }
        }
        guard let victim else { preconditionFailure("every register is locked") }
        spill(registers.occupant[Int(victim.rawValue)]!)
        registers.lock(victim)
        return victim
    }

    /// A register for `op`'s output: `input`'s own when that temp dies at
    /// this op (so `mov out, in` disappears), else a fresh one. Never one of `avoiding`.
    func outputRegister(reusing input: Temp? = nil, avoiding: [HostRegister] = []) -> HostRegister {
        if let input, let register = registers.register(of: input), !avoiding.contains(register),
           analysis.dies(input, at: current) || isOverwrittenByResult(input) {
            registers.release(input)
            registers.lock(register)
            return register
        }
        let register = allocate()
        precondition(!avoiding.contains(register))
        return register
    }

    /// Whether `global`'s value is replaced by the current op's result at
    /// the very next op (`add t, g, x; mov g, t`, as every guest ALU
    /// instruction reads): the op may then compute in the global's register.
    /// Only for ops that cannot fault, so no miss path needs the old value.
    private func isOverwrittenByResult(_ global: Temp) -> Bool {
        guard isGlobal(global), current + 1 < ops.count else { return false }
        let op = ops[current], next = ops[current + 1]
        guard !op.opcode.properties.mayFault, !op.opcode.properties.sideEffects else { return false }
        return next.opcode == .mov && next.output == global && next.inputs.0 == op.output
    }

    /// `temp`'s new value is in `register`.
    func define(_ temp: Temp, in register: HostRegister) {
        constantOf[Int(temp.index)] = nil
        setUnstored(Int(temp.index), false)
        if let previous = registers.occupant[Int(register.rawValue)], previous != temp { registers.release(previous) }
        registers.bind(temp, to: register, clean: false)
        registers.lock(register)
    }

    /// Writes a dirty temp to its slot and frees its register.
    func spill(_ temp: Temp) {
        writeBack(temp)
        registers.release(temp)
    }

    /// Makes `temp`'s slot current (the register stays valid).
    func writeBack(_ temp: Temp) {
        guard registers.isDirty(temp), let register = registers.register(of: temp) else { return }
        assembler.store(type(of: temp).operandSize, slot(temp), register)
        registers.inMemory[Int(temp.index)] = true
    }

    /// Whether `temp`'s value is still needed after the current op.
    func isLiveAfterCurrent(_ temp: Temp) -> Bool {
        !analysis.dies(temp, at: current)
    }

    /// Stores every dirty global whose field overlaps [offset, offset + bytes),
    /// or every dirty global when `offset` is nil.
    func writeBackGlobals(overlapping range: Range<Int>? = nil) {
        for register in RegisterFile.allocatable {
            guard let temp = registers.occupant[Int(register.rawValue)], isGlobal(temp), overlaps(temp, range) else { continue }
            writeBack(temp)
        }
        storeConstants(overlapping: range)
    }

    /// Drops the registers and constants of globals the state may have changed under them.
    func forgetGlobals(overlapping range: Range<Int>? = nil) {
        for register in RegisterFile.allocatable {
            guard let temp = registers.occupant[Int(register.rawValue)], isGlobal(temp), overlaps(temp, range) else { continue }
            precondition(!registers.isDirty(temp))
            registers.release(temp)
        }
        for index in 0..<block.globalCount where constantOf[index] != nil && overlaps(Temp(UInt16(index)), range) {
            precondition(!constantUnstored[index])
            constantOf[index] = nil
        }
    }

    func overlaps(_ temp: Temp, _ range: Range<Int>?) -> Bool {
        guard let range, case let .global(offset) = block.info(temp).kind else { return true }
        return range.overlaps(offset..<offset + type(of: temp).bits / 8)
    }

    /// Before a helper or guest-memory call: saves what the call would
    /// clobber. Values needed later, or as the call's `arguments`, go to
    /// their slots; dead ones are dropped.
    func evacuateCallerSaved(arguments: [Temp]) {
        for register in RegisterFile.allocatable where !register.isCalleeSaved {
            guard let temp = registers.occupant[Int(register.rawValue)] else { continue }
            if isLiveAfterCurrent(temp) || arguments.contains(temp) { writeBack(temp) }
            registers.release(temp)
        }
    }

    /// Empties `clobbered` (caller-saved registers an inline sequence uses):
    /// values needed later, or as its `arguments`, go to their slots.
    func evacuate(_ clobbered: [HostRegister], arguments: [Temp]) {
        for register in clobbered {
            guard let temp = registers.occupant[Int(register.rawValue)] else { continue }
            if isLiveAfterCurrent(temp) || arguments.contains(temp) { writeBack(temp) }
            registers.release(temp)
        }
    }

    /// The end of a basic block: globals and the locals other basic blocks
    /// read go to their slots, as does the pending instruction address.
    func endBasicBlock() {
        leaveGuestMXCSR()
        storePendingInstruction()
        for register in RegisterFile.allocatable {
            guard let temp = registers.occupant[Int(register.rawValue)], analysis.crossesBlocks[Int(temp.index)] else { continue }
            writeBack(temp)
        }
        storeConstants()
    }

    /// Puts `temp`'s value in `register` (an argument register), from
    /// wherever it is, at its width.
    func move(_ temp: Temp, to register: HostRegister) {
        if let source = registers.register(of: temp) {
            if source != register { assembler.mov(.qword, register, source) }
        } else {
            loadFromSlot(temp, into: register)
        }
    }
}

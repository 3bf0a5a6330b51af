/// The translator's vocabulary: appends ops to a block and hands out temps.
/// Methods that produce a value return a fresh temp; `…(into:)` forms write
/// an existing one (a global, usually).
public struct IRBuilder {
    public let block: IRBlock

    public init(_ block: IRBlock) { self.block = block }

    @inline(__always)
    private func emit(_ op: IROp) { block.ops.append(op) }

    public func newTemp(_ type: IRType? = nil) -> Temp { block.newTemp(type ?? block.wordType) }
    public func newLabel() -> Label { block.newLabel() }

    // MARK: values

    public func constant(_ value: UInt64, _ type: IRType? = nil) -> Temp {
        let type = type ?? block.wordType
        let temp = newTemp(type)
        move(into: temp, constant: value, type)
        return temp
    }

    public func move(into destination: Temp, constant value: UInt64, _ type: IRType? = nil) {
        let type = type ?? block.wordType
        emit(IROp(.movi, type, output: destination, constant: value & type.mask))
    }

    public func move(into destination: Temp, _ source: Temp, _ type: IRType? = nil) {
        let type = type ?? block.wordType
        emit(IROp(.mov, type, output: destination, inputs: (source, .none, .none, .none)))
    }

    public func copy(_ source: Temp, _ type: IRType? = nil) -> Temp {
        let type = type ?? block.wordType
        let temp = newTemp(type)
        move(into: temp, source, type)
        return temp
    }

    public func binary(_ opcode: IROpcode, into destination: Temp, _ a: Temp, _ b: Temp, _ type: IRType? = nil) {
        let type = type ?? block.wordType
        emit(IROp(opcode, type, output: destination, inputs: (a, b, .none, .none)))
    }

    public func binary(_ opcode: IROpcode, _ a: Temp, _ b: Temp, _ type: IRType? = nil) -> Temp {
        let type = type ?? block.wordType
        let temp = newTemp(type)
        binary(opcode, into: temp, a, b, type)
        return temp
    }

    /// `opcode` with a constant right-hand side.
    public func binary(_ opcode: IROpcode, _ a: Temp, constant: UInt64, _ type: IRType? = nil) -> Temp {
        let type = type ?? block.wordType
        return binary(opcode, a, self.constant(constant, type), type)
    }

    public func unary(_ opcode: IROpcode, into destination: Temp, _ a: Temp, _ type: IRType? = nil) {
        let type = type ?? block.wordType
        emit(IROp(opcode, type, output: destination, inputs: (a, .none, .none, .none)))
    }

    public func unary(_ opcode: IROpcode, _ a: Temp, _ type: IRType? = nil) -> Temp {
        let type = type ?? block.wordType
        let temp = newTemp(opcode == .extu32to64 || opcode == .exts32to64 ? .i64 : (opcode == .low64to32 || opcode == .high64to32 ? .i32 : type))
        unary(opcode, into: temp, a, type)
        return temp
    }

    public func add(_ a: Temp, _ b: Temp) -> Temp { binary(.add, a, b) }
    public func sub(_ a: Temp, _ b: Temp) -> Temp { binary(.sub, a, b) }
    public func and(_ a: Temp, _ b: Temp) -> Temp { binary(.and, a, b) }
    public func or(_ a: Temp, _ b: Temp) -> Temp { binary(.or, a, b) }
    public func xor(_ a: Temp, _ b: Temp) -> Temp { binary(.xor, a, b) }
    public func add(_ a: Temp, _ value: UInt64) -> Temp { binary(.add, a, constant: value) }
    public func and(_ a: Temp, _ value: UInt64) -> Temp { binary(.and, a, constant: value) }
    public func shr(_ a: Temp, _ count: UInt64) -> Temp { binary(.shr, a, constant: count) }
    public func shl(_ a: Temp, _ count: UInt64) -> Temp { binary(.shl, a, constant: count) }

    /// Bits [position, position+size) of `a`, zero-extended (or sign-extended).
    public func extract(_ a: Temp, position: Int, size: Int, signed: Bool = false, _ type: IRType? = nil) -> Temp {
        let type = type ?? block.wordType
        let temp = newTemp(type)
        emit(IROp(signed ? .sextract : .extract, type, output: temp, inputs: (a, .none, .none, .none),
                  aux: UInt8(position), constant: UInt64(size)))
        return temp
    }

    /// `destination` = `a` with bits [position, position+size) taken from `b`.
    public func deposit(into destination: Temp, _ a: Temp, _ b: Temp, position: Int, size: Int, _ type: IRType? = nil) {
        let type = type ?? block.wordType
        emit(IROp(.deposit, type, output: destination, inputs: (a, b, .none, .none),
                  aux: UInt8(position), constant: UInt64(size)))
    }

    public func setcond(_ condition: Condition, _ a: Temp, _ b: Temp, _ type: IRType? = nil) -> Temp {
        let type = type ?? block.wordType
        let temp = newTemp(.i32)
        emit(IROp(.setcond, type, output: temp, inputs: (a, b, .none, .none), aux: condition.rawValue))
        return temp
    }

    public func movcond(_ condition: Condition, _ a: Temp, _ b: Temp, then: Temp, else otherwise: Temp,
                        _ type: IRType? = nil) -> Temp {
                            let type = type ?? block.wordType
        let temp = newTemp(type)
        emit(IROp(.movcond, type, output: temp, inputs: (a, b, then, otherwise), aux: condition.rawValue))
        return temp
    }

    // MARK: state and memory

    public func loadState(offset: Int, _ access: MemoryAccess, _ type: IRType? = nil) -> Temp {
        let type = type ?? block.wordType
        let temp = newTemp(type)
        emit(IROp(.loadState, type, output: temp, aux: access.rawValue, constant: UInt64(offset)))
        return temp
    }

    public func storeState(_ value: Temp, offset: Int, _ access: MemoryAccess, _ type: IRType? = nil) {
        let type = type ?? block.wordType
        emit(IROp(.storeState, type, inputs: (value, .none, .none, .none), aux: access.rawValue, constant: UInt64(offset)))
    }

    /// A guest load through MMU index `mmu`, of a linear address.
    public func loadGuest(_ address: Temp, _ access: MemoryAccess, mmu: Int, _ type: IRType? = nil) -> Temp {
        let type = type ?? block.wordType
        let temp = newTemp(type)
        emit(IROp(.loadGuest, type, output: temp, inputs: (address, .none, .none, .none),
                  aux: access.rawValue, constant: UInt64(mmu)))
        return temp
    }

    public func storeGuest(_ address: Temp, _ value: Temp, _ access: MemoryAccess, mmu: Int, _ type: IRType? = nil) {
        let type = type ?? block.wordType
        emit(IROp(.storeGuest, type, inputs: (address, value, .none, .none), aux: access.rawValue, constant: UInt64(mmu)))
    }

    /// Calls helper `index` with up to three arguments; returns its result temp.
    @discardableResult
    public func call(_ index: UInt32, _ arguments: [Temp] = [], result: IRType? = nil) -> Temp {
        precondition(arguments.count <= 3, "helpers take at most three arguments")
        let output = result.map { newTemp($0) } ?? .none
        var op = IROp(.call, result ?? .i64, output: output, aux: block.helpers[UInt64(index)].flags.rawValue,
                      constant: UInt64(index))
        for (position, argument) in arguments.enumerated() { op.setInput(position, argument) }
        emit(op)
        return output
    }

    // MARK: control flow

    public func setLabel(_ label: Label) { emit(IROp(.label, constant: UInt64(label.id))) }
    public func branch(to label: Label) { emit(IROp(.br, constant: UInt64(label.id))) }

    public func branch(if condition: Condition, _ a: Temp, _ b: Temp, to label: Label, _ type: IRType? = nil) {
        let type = type ?? block.wordType
        emit(IROp(.brcond, type, inputs: (a, b, .none, .none), aux: condition.rawValue, constant: UInt64(label.id)))
    }

    public func instructionStart(_ address: UInt64) { emit(IROp(.insnStart, constant: address)) }

    /// Runs `build`, then moves the ops it emitted to the front of the block.
    /// They must use no temp an earlier op defines.
    public func prepend(_ build: () -> Void) {
        let start = block.ops.count
        build()
        let added = block.ops[start...]
        block.ops.insert(contentsOf: added, at: 0)
        block.ops.removeLast(added.count)
    }

    public func exitBlock(_ code: UInt64) { emit(IROp(.exitBlock, constant: code)) }
    public func gotoBlock(slot: Int) { emit(IROp(.gotoBlock, constant: UInt64(slot))) }
    public func hostX87(_ instruction: HostX87Instruction) { emit(IROp(.hostX87, constant: instruction.rawValue)) }
    public func hostSIMD(_ instruction: HostSIMDInstruction) { emit(IROp(.hostSIMD, constant: instruction.rawValue)) }
}

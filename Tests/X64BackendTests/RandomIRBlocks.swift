import IR

/// SplitMix64: seedable, so a failing block can be replayed from its seed.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Values at the edges of widths, shift counts and signs.
let edgeValues: [UInt64] = [0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000,
                            0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, 0x8000_0000_0000_0000,
                            0x7FFF_FFFF_FFFF_FFFF, ~0, 0xFFFF_FFFF_FFFF_FFFE]

/// Random well-formed blocks for the backend: every op kind, both widths,
/// state fields aliasing globals, guest accesses (some faulting), helper
/// calls, forward branches, counted loops, and bursts of live values that
/// outnumber the host registers. Locals are written before they are read
/// on every path; every path ends in an exit.
struct RandomIRBlocks {
    var rng: SplitMix64
    let guest: TestGuest
    let block: IRBlock
    let builder: IRBuilder
    private var defined: [Temp] = []
    private var pending: [Temp] = []
    private var depth = 0

    init(seed: UInt64, guest: TestGuest) {
        rng = SplitMix64(state: seed)
        self.guest = guest
        (block, builder) = guest.newBlock()
    }

    mutating func generate() -> IRBlock {
        builder.instructionStart(0x1000)
        body(length: 8 + rng.below(40))
        finish()
        return block
    }

    private mutating func finish() {
        if rng.chance(50) { builder.exitBlock(UInt64(rng.below(4)) | (rng.chance(10) ? 0xFFFF_0000 : 0)) }
        else { builder.gotoBlock(slot: rng.below(2)) }
    }

    private mutating func body(length: Int) {
        for _ in 0..<length {
            if depth < 3, rng.chance(12) { control() } else { statement() }
        }
    }

    private mutating func randomType() -> IRType { rng.chance(70) ? .i32 : .i64 }

    private mutating func constantValue(_ type: IRType) -> UInt64 {
        (rng.chance(70) ? rng.pick(edgeValues) : rng.next()) & type.mask
    }

    private mutating func operand(_ type: IRType) -> Temp {
        let locals = defined.filter { block.info($0).type == type }
        switch rng.below(10) {
        case 0..<3: return rng.pick(type == .i32 ? guest.globals32 : guest.globals64)
        case 3..<8 where !locals.isEmpty: return rng.pick(locals)
        default:
            let temp = builder.constant(constantValue(type), type)
            defined.append(temp)
            return temp
        }
    }

    private mutating func destination(_ type: IRType) -> Temp {
        let locals = defined.filter { block.info($0).type == type }
        switch rng.below(10) {
        case 0..<5:
            let temp = builder.newTemp(type)
            pending.append(temp)
            return temp
        case 5..<7 where !locals.isEmpty: return rng.pick(locals)
        default: return rng.pick(type == .i32 ? guest.globals32 : guest.globals64)
        }
    }

    private func emit(_ op: IROp) { block.ops.append(op) }

    private static let binaryOps: [IROpcode] = [.add, .sub, .mul, .and, .or, .xor, .shl, .shr, .sar, .rotl, .rotr]
    private static let unaryOps: [IROpcode] = [.neg, .not, .ext8s, .ext8u, .ext16s, .ext16u, .mov]

    private mutating func statement() {
        defer { defined += pending; pending = [] }
        let type = randomType()
        switch rng.below(24) {
        case 0..<6:
            let a = operand(type)
            let b = rng.chance(10) ? a : operand(type)
            builder.binary(rng.pick(Self.binaryOps), into: rng.chance(10) ? a : destination(type), a, b, type)
        case 6:
            var opcodes = Self.unaryOps
            if type == .i64 { opcodes += [.ext32s, .ext32u] }
            let a = operand(type)
            builder.unary(rng.pick(opcodes), into: rng.chance(15) ? a : destination(type), a, type)
        case 7:
            switch rng.below(4) {
            case 0: emit(IROp(.extu32to64, .i64, output: destination(.i64), inputs: (operand(.i32), .none, .none, .none)))
            case 1: emit(IROp(.exts32to64, .i64, output: destination(.i64), inputs: (operand(.i32), .none, .none, .none)))
            case 2: emit(IROp(.low64to32, .i32, output: destination(.i32), inputs: (operand(.i64), .none, .none, .none)))
            default: emit(IROp(.high64to32, .i32, output: destination(.i32), inputs: (operand(.i64), .none, .none, .none)))
            }
        case 8:
            let (position, size) = bitField(type)
            builder.deposit(into: destination(type), operand(type), operand(type), position: position, size: size, type)
        case 9:
            let (position, size) = bitField(type)
            emit(IROp(rng.chance(50) ? .extract : .sextract, type, output: destination(type),
                      inputs: (operand(type), .none, .none, .none), aux: UInt8(position), constant: UInt64(size)))
        case 10:
            let a = operand(type), b = rng.chance(20) ? a : operand(type)
            emit(IROp(.setcond, type, output: destination(rng.chance(70) ? .i32 : .i64), inputs: (a, b, .none, .none),
                      aux: rng.pick(Condition.allCases).rawValue))
        case 11:
            let a = operand(type), b = rng.chance(20) ? a : operand(type)
            let c = operand(type), d = rng.chance(20) ? c : operand(type)
            emit(IROp(.movcond, type, output: destination(type), inputs: (a, b, c, d),
                      aux: rng.pick(Condition.allCases).rawValue))
        case 12:
            builder.move(into: destination(type), constant: constantValue(type), type)
        case 13:
            let (offset, access) = stateField(type)
            emit(IROp(.loadState, type, output: destination(type), aux: access.rawValue, constant: UInt64(offset)))
        case 14:
            let (offset, access) = stateField(type)
            builder.storeState(operand(type), offset: offset, access, type)
        case 15, 16:
            emit(IROp(.loadGuest, type, output: destination(type), inputs: (address(), .none, .none, .none),
                      aux: memoryAccess(type).rawValue, constant: UInt64(rng.below(2))))
        case 17:
            builder.storeGuest(address(), operand(type), memoryAccess(type), mmu: rng.below(2), type)
        case 18, 19:
            let helper = UInt32(rng.below(guest.helpers.helpers.count))
            // Absent arguments are unspecified (the interpreter passes whatever
            // is at state offset 0): give each helper at least what it reads.
            let arity = helper == guest.helperPure ? 3 : 1
            let arguments = (0..<(arity + rng.below(4 - arity))).map { _ in operand(randomType()) }
            var op = IROp(.call, type, aux: guest.helpers[UInt64(helper)].flags.rawValue, constant: UInt64(helper))
            for (position, argument) in arguments.enumerated() { op.setInput(position, argument) }
            if rng.chance(70) { op.output = destination(type) }
            emit(op)
        case 20:
            builder.instructionStart(0x1000 + UInt64(rng.below(64)) | (rng.chance(10) ? 0xFFFF_FFFF_0000_0000 : 0))
        case 21:
            pressure(type)
        default:
            builder.move(into: destination(type), operand(type), type)
        }
    }

    /// More live values than host registers: all defined, then summed.
    private mutating func pressure(_ type: IRType) {
        let values = (0..<(14 + rng.below(8))).map { _ -> Temp in
            let temp = builder.newTemp(type)
            builder.binary(.xor, into: temp, operand(type), operand(type), type)
            return temp
        }
        var sum = values[0]
        for value in values.dropFirst() { sum = builder.binary(rng.pick([.add, .xor, .sub]), sum, value, type) }
        builder.move(into: rng.pick(type == .i32 ? guest.globals32 : guest.globals64), sum, type)
    }

    /// Guest addresses: mostly in the test memory, some faulting.
    private mutating func address() -> Temp {
        if rng.chance(50) { return operand(randomType()) }
        let type = randomType()
        let value = UInt64(rng.below(4096)) & ~0x3F | UInt64(rng.chance(15) ? 3 : rng.below(64))
        let temp = builder.constant(value & type.mask, type)
        defined.append(temp)
        return temp
    }

    private mutating func bitField(_ type: IRType) -> (Int, Int) {
        if rng.chance(10) { return (0, type.bits) }
        let size = 1 + rng.below(type.bits)
        return (rng.below(type.bits - size + 1), size)
    }

    private mutating func memoryAccess(_ type: IRType) -> MemoryAccess {
        let bytes = rng.pick(type == .i32 ? [1, 2, 4] : [1, 2, 4, 8])
        return MemoryAccess(rawValue: UInt8(bytes.trailingZeroBitCount) | (bytes < 8 && rng.chance(40) ? 4 : 0))
    }

    /// A global's field (whole or part, so state ops alias globals), or other state.
    private mutating func stateField(_ type: IRType) -> (Int, MemoryAccess) {
        let access = memoryAccess(type)
        if rng.chance(60) {
            let global = rng.pick(guest.globals32 + guest.globals64)
            if case .global(let offset) = block.info(global).kind {
                let width = block.info(global).type.bits / 8
                let inside = width > access.bytes ? rng.below(width - access.bytes + 1) : 0
                return (offset + inside, access)
            }
        }
        return (rng.pick(TestMachine.otherState) + rng.below(2) * 4, access.bytes == 8 ? .u32 : access)
    }

    private mutating func control() {
        depth += 1
        defer { depth -= 1 }
        let type = randomType()
        let scope = defined.count
        switch rng.below(5) {
        case 0, 1:
            let skip = builder.newLabel()
            builder.branch(if: rng.pick(Condition.allCases), operand(type), operand(type), to: skip, type)
            let inner = defined.count
            body(length: 1 + rng.below(6))
            if rng.chance(20) { finish() }
            defined.removeSubrange(inner...)
            builder.setLabel(skip)
        case 2:
            let otherwise = builder.newLabel(), end = builder.newLabel()
            builder.branch(if: rng.pick(Condition.allCases), operand(type), operand(type), to: otherwise, type)
            let inner = defined.count
            body(length: 1 + rng.below(5))
            defined.removeSubrange(inner...)
            if rng.chance(20) { finish() } else { builder.branch(to: end) }
            builder.setLabel(otherwise)
            body(length: 1 + rng.below(5))
            defined.removeSubrange(inner...)
            builder.setLabel(end)
        case 3:
            let counter = builder.constant(UInt64(1 + rng.below(4)))
            let top = builder.newLabel()
            builder.setLabel(top)
            body(length: 1 + rng.below(5))
            defined.removeSubrange(scope...)
            builder.binary(.sub, into: counter, counter, builder.constant(1))
            builder.branch(if: .ne, counter, builder.constant(0), to: top)
        default:
            let label = builder.newLabel()
            if rng.chance(50) { builder.branch(if: rng.pick(Condition.allCases), operand(type), operand(type), to: label, type) }
            builder.setLabel(label)
        }
        if defined.count > scope { defined.removeSubrange(scope...) }
    }
}

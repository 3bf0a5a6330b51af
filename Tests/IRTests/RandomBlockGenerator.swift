@testable import IR

/// A small, seedable generator (SplitMix64), so a failing case can be replayed.
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

/// Values that make folding rules and corner cases fire.
let interestingValues: [UInt64] = [0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 0x7F, 0x80, 0xFF, 0xFFFF, 0x8000_0000,
                                   0xFFFF_FFFF, 0x1_0000_0000, 0x8000_0000_0000_0000, ~0]

/// Random well-formed blocks over the fixture's globals: every local is
/// written before it is read on every path, branches go forward except
/// for counted loops, and every path ends in an exit.
struct RandomBlockGenerator {
    var rng: SplitMix64
    let fixture: Fixture
    let block: IRBlock
    let builder: IRBuilder
    let branchy: Bool
    /// Locals written on every path to the current point.
    private var defined: [Temp] = []
    private var depth = 0
    /// New locals the current statement writes: defined only once it is emitted.
    private var pending: [Temp] = []

    init(seed: UInt64, fixture: Fixture, branchy: Bool) {
        rng = SplitMix64(state: seed)
        self.fixture = fixture
        (block, builder) = fixture.newBlock()
        self.branchy = branchy
    }

    mutating func generate() -> IRBlock {
        builder.instructionStart(0x1000)
        body(length: 6 + rng.below(30))
        finish()
        return block
    }

    private mutating func finish() {
        if rng.chance(50) { builder.exitBlock(UInt64(rng.below(4))) } else { builder.gotoBlock(slot: rng.below(2)) }
    }

    private mutating func body(length: Int) {
        for _ in 0..<length {
            if branchy, depth < 3, rng.chance(15) { control() } else { statement() }
        }
    }

    // MARK: operands

    private mutating func randomType() -> IRType { rng.chance(80) ? .i32 : .i64 }

    private mutating func constantValue(_ type: IRType) -> UInt64 {
        (rng.chance(80) ? rng.pick(interestingValues) : rng.next()) & type.mask
    }

    /// A temp of `type` to read: a global, a defined local, or a new constant.
    private mutating func operand(_ type: IRType) -> Temp {
        let locals = defined.filter { block.info($0).type == type }
        switch rng.below(10) {
        case 0..<3: return rng.pick(type == .i32 ? fixture.globals32 : fixture.globals64)
        case 3..<7 where !locals.isEmpty: return rng.pick(locals)
        default:
            let temp = builder.constant(constantValue(type), type)
            defined.append(temp)
            return temp
        }
    }

    /// A temp of `type` to write: a new local, a defined one, or a global
    /// (often a flags global, so that dead flag stores appear).
    private mutating func destination(_ type: IRType) -> Temp {
        let locals = defined.filter { block.info($0).type == type }
        switch rng.below(10) {
        case 0..<4:
            let temp = builder.newTemp(type)
            pending.append(temp)
            return temp
        case 4..<6 where !locals.isEmpty: return rng.pick(locals)
        default:
            if type == .i64 { return fixture.rsi }
            return rng.chance(60) ? rng.pick([fixture.ccSrc, fixture.ccDst, fixture.ccOp]) : rng.pick(fixture.globals32)
        }
    }

    private func emit(_ op: IROp) { block.ops.append(op) }

    // MARK: straight-line code

    private static let binaryOps: [IROpcode] = [.add, .sub, .mul, .and, .or, .xor, .shl, .shr, .sar, .rotl, .rotr]
    private static let unaryOps: [IROpcode] = [.neg, .not, .ext8s, .ext8u, .ext16s, .ext16u]

    private mutating func statement() {
        defer { defined += pending; pending = [] }
        let type = randomType()
        switch rng.below(22) {
        case 0..<6:
            let a = operand(type)
            let b = rng.chance(15) ? a : operand(type)
            builder.binary(rng.pick(Self.binaryOps), into: destination(type), a, b, type)
        case 6:
            var opcodes = Self.unaryOps
            if type == .i64 { opcodes += [.ext32s, .ext32u] }
            builder.unary(rng.pick(opcodes), into: destination(type), operand(type), type)
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
            builder.move(into: destination(type), operand(type), type)
        case 13:
            builder.move(into: destination(type), constant: constantValue(type), type)
        case 14:
            // A typical lazy-flags update.
            builder.move(into: fixture.ccDst, operand(.i32))
            builder.move(into: fixture.ccSrc, operand(.i32))
            builder.move(into: fixture.ccOp, constant: UInt64(rng.below(8)))
        case 15:
            let (offset, access) = stateSlot(type)
            emit(IROp(.loadState, type, output: destination(type), aux: access.rawValue, constant: UInt64(offset)))
        case 16:
            let (offset, access) = stateSlot(type)
            builder.storeState(operand(type), offset: offset, access, type)
        case 17:
            let address = operand(randomType())
            emit(IROp(.loadGuest, type, output: destination(type), inputs: (address, .none, .none, .none),
                      aux: memoryAccess(type).rawValue, constant: 0))
        case 18:
            let address = operand(randomType())
            builder.storeGuest(address, operand(type), memoryAccess(type), mmu: 0, type)
        case 19:
            let helper = UInt32(rng.below(fixture.helpers.helpers.count))
            let arguments = (0..<rng.below(3)).map { _ in operand(randomType()) }
            var op = IROp(.call, type, aux: fixture.helpers[UInt64(helper)].flags.rawValue, constant: UInt64(helper))
            for (position, argument) in arguments.enumerated() { op.setInput(position, argument) }
            if rng.chance(70) { op.output = destination(type) }
            emit(op)
        case 20:
            builder.instructionStart(0x1000 + UInt64(rng.below(64)))
        default:
            // Same computation twice, to feed copy propagation and x^x-style rules.
            let a = operand(type)
            let copy = builder.copy(a, type)
            defined.append(copy)
            builder.binary(rng.pick([.xor, .sub, .and, .or]), into: destination(type), a, copy, type)
        }
    }

    private mutating func bitField(_ type: IRType) -> (Int, Int) {
        if rng.chance(15) { return (0, type.bits) }
        let size = 1 + rng.below(type.bits)
        return (rng.below(type.bits - size + 1), size)
    }

    private mutating func memoryAccess(_ type: IRType) -> MemoryAccess {
        let bytes = rng.pick(type == .i32 ? [1, 2, 4] : [1, 2, 4, 8])
        return MemoryAccess(rawValue: UInt8(bytes.trailingZeroBitCount) | (bytes < 8 && rng.chance(30) ? 4 : 0))
    }

    /// A state offset: a global's (so state ops alias globals) or scratch.
    private mutating func stateSlot(_ type: IRType) -> (Int, MemoryAccess) {
        let access = memoryAccess(type)
        if rng.chance(70) {
            let global = rng.pick(fixture.globals32 + fixture.globals64)
            if case .global(let offset) = block.info(global).kind {
                return (offset, access.bytes * 8 > block.info(global).type.bits ? .u32 : access)
            }
        }
        return (rng.pick(fixture.scratchOffsets), access)
    }

    // MARK: control flow

    private mutating func control() {
        depth += 1
        defer { depth -= 1 }
        let type = randomType()
        let scope = defined.count
        switch rng.below(5) {
        case 0, 1:  // if: skip a body
            let skip = builder.newLabel()
            builder.branch(if: rng.pick(Condition.allCases), operand(type), operand(type), to: skip, type)
            let inner = defined.count
            body(length: 1 + rng.below(5))
            if rng.chance(20) { finish() }
            defined.removeSubrange(inner...)
            builder.setLabel(skip)
        case 2:  // if-else
            let otherwise = builder.newLabel(), end = builder.newLabel()
            builder.branch(if: rng.pick(Condition.allCases), operand(type), operand(type), to: otherwise, type)
            let inner = defined.count
            body(length: 1 + rng.below(4))
            defined.removeSubrange(inner...)
            if rng.chance(20) { finish() } else { builder.branch(to: end) }
            if rng.chance(30) { statement(); defined.removeSubrange(inner...) }  // unreachable
            builder.setLabel(otherwise)
            body(length: 1 + rng.below(4))
            defined.removeSubrange(inner...)
            builder.setLabel(end)
        case 3:  // a counted loop, run 1 to 3 times
            let counter = builder.constant(UInt64(1 + rng.below(3)))
            let top = builder.newLabel()
            builder.setLabel(top)
            body(length: 1 + rng.below(4))
            defined.removeSubrange(scope...)
            builder.binary(.sub, into: counter, counter, builder.constant(1))
            builder.branch(if: .ne, counter, builder.constant(0), to: top)
        default:  // a label nothing branches to, or a branch to the next op
            let label = builder.newLabel()
            if rng.chance(50) { builder.branch(if: rng.pick(Condition.allCases), operand(type), operand(type), to: label, type) }
            builder.setLabel(label)
        }
        if defined.count > scope { defined.removeSubrange(scope...) }
    }
}

/// The rewrites constant folding may make of one op, given what is known
/// about its inputs just before it runs.
enum Rewrite {
    case unchanged
    case replaced(IROp)
    /// The op has no effect here (a move of a value already in place, a
    /// branch never taken).
    case removed
}

/// The rules read the facts in place (an extension rather than a wrapper
/// holding a copy, which would make every later fact update copy the arrays).
extension TempFacts {
    func rewrite(_ op: IROp, in block: IRBlock) -> Rewrite {
        switch op.opcode {
        case .movi:
            return constant(op.output) == op.constant ? .removed : .unchanged
        case .brcond:
            guard let taken = decide(op.condition, op.input(0), op.input(1), op.type) else { return .unchanged }
            return taken ? .replaced(IROp(.br, constant: op.constant)) : .removed
        default:
            guard op.opcode.isPureValue else { return .unchanged }
            if let value = evaluateIfConstant(op) { return becomeConstant(op, block, value) }
            return simplify(op, block)
        }
    }

    /// The op's value when all its inputs are known constants.
    private func evaluateIfConstant(_ op: IROp) -> UInt64? {
        var values: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for index in 0..<op.opcode.properties.inputs {
            guard let value = constant(op.input(index)) else { return nil }
            switch index {
            case 0: values.0 = value
            case 1: values.1 = value
            case 2: values.2 = value
            default: values.3 = value
            }
        }
        return evaluate(op.opcode, type: op.type, aux: op.aux, constant: op.constant,
                        values.0, values.1, values.2, values.3)
    }

    /// Algebraic identities that hold with some inputs unknown.
    private func simplify(_ op: IROp, _ block: IRBlock) -> Rewrite {
        let a = op.input(0), b = op.input(1)
        let ca = constant(a), cb = constant(b)
        let ones = op.type.mask, bits = UInt64(op.type.bits)
        switch op.opcode {
        case .mov:
            return same(op.output, a) ? .removed : .unchanged
        case .add:
            if cb == 0 { return becomeCopy(op, block, a) }
            if ca == 0 { return becomeCopy(op, block, b) }
        case .sub:
            if cb == 0 { return becomeCopy(op, block, a) }
            if same(a, b) { return becomeConstant(op, block, 0) }
        case .mul:
            if ca == 0 || cb == 0 { return becomeConstant(op, block, 0) }
            if cb == 1 { return becomeCopy(op, block, a) }
            if ca == 1 { return becomeCopy(op, block, b) }
        case .and:
            if ca == 0 || cb == 0 { return becomeConstant(op, block, 0) }
            if cb == ones || same(a, b) { return becomeCopy(op, block, a) }
            if ca == ones { return becomeCopy(op, block, b) }
        case .or:
            if ca == ones || cb == ones { return becomeConstant(op, block, ones) }
            if cb == 0 || same(a, b) { return becomeCopy(op, block, a) }
            if ca == 0 { return becomeCopy(op, block, b) }
        case .xor:
            if same(a, b) { return becomeConstant(op, block, 0) }
            if cb == 0 { return becomeCopy(op, block, a) }
            if ca == 0 { return becomeCopy(op, block, b) }
        case .shl, .shr, .sar, .rotl, .rotr:
            if let count = cb, count % bits == 0 { return becomeCopy(op, block, a) }
            if ca == 0 { return becomeConstant(op, block, 0) }
            // All ones stays all ones under an arithmetic shift or a rotation.
            if ca == ones, op.opcode == .sar || op.opcode == .rotl || op.opcode == .rotr {
                return becomeConstant(op, block, ones)
            }
        case .deposit:
            if op.aux == 0, op.constant == bits { return becomeCopy(op, block, b) }
        case .extract, .sextract:
            if op.aux == 0, op.constant == bits { return becomeCopy(op, block, a) }
        case .setcond:
            if let holds = decide(op.condition, a, b, op.type) { return becomeConstant(op, block, holds ? 1 : 0) }
        case .movcond:
            if let holds = decide(op.condition, a, b, op.type) { return becomeCopy(op, block, holds ? op.input(2) : op.input(3)) }
            if same(op.input(2), op.input(3)) { return becomeCopy(op, block, op.input(2)) }
        default:
            break
        }
        return .unchanged
    }

    /// Whether `condition(a, b)` is known to hold, or nil if it depends on run-time values.
    func decide(_ condition: Condition, _ a: Temp, _ b: Temp, _ type: IRType) -> Bool? {
        switch condition {
        case .always: return true
        case .never: return false
        default: break
        }
        let ca = constant(a), cb = constant(b)
        if let x = ca, let y = cb { return condition.holds(x, y, type) }
        if same(a, b) {
            switch condition {
            case .eq, .le, .ge, .leu, .geu: return true
            case .ne, .lt, .gt, .ltu, .gtu: return false
            default: return nil
            }
        }
        // Nothing is below zero unsigned; zero is below or equal to everything.
        if cb == 0, condition == .ltu || condition == .geu { return condition == .geu }
        if ca == 0, condition == .gtu || condition == .leu { return condition == .leu }
        // A test against zero is never true.
        if ca == 0 || cb == 0, condition == .testEq || condition == .testNe { return condition == .testEq }
        return nil
    }

    private func becomeConstant(_ op: IROp, _ block: IRBlock, _ value: UInt64) -> Rewrite {
        let type = block.info(op.output).type
        let value = value & type.mask
        if constant(op.output) == value { return .removed }
        return .replaced(IROp(.movi, type, output: op.output, constant: value))
    }

    private func becomeCopy(_ op: IROp, _ block: IRBlock, _ source: Temp) -> Rewrite {
        if same(op.output, source) { return .removed }
        if let value = constant(source) { return becomeConstant(op, block, value) }
        let type = block.info(op.output).type
        return .replaced(IROp(.mov, type, output: op.output, inputs: (source, .none, .none, .none)))
    }
}

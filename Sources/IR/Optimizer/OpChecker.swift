/// The checks of one op on its own: operand presence, temp numbers, types
/// and immediate fields.
struct OpChecker {
    let block: IRBlock
    let index: Int
    var op: IROp { block.ops[index] }

    private func fail(_ message: String, _ errors: inout [IRValidationError]) {
        errors.append(IRValidationError(opIndex: index, message: "`\(printable)`: \(message)"))
    }

    /// The printer's form of the op, or a raw one when the printer would
    /// trap on it (a temp or helper that does not exist).
    private var printable: String {
        let temps = [op.output, op.inputs.0, op.inputs.1, op.inputs.2, op.inputs.3]
        let sound = temps.allSatisfy { $0.isNone || Int($0.index) < block.tempCount }
            && (op.opcode != .call || op.constant < UInt64(block.helpers.helpers.count))
        if sound { return block.describe(op) }
        return "\(op.opcode.name) out \(op.output), in " + temps.dropFirst().map(\.description).joined(separator: " ")
            + " #\(op.constant)"
    }

    func check(into errors: inout [IRValidationError]) {
        let properties = op.opcode.properties
        // Operand presence first; the other checks need valid temps.
        var sound = true
        for position in 0..<4 {
            let input = op.input(position)
            if position >= properties.inputs {
                if !input.isNone { fail("has an input \(position + 1) it does not take", &errors); sound = false }
            } else if input.isNone {
                if op.opcode != .call { fail("lacks input \(position + 1)", &errors); sound = false }
            } else if Int(input.index) >= block.tempCount {
                fail("input \(position + 1) is not a temp of this block", &errors); sound = false
            }
        }
        if properties.outputs == 0 {
            if !op.output.isNone { fail("has an output it does not produce", &errors); sound = false }
        } else if op.output.isNone {
            if op.opcode != .call { fail("lacks its output", &errors); sound = false }
        } else if Int(op.output.index) >= block.tempCount {
            fail("its output is not a temp of this block", &errors); sound = false
        }
        guard sound else { return }
        checkTypes(&errors)
        checkImmediates(&errors)
    }

    private func type(_ temp: Temp) -> IRType? { temp.isNone ? nil : block.info(temp).type }

    private func expect(_ temp: Temp, _ expected: IRType, _ what: String, _ errors: inout [IRValidationError]) {
        if let actual = type(temp), actual != expected {
            fail("\(what) is \(actual), expected \(expected)", &errors)
        }
    }

    private func checkTypes(_ errors: inout [IRValidationError]) {
        let t = op.type
        switch op.opcode {
        case .extu32to64, .exts32to64:
            expect(op.input(0), .i32, "the input", &errors)
            expect(op.output, .i64, "the output", &errors)
        case .low64to32, .high64to32:
            expect(op.input(0), .i64, "the input", &errors)
            expect(op.output, .i32, "the output", &errors)
        case .setcond, .brcond:
            // setcond's 0 or 1 may go to a temp of either type.
            expect(op.input(0), t, "input 1", &errors)
            expect(op.input(1), t, "input 2", &errors)
        case .loadGuest:
            // The address may be of either width.
            expect(op.output, t, "the output", &errors)
        case .storeGuest:
            expect(op.input(1), t, "the stored value", &errors)
        case .call:
            // Arguments are passed as 64-bit values, whatever their type.
            expect(op.output, t, "the result", &errors)
        default:
            for position in 0..<op.opcode.properties.inputs {
                expect(op.input(position), t, "input \(position + 1)", &errors)
            }
            if op.opcode.properties.outputs > 0 { expect(op.output, t, "the output", &errors) }
        }
        if op.opcode == .ext32s || op.opcode == .ext32u, t != .i64 {
            fail("32-bit extension exists only in i64", &errors)
        }
    }

    private func checkImmediates(_ errors: inout [IRValidationError]) {
        if op.opcode == .setcond || op.opcode == .movcond || op.opcode == .brcond, Condition(rawValue: op.aux) == nil {
            fail("condition \(op.aux) does not exist", &errors)
        }
        switch op.opcode {
        case .movi:
            if op.constant & ~op.type.mask != 0 { fail("constant does not fit \(op.type)", &errors) }
        case .deposit, .extract, .sextract:
            if op.constant < 1 || UInt64(op.aux) + op.constant > UInt64(op.type.bits) {
                fail("bit field \(op.aux), \(op.constant) does not fit \(op.type)", &errors)
            }
        case .loadState, .storeState, .loadGuest, .storeGuest:
            let access = op.access
            if access.rawValue > 6 { fail("memory access \(access.rawValue) does not exist", &errors) }
            else if access.bytes * 8 > op.type.bits { fail("\(access) access does not fit \(op.type)", &errors) }
        case .call:
            if op.constant >= UInt64(block.helpers.helpers.count) {
                fail("helper \(op.constant) is not registered", &errors)
            } else if block.helpers[op.constant].flags.rawValue != op.aux {
                fail("flags \(op.aux) differ from the helper's", &errors)
            }
        case .label, .br, .brcond:
            if op.constant >= UInt64(block.labelCount) { fail("label L\(op.constant) was never created", &errors) }
        case .gotoBlock:
            if op.constant > 1 { fail("chaining slot \(op.constant) does not exist", &errors) }
        default:
            break
        }
    }
}

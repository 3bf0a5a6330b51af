import IR
import X86State

/// The lazy arithmetic flags, translator side: instructions record what they
/// did in cc_op/cc_src/cc_dst, and conditions are computed from that, inline
/// when the operation is known here, through the runtime's helper otherwise.
extension TranslationContext {
    /// Records a flag-setting operation. Unneeded stores are removed by the
    /// optimizer's dead-global pass when the next instruction overwrites them.
    func setFlags(_ kind: ConditionCodeKind, bytes: Int, result: Temp, source: Temp, source2: Temp? = nil) {
        let operation = ConditionCodeOperation(kind, sizeShift: bytes.trailingZeroBitCount)
        if long64 {
            b.move(into: globals.ccDestination64, converted(result, to: .i64), .i64)
            b.move(into: globals.ccSource64, converted(source, to: .i64), .i64)
            if let source2 { b.move(into: globals.ccSource2_64, converted(source2, to: .i64), .i64) }
        } else {
            b.move(into: globals.ccDestination, result)
            b.move(into: globals.ccSource, source)
            if let source2 { b.move(into: globals.ccSource2, source2) }
        }
        b.move(into: globals.ccOp, constant: UInt64(operation.rawValue), .i32)
        knownConditionCodes = operation
    }

    /// Sets the arithmetic flags to exactly `value` (SAHF, POPF, rotates, BT...).
    func setFlags(value: Temp) {
        if long64 {
            b.move(into: globals.ccSource64, converted(value, to: .i64), .i64)
        } else {
            b.move(into: globals.ccSource, value)
        }
        b.move(into: globals.ccOp, constant: UInt64(ConditionCodeOperation.eflags.rawValue), .i32)
        knownConditionCodes = .eflags
    }

    /// cc_dst, cc_src and cc_src2 as ops of the current word type read them:
    /// in 64-bit mode the i64 globals, or their low halves for narrower operations.
    var ccDestination: Temp { ccView(globals.ccDestination, globals.ccDestination64) }
    var ccSource: Temp { ccView(globals.ccSource, globals.ccSource64) }

    private func ccView(_ narrow: Temp, _ wide: Temp) -> Temp {
        guard long64 else { return narrow }
        return b.block.wordType == .i64 ? wide : b.unary(.low64to32, wide)
    }

    /// The type the flags of `operation` are computed in: i64 for 64-bit operations.
    func flagsType(_ operation: ConditionCodeOperation?) -> IRType {
        guard let operation, operation != TranslationContext.unknownAtRunTime, operation.kind != .eflags else { return .i32 }
        return operation.sizeShift == 3 ? .i64 : .i32
    }

    /// The six arithmetic flags, in their EFLAGS positions.
    func arithmeticFlags() -> Temp {
        withWordType(.i32) {
            if knownConditionCodes == .eflags { return b.and(ccSource, UInt64(EFLAGS.arithmetic)) }
            return b.call(X86Helper.computeFlags.index, [], result: .i32)
        }
    }

    /// OF in its EFLAGS position (0 or 0x800): inline for a known add, sub
    /// or logic operation (SAHF after an FPU compare keeps it), else from all flags.
    /// OF, as a temp of the caller's word type.
    func overflowFlag() -> Temp {
        let type = b.block.wordType
        let value = withWordType(flagsType(knownConditionCodes)) { overflowFlagInType() }
        return converted(value, to: type)
    }

    private func overflowFlagInType() -> Temp {
        guard let known = knownConditionCodes, known != TranslationContext.unknownAtRunTime else {
            return b.and(arithmeticFlags(), UInt64(EFLAGS.overflow))
        }
        let bits = 8 << known.sizeShift
        let result = ccDestination, second = ccSource
        let signs: Temp
        switch known.kind {
        case .logic:
            return constant(0)
        case .eflags:
            return b.and(ccSource, UInt64(EFLAGS.overflow))
        case .add:
            // The operands agreed in sign and the sum did not.
            let first = b.sub(result, second)
            signs = b.and(b.binary(.xor, first, result), b.binary(.xor, second, result))
        case .sub:
            // The operands differed in sign and the difference took the subtrahend's.
            let first = b.add(result, second)
            signs = b.and(b.binary(.xor, first, second), b.binary(.xor, first, result))
        default:
            return b.and(arithmeticFlags(), UInt64(EFLAGS.overflow))
        }
        let bit = b.and(b.binary(.shr, signs, constant: UInt64(bits - 1)), 1)
        return b.binary(.shl, bit, constant: UInt64(EFLAGS.overflow.trailingZeroBitCount))
    }

    /// CF as 0 or 1.
    /// CF, as a temp of the caller's word type.
    func carryFlag() -> Temp {
        let type = b.block.wordType
        guard let known = knownConditionCodes else { return converted(dispatchOnConditionCodes { $0.carryFlag() }, to: type) }
        return converted(withWordType(flagsType(known)) { carryFlagInType(known) }, to: type)
    }

    /// CF as 0 or 1, an i32 (setcond's type) or a temp of the operation's type.
    private func carryFlagInType(_ known: ConditionCodeOperation) -> Temp {
        let bytes = 1 << known.sizeShift
        switch known == TranslationContext.unknownAtRunTime ? nil : known.kind {
        case .sub?:
            let first = truncate(b.add(ccDestination, ccSource), bytes: bytes)
            return b.setcond(.ltu, first, truncate(ccSource, bytes: bytes))
        case .add?:
            // The sum is below the addend exactly when it wrapped.
            return b.setcond(.ltu, truncate(ccDestination, bytes: bytes), truncate(ccSource, bytes: bytes))
        case .inc?, .dec?:
            // They keep CF, which cc_src holds.
            return converted(b.and(ccSource, 1), to: .i32)
        case .logic?:
            return b.constant(0, .i32)
        case .eflags?:
            return b.and(ccSource, UInt64(EFLAGS.carry))
        default:
            return b.call(X86Helper.computeCarry.index, [], result: .i32)
        }
    }

    /// Not an operation: inside `dispatchOnConditionCodes`, the path for
    /// whatever cc_op holds that is not dispatched (computed by the helpers).
    static let unknownAtRunTime = ConditionCodeOperation(rawValue: UInt32.max)

    /// The operations whose conditions are tested inline when a block starts
    /// without knowing cc_op (a Jcc right after another, ADC after a block
    /// boundary): 32-bit CMP/SUB, ADD and logic and byte CMP, by far the
    /// most common (counted over the benchmark guest), in that order.
    private static let dispatchedOperations: [ConditionCodeOperation] = [
        ConditionCodeOperation(.sub, sizeShift: 2), ConditionCodeOperation(.add, sizeShift: 2),
        ConditionCodeOperation(.logic, sizeShift: 2), ConditionCodeOperation(.sub, sizeShift: 0),
    ]

    /// `value` computed as if cc_op were known, for each dispatched operation
    /// cc_op may hold at run time, and through the helper otherwise.
    /// The values are 0 or 1, as i32.
    private func dispatchOnConditionCodes(_ value: (TranslationContext) -> Temp) -> Temp {
        let holds = b.newTemp(.i32)
        let done = b.newLabel()
        for operation in TranslationContext.dispatchedOperations {
            let next = b.newLabel()
            b.branch(if: .ne, globals.ccOp, b.constant(UInt64(operation.rawValue), .i32), to: next, .i32)
            knownConditionCodes = operation
            b.move(into: holds, converted(value(self), to: .i32), .i32)
            b.branch(to: done)
            b.setLabel(next)
        }
        knownConditionCodes = TranslationContext.unknownAtRunTime
        b.move(into: holds, converted(value(self), to: .i32), .i32)
        b.setLabel(done)
        knownConditionCodes = nil
        return holds
    }

    /// The value cut to `bytes` (1, 2, 4 or 8), zero-extended. Ops of i32
    /// cut at 4 bytes by themselves; in an i64 operation 4 bytes need a cut.
    func truncate(_ value: Temp, bytes: Int) -> Temp {
        switch bytes {
        case 1: return b.unary(.ext8u, value)
        case 2: return b.unary(.ext16u, value)
        case 4 where b.block.wordType == .i64: return b.unary(.ext32u, value)
        default: return value
        }
    }

    func signExtend(_ value: Temp, bytes: Int) -> Temp {
        switch bytes {
        case 1: return b.unary(.ext8s, value)
        case 2: return b.unary(.ext16s, value)
        case 4 where b.block.wordType == .i64: return b.unary(.ext32s, value)
        default: return value
        }
    }

    /// Condition code `code` (the low nibble of Jcc/SETcc/CMOVcc) as 0 or 1.
    /// As a temp of the caller's word type.
    func condition(_ code: UInt8) -> Temp {
        let type = b.block.wordType
        let test = conditionTest(code)
        if test.isValue { return converted(test.left, to: type) }
        return converted(b.setcond(test.condition, test.left, test.right, test.type), to: type)
    }

    /// Condition code `code` as a comparison of two temps, for a branch or a
    /// select to use directly: no 0-or-1 value in between when the flags'
    /// operation is known here.
    func conditionTest(_ code: UInt8) -> ConditionTest {
        let type = flagsType(knownConditionCodes)
        return withWordType(type) { conditionTestInType(code, type) }
    }

    private func conditionTestInType(_ code: UInt8, _ type: IRType) -> ConditionTest {
        let negate = code & 1 != 0
        let base = code & 0xE
        if knownConditionCodes == nil && base != 0x0 && base != 0xA {
            return .value(dispatchOnConditionCodes { $0.condition(code) })
        }
        if let inline = inlineCondition(base) {
            switch inline {
            case let .compare(condition, left, right):
                return ConditionTest(condition: negate ? condition.negated : condition, left: left, right: right, type: type)
            case let .value(holds):
                let holds = converted(holds, to: .i32)
                return .value(negate ? b.binary(.xor, holds, constant: 1, .i32) : holds)
            }
        }
        return withWordType(.i32) { conditionFromFlags(base, negate: negate) }
    }

    /// Condition `base` (negated if told) from the materialised arithmetic flags.
    private func conditionFromFlags(_ base: UInt8, negate: Bool) -> ConditionTest {
        let flags = arithmeticFlags()
        let holds: Temp
        switch base {
        case 0x0: holds = bit(flags, EFLAGS.overflow)
        case 0x2: holds = bit(flags, EFLAGS.carry)
        case 0x4: holds = bit(flags, EFLAGS.zero)
        case 0x6: holds = b.setcond(.ne, b.and(flags, UInt64(EFLAGS.carry | EFLAGS.zero)), constant(0))
        case 0x8: holds = bit(flags, EFLAGS.sign)
        case 0xA: holds = bit(flags, EFLAGS.parity)
        case 0xC: holds = b.binary(.xor, bit(flags, EFLAGS.sign), bit(flags, EFLAGS.overflow))
        default:
            let lessThan = b.binary(.xor, bit(flags, EFLAGS.sign), bit(flags, EFLAGS.overflow))
            holds = b.or(lessThan, bit(flags, EFLAGS.zero))
        }
        return .value(negate ? b.binary(.xor, holds, constant: 1) : holds)
    }

    private func bit(_ flags: Temp, _ mask: UInt32) -> Temp {
        b.setcond(.ne, b.and(flags, UInt64(mask)), constant(0))
    }

    /// A condition computed inline: a comparison, or a 0-or-1 value.
    private enum InlineCondition {
        case compare(Condition, Temp, Temp)
        case value(Temp)
    }

    /// Conditions computed straight from the operands of a known CMP/SUB or
    /// logic operation, without materialising EFLAGS.
    private func inlineCondition(_ base: UInt8) -> InlineCondition? {
        guard let known = knownConditionCodes, known.kind != .eflags, known != TranslationContext.unknownAtRunTime else { return nil }
        let bytes = 1 << known.sizeShift
        let result = truncate(ccDestination, bytes: bytes)
        switch (known.kind, base) {
        case (_, 0x4) where known.kind != .eflags:
            return .compare(.eq, result, constant(0))
        case (_, 0x8) where known.kind != .eflags:
            return .compare(.lt, signExtend(ccDestination, bytes: bytes), constant(0))
        case (.sub, 0x2), (.sub, 0x6), (.sub, 0xC), (.sub, 0xE):
            let second = truncate(ccSource, bytes: bytes)
            let first = truncate(b.add(ccDestination, ccSource), bytes: bytes)
            switch base {
            case 0x2: return .compare(.ltu, first, second)
            case 0x6: return .compare(.leu, first, second)
            case 0xC: return .compare(.lt, signExtend(first, bytes: bytes), signExtend(second, bytes: bytes))
            default: return .compare(.le, signExtend(first, bytes: bytes), signExtend(second, bytes: bytes))
            }
        case (.logic, 0x0), (.logic, 0x2):
            return .value(b.constant(0, .i32))
        case (.logic, 0x6):
            return .compare(.eq, result, constant(0))
        case (.logic, 0xC):
            return .compare(.lt, signExtend(ccDestination, bytes: bytes), constant(0))
        case (.logic, 0xE):
            return .compare(.le, signExtend(ccDestination, bytes: bytes), constant(0))
        case (.add, 0x2):
            return .compare(.ltu, result, truncate(ccSource, bytes: bytes))
        case (.add, 0x6):
            let carry = b.setcond(.ltu, result, truncate(ccSource, bytes: bytes))
            return .value(b.binary(.or, carry, b.setcond(.eq, result, constant(0)), .i32))
        default:
            return nil
        }
    }
}

/// A guest condition as the IR compares it: `condition` holds of `left`
/// and `right`. A condition only known as a 0-or-1 value is that value `ne` 0.
struct ConditionTest {
    var condition: Condition
    var left: Temp
    /// `.none` for a constant 0 (made only where a branch or select needs it).
    var right: Temp
    /// The type `left` and `right` are compared in.
    var type: IRType = .i32
    /// `left` is the condition's 0-or-1 value, an i32 (and the test is `ne` 0).
    var isValue = false

    static func value(_ holds: Temp) -> ConditionTest {
        ConditionTest(condition: .ne, left: holds, right: .none, type: .i32, isValue: true)
    }
}

extension TranslationContext {
    /// The right-hand operand of `test`, a constant 0 made here if needed.
    func rightOperand(_ test: ConditionTest) -> Temp { test.right.isNone ? b.constant(0, test.type) : test.right }
}

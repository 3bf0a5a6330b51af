/// One IR op resolved for the interpreter: operands as byte offsets from the
/// state pointer (globals at their fields, locals in the scratch slots),
/// labels as op indices, helpers as function pointers.
struct InterpretedOp {
    var opcode: IROpcode
    var is64: Bool
    var aux: UInt8
    var hasOutput: Bool
    /// For calls: bit i set when argument i is an i64 temp (i32 arguments are zero-extended).
    /// Bit 3: the output is an i64 temp (setcond writes either type).
    var wideInputs: UInt8
    var output: UInt32
    var a: UInt32
    var b: UInt32
    var c: UInt32
    var d: UInt32
    var constant: UInt64
    var helper: HelperFunction?
}

/// A block compiled for the interpreter: pinned op storage, no ARC per op.
public final class InterpretedBlock {
    let ops: UnsafeMutablePointer<InterpretedOp>
    public let count: Int

    /// Resolves `block` for running with `configuration`; throws if its temps do not fit.
    public init(_ block: IRBlock, configuration: InterpreterConfiguration) throws {
        let locals = block.tempCount - block.globalCount
        guard locals <= configuration.scratchSlots else {
            throw InterpreterError.tooManyTemps(locals, configuration.scratchSlots)
        }
        var labelTargets = [Int](repeating: -1, count: Int(block.labelCount))
        for (index, op) in block.ops.enumerated() where op.opcode == .label {
            labelTargets[Int(op.constant)] = index
        }
        func offset(_ temp: Temp) -> UInt32 {
            if temp.isNone { return 0 }
            switch block.info(temp).kind {
            case let .global(offset): return UInt32(offset)
            case .local: return UInt32(configuration.scratchOffset + 8 * (Int(temp.index) - block.globalCount))
            }
        }
        count = block.ops.count
        ops = .allocate(capacity: max(count, 1))
        for (index, op) in block.ops.enumerated() {
            var constant = op.constant
            var helper = op.opcode == .call ? block.helpers[op.constant].function : nil
            if op.opcode == .hostSIMD {
                guard let resolve = configuration.hostSIMD else { throw InterpreterError.noHostSIMD }
                helper = resolve(op.constant)
            }
            if op.opcode.properties.usesLabel {
                let target = labelTargets[Int(op.constant)]
                guard target >= 0 else { throw InterpreterError.missingLabel(op.constant) }
                constant = UInt64(target)
            }
            (ops + index).initialize(to: InterpretedOp(
                opcode: op.opcode, is64: op.type == .i64, aux: op.aux, hasOutput: !op.output.isNone,
                wideInputs: (0..<3).reduce(UInt8(0)) { mask, position in
                    let input = op.input(position)
                    return input.isNone || block.info(input).type == .i32 ? mask : mask | 1 << position
                } | (!op.output.isNone && block.info(op.output).type == .i64 ? 8 : 0),
                output: offset(op.output), a: offset(op.inputs.0), b: offset(op.inputs.1),
                c: offset(op.inputs.2), d: offset(op.inputs.3), constant: constant,
                helper: helper))
        }
    }

    deinit {
        ops.deinitialize(count: count)
        ops.deallocate()
    }
}

public enum InterpreterError: Error, CustomStringConvertible {
    case tooManyTemps(Int, Int)
    case missingLabel(UInt64)
    case noHostSIMD

    public var description: String {
        switch self {
        case let .tooManyTemps(used, limit): return "block uses \(used) temps, more than the \(limit) scratch slots"
        case let .missingLabel(label): return "branch to label L\(label), which is never set"
        case .noHostSIMD: return "host_simd op without a host SIMD runner"
        }
    }
}

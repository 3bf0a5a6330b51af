@testable import IR

/// The observable state of the fixture's guest: globals, the rest of the CPU
/// state, guest memory.
struct MachineState: Equatable {
    var globals: [UInt64]
    var scratch: [Int: UInt64] = [:]
    var memory: [UInt64: UInt64] = [:]
}

enum BlockOutcome: Equatable {
    case exit(UInt64)
    case goto(UInt64)
    /// A guest exception at the instruction last started.
    case fault(UInt64)
    case fellOffEnd
    case tooLong
}

/// A deliberately separate, naive IR interpreter: its arithmetic is written
/// out again here rather than calling `evaluate`, so a wrong rule in the
/// shared evaluator still shows up as a difference.
struct ReferenceEvaluator {
    let block: IRBlock
    let fixture: Fixture

    func run(_ ops: [IROp], _ state: inout MachineState) -> BlockOutcome {
        var values = Array(repeating: UInt64(0xBAD0_BAD0_BAD0_BAD0), count: block.tempCount)
        for index in 0..<block.globalCount { values[index] = state.globals[index] }
        defer { for index in 0..<block.globalCount { state.globals[index] = values[index] } }

        var labelAt: [UInt64: Int] = [:]
        for (index, op) in ops.enumerated() where op.opcode == .label { labelAt[op.constant] = index }
        var pc = 0, steps = 0, instruction: UInt64 = 0
        while pc < ops.count {
            steps += 1
            if steps > 100_000 { return .tooLong }
            let op = ops[pc]
            pc += 1
            let t = op.type, mask = t.mask, bits = UInt64(t.bits)
            func v(_ position: Int) -> UInt64 { values[Int(op.input(position).index)] }
            let a = op.opcode.properties.inputs > 0 && !op.input(0).isNone ? v(0) & mask : 0
            let b = op.opcode.properties.inputs > 1 && !op.input(1).isNone ? v(1) & mask : 0
            func sx(_ x: UInt64, _ width: UInt64) -> UInt64 {
                width >= 64 ? x : (x & (1 << (width - 1)) != 0 ? x | ~((1 << width) - 1) : x & ((1 << width) - 1))
            }
            func field(_ size: UInt64) -> UInt64 { size >= 64 ? ~0 : (1 << size) - 1 }
            func set(_ x: UInt64) { values[Int(op.output.index)] = x & block.info(op.output).type.mask }
            let count = b % bits
            switch op.opcode {
            case .mov: set(a)
            case .movi: set(op.constant)
            case .add: set(a &+ b)
            case .sub: set(a &- b)
            case .mul: set(a &* b)
            case .and: set(a & b)
            case .or: set(a | b)
            case .xor: set(a ^ b)
            case .shl: set(a << count)
            case .shr: set(a >> count)
            case .sar: set(UInt64(bitPattern: Int64(bitPattern: sx(a, bits)) >> count))
            case .rotl: set(count == 0 ? a : (a << count) | (a >> (bits - count)))
            case .rotr: set(count == 0 ? a : (a >> count) | (a << (bits - count)))
            case .neg: set(0 &- a)
            case .not: set(~a)
            case .ext8s: set(sx(a, 8))
            case .ext8u: set(a & 0xFF)
            case .ext16s: set(sx(a, 16))
            case .ext16u: set(a & 0xFFFF)
            case .ext32s: set(sx(a, 32))
            case .ext32u: set(a & 0xFFFF_FFFF)
            case .extu32to64: set(v(0) & 0xFFFF_FFFF)
            case .exts32to64: set(sx(v(0) & 0xFFFF_FFFF, 32))
            case .low64to32: set(v(0))
            case .high64to32: set(v(0) >> 32)
            case .deposit:
                let f = field(op.constant) << UInt64(op.aux)
                set((a & ~f) | ((b << UInt64(op.aux)) & f))
            case .extract: set((a >> UInt64(op.aux)) & field(op.constant))
            case .sextract: set(sx((a >> UInt64(op.aux)) & field(op.constant), op.constant))
            case .setcond: set(op.condition.holds(a, b, t) ? 1 : 0)
            case .movcond: set(op.condition.holds(a, b, t) ? v(2) : v(3))
            case .loadState:
                set(op.access.extend(readState(Int(op.constant), values, state)))
            case .storeState:
                writeState(Int(op.constant), op.access, a, &values, &state)
            case .loadGuest:
                let address = v(0)
                if address & 7 == 3 { return .fault(instruction) }
                set(op.access.extend(state.memory[address] ?? address &* 0x9E37_79B9_7F4A_7C15))
            case .storeGuest:
                let address = v(0)
                if address & 7 == 3 { return .fault(instruction) }
                state.memory[address] = op.access.extend(b)
            case .call:
                let x = op.input(0).isNone ? 0 : v(0), y = op.input(1).isNone ? 0 : v(1)
                let result: UInt64
                switch UInt32(op.constant) {
                case fixture.helperState:
                    if x & 0xF == 0xF { return .fault(instruction) }
                    let eax = values[Int(fixture.eax.index)]
                    values[Int(fixture.ecx.index)] = (eax ^ x) & 0xFFFF_FFFF
                    result = x &+ eax
                case fixture.helperNoState:
                    if x & 0xF == 0 { return .fault(instruction) }
                    result = x &* 3
                case fixture.helperPure:
                    result = x &+ y &* 5
                default:
                    let old = values[Int(fixture.edx.index)]
                    values[Int(fixture.edx.index)] = x & 0xFFFF_FFFF
                    result = old &+ 1
                }
                if !op.output.isNone { set(result) }
            case .label, .insnStart:
                if op.opcode == .insnStart { instruction = op.constant }
            case .br:
                pc = labelAt[op.constant]!
            case .brcond:
                if op.condition.holds(a, b, t) { pc = labelAt[op.constant]! }
            case .exitBlock: return .exit(op.constant)
            case .gotoBlock: return .goto(op.constant)
            case .hostX87: preconditionFailure("host_x87 is never generated for IR tests")
            case .hostSIMD: preconditionFailure("host_simd is never generated for IR tests")
            }
        }
        return .fellOffEnd
    }

    private func globalIndex(atOffset offset: Int) -> Int? {
        block.temps.prefix(block.globalCount).firstIndex { $0.kind == .global(offset: offset) }
    }

    private func readState(_ offset: Int, _ values: [UInt64], _ state: MachineState) -> UInt64 {
        if let index = globalIndex(atOffset: offset) { return values[index] }
        return state.scratch[offset] ?? UInt64(offset) &* 0x1234_5678_9ABC
    }

    private func writeState(_ offset: Int, _ access: MemoryAccess, _ value: UInt64,
                            _ values: inout [UInt64], _ state: inout MachineState) {
        let width: UInt64 = access.bytes == 8 ? ~0 : (1 << UInt64(8 * access.bytes)) - 1
        if let index = globalIndex(atOffset: offset) {
            values[index] = (values[index] & ~width) | (value & width)
        } else {
            state.scratch[offset] = ((state.scratch[offset] ?? 0) & ~width) | (value & width)
        }
    }
}

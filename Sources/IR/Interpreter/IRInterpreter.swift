/// Runs compiled IR blocks: the portable reference backend. Every value is
/// read from and written to the state block, so the architectural state is
/// exact at every op, which is what makes faults precise here.
public struct IRInterpreter {
    public let configuration: InterpreterConfiguration

    public init(configuration: InterpreterConfiguration) { self.configuration = configuration }

    /// Runs `block` on the state at `state`; returns a `BlockExit` code.
    public func run(_ block: InterpretedBlock, state: UnsafeMutableRawPointer) -> UInt64 {
        var index = 0
        let ops = block.ops
        while true {
            let op = ops[index]
            index &+= 1
            switch op.opcode {
            case .mov:
                write(state, op.output, read(state, op.a, op.is64), op.is64)
            case .movi:
                write(state, op.output, op.constant, op.is64)
            case .add, .sub, .mul, .and, .or, .xor, .shl, .shr, .sar, .rotl, .rotr, .setcond, .deposit:
                let value = evaluate(op.opcode, type: op.is64 ? .i64 : .i32, aux: op.aux, constant: op.constant,
                                     read(state, op.a, op.is64), read(state, op.b, op.is64))
                // setcond's 0 or 1 fills its output temp, whichever type that is.
                write(state, op.output, value, op.opcode == .setcond ? op.wideInputs & 8 != 0 : op.is64)
            case .neg, .not, .ext8s, .ext8u, .ext16s, .ext16u, .ext32s, .ext32u, .extract, .sextract:
                let value = evaluate(op.opcode, type: op.is64 ? .i64 : .i32, aux: op.aux, constant: op.constant,
                                     read(state, op.a, op.is64))
                write(state, op.output, value, op.is64)
            case .extu32to64:
                write(state, op.output, read(state, op.a, false), true)
            case .exts32to64:
                write(state, op.output, UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: read(state, op.a, false)))), true)
            case .low64to32:
                write(state, op.output, read(state, op.a, true) & 0xFFFF_FFFF, false)
            case .high64to32:
                write(state, op.output, read(state, op.a, true) >> 32, false)
            case .movcond:
                let type: IRType = op.is64 ? .i64 : .i32
                let holds = Condition(rawValue: op.aux)!.holds(read(state, op.a, op.is64), read(state, op.b, op.is64), type)
                write(state, op.output, read(state, holds ? op.c : op.d, op.is64), op.is64)
            case .loadState:
                let access = MemoryAccess(rawValue: op.aux)
                let raw: UInt64
                switch access.bytes {
                case 1: raw = UInt64((state + Int(op.constant)).load(as: UInt8.self))
                case 2: raw = UInt64((state + Int(op.constant)).loadUnaligned(as: UInt16.self))
                case 4: raw = UInt64((state + Int(op.constant)).loadUnaligned(as: UInt32.self))
                default: raw = (state + Int(op.constant)).loadUnaligned(as: UInt64.self)
                }
                write(state, op.output, access.extend(raw), op.is64)
            case .storeState:
                let value = read(state, op.a, op.is64)
                let pointer = state + Int(op.constant)
                switch MemoryAccess(rawValue: op.aux).bytes {
                case 1: pointer.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
                case 2: pointer.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
                case 4: pointer.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
                default: pointer.storeBytes(of: value, as: UInt64.self)
                }
            case .loadGuest:
                // An i32 address temp is zero-extended; an i64 one (64-bit mode) used whole.
                let address = read(state, op.a, op.wideInputs & 1 != 0)
                let value = configuration.load(state, address, UInt32(op.aux), UInt32(op.constant))
                if faulted(state) { return BlockExit.fault }
                write(state, op.output, value, op.is64)
            case .storeGuest:
                let address = read(state, op.a, op.wideInputs & 1 != 0)
                configuration.store(state, address, read(state, op.b, op.is64), UInt32(op.aux), UInt32(op.constant))
                if faulted(state) { return BlockExit.fault }
            case .call:
                let result = op.helper!(state, read(state, op.a, op.wideInputs & 1 != 0), read(state, op.b, op.wideInputs & 2 != 0),
                                        read(state, op.c, op.wideInputs & 4 != 0))
                if op.aux & HelperFlags.noFault.rawValue == 0, faulted(state) { return BlockExit.fault }
                if op.hasOutput { write(state, op.output, result, op.is64) }
            case .label:
                break
            case .br:
                index = Int(op.constant)
            case .brcond:
                let type: IRType = op.is64 ? .i64 : .i32
                if Condition(rawValue: op.aux)!.holds(read(state, op.a, op.is64), read(state, op.b, op.is64), type) {
                    index = Int(op.constant)
                }
            case .insnStart:
                (state + configuration.currentInstructionOffset).storeBytes(of: op.constant, as: UInt64.self)
            case .exitBlock:
                return op.constant & BlockExit.codeMask
            case .gotoBlock:
                return BlockExit.gotoSlot | op.constant
            case .hostX87:
                // Blocks for the interpreter never hold it: the translator emits
                // host x87 instructions only for a CPU running the JIT.
                preconditionFailure("host_x87 runs only in JIT-compiled code")
            case .hostSIMD:
                // The generated stub for this instruction: same bytes as the JIT's.
                _ = op.helper.unsafelyUnwrapped(state, 0, 0, 0)
            }
        }
    }

    /// An absent operand resolves to offset 0; its value is never used.
    @inline(__always)
    private func read(_ state: UnsafeMutableRawPointer, _ offset: UInt32, _ is64: Bool) -> UInt64 {
        is64 ? (state + Int(offset)).loadUnaligned(as: UInt64.self)
             : UInt64((state + Int(offset)).loadUnaligned(as: UInt32.self))
    }

    @inline(__always)
    private func write(_ state: UnsafeMutableRawPointer, _ offset: UInt32, _ value: UInt64, _ is64: Bool) {
        if is64 {
            (state + Int(offset)).storeBytes(of: value, as: UInt64.self)
        } else {
            (state + Int(offset)).storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
        }
    }

    @inline(__always)
    private func faulted(_ state: UnsafeMutableRawPointer) -> Bool {
        (state + configuration.faultOffset).load(as: Int32.self) >= 0
    }
}

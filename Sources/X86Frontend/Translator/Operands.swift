import IR
import X86State

/// Operands loaded and stored by their kind in the opcode table (`OperandKind`),
/// so that a routine says what it does with operand1, operand2... and not
/// where each opcode keeps them.
extension TranslationContext {
    /// The width in bytes of an operand of `kind`: fixed by its size letter
    /// (b, w, d), else the instruction's operand size.
    @inline(__always)
    func operandBytes(of kind: OperandKind) -> Int {
        switch kind {
        case .Eb, .Gb, .Zb, .AL, .CL, .Ob, .Ib: return 1
        case .Ew, .Gw, .AX, .DX, .Sw, .Iw, .ES, .CS, .SS, .DS, .FS, .GS: return 2
        case .Ed, .Gd: return 4
        // Control and debug registers move 64 bits in 64-bit mode.
        case .Rd: return long64 ? 8 : 4
        default: return operandBytes
        }
    }

    /// Where an operand in a general register or the ModRM r/m field lives:
    /// what an instruction that reads and then writes it uses, so a memory
    /// operand's address is computed once.
    func operandLocation(_ kind: OperandKind) -> Location {
        switch kind {
        case .Eb, .Ew, .Ed, .Ev: return modrmLocation(bytes: operandBytes(of: kind))
        default: return .register(registerNumber(kind))
        }
    }

    /// The general register an operand of a register kind names (0 = eAX ... 7 = eDI;
    /// for bytes 4-7 are AH CH DH BH).
    @inline(__always)
    func registerNumber(_ kind: OperandKind) -> Int {
        switch kind {
        case .Gb, .Gw, .Gd, .Gv: return instruction.regRegister
        case .Rd: return instruction.rmRegister
        // Z: the register is in the opcode's low three bits (and REX.B).
        case .Zb, .Zv: return instruction.opcodeRegister
        case .CL: return Register.ecx.rawValue
        case .DX: return Register.edx.rawValue
        default: return Register.eax.rawValue   // AL, AX, eAX
        }
    }

    /// The value of the operand of `kind`, zero-extended to 32 bits. Immediates
    /// are cut to the operand's width (a sign-extended byte fills it).
    func loadOperand(_ kind: OperandKind) -> Temp {
        switch kind {
        case .IbS where operandBytes == 8, .Iz where operandBytes == 8:
            // Sign-extended to 64 bits; MOV r64, imm64 has all 64.
            if instruction.opcode >= 0xB8 && instruction.opcode <= 0xBF { return b.constant(instruction.immediate64, .i64) }
            return b.constant(UInt64(bitPattern: Int64(instruction.signedImmediate)), .i64)
        case .Ib, .one, .Iw, .IbS, .Iz: return constant(immediateOperand(kind))
        case .Ob, .Ov:
            return load(memorySegment, directOffset(), bytes: operandBytes(of: kind))
        case .ES, .CS, .SS, .DS, .FS, .GS, .Sw:
            return b.loadState(offset: CPUStateLayout.segmentSelector(segmentRegister(kind)), .u16)
        default:
            return read(operandLocation(kind), bytes: operandBytes(of: kind))
        }
    }

    /// Writes the low bytes of `value` to the operand of `kind`. A segment
    /// register is loaded through the runtime, with its descriptor checks.
    func storeOperand(_ kind: OperandKind, _ value: Temp) {
        switch kind {
        case .Ob, .Ov:
            store(memorySegment, directOffset(), value, bytes: operandBytes(of: kind))
        case .ES, .CS, .SS, .DS, .FS, .GS, .Sw:
            loadSegment(segmentRegister(kind), value)
        default:
            write(operandLocation(kind), value, bytes: operandBytes(of: kind))
        }
    }

    /// An immediate operand's value at translation time, cut to its width.
    @inline(__always)
    func immediateOperand(_ kind: OperandKind) -> UInt32 {
        switch kind {
        case .one: return 1
        case .Ib: return instruction.immediate & 0xFF
        case .Iw: return instruction.immediate & 0xFFFF
        default:
            switch operandBytes {
            case 4: return instruction.immediate
            case 2: return instruction.immediate & 0xFFFF
            default: return instruction.immediate & 0xFF
            }
        }
    }

    /// The segment register an operand names: fixed (ES...GS) or in ModRM reg (Sw).
    func segmentRegister(_ kind: OperandKind) -> Segment {
        switch kind {
        case .ES: return .es
        case .CS: return .cs
        case .SS: return .ss
        case .FS: return .fs
        case .GS: return .gs
        case .Sw: return Segment(rawValue: Int(instruction.reg)) ?? .ds
        default: return .ds
        }
    }
}

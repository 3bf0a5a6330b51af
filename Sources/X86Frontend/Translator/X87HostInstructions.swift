import IR
import X86State
import X87

/// x87 instructions the JIT runs on the host's own FPU (blocks translated
/// with `HiddenFlags.x87OnHost`: every x87 exception masked, none pending,
/// so the host computes exactly what the guest's FPU would and never traps).
///
/// The guest's FPU lives in the host's while generated code runs: the first
/// such instruction of a block makes sure it is there (`x87Acquire`), each
/// instruction then runs as its own bytes, and memory operands go through
/// `CPUState.x87Transfer`: loads read guest memory first, stores compute into
/// the transfer field and write guest memory before a popping form pops, so
/// a faulting access leaves the FPU as it was. FOP, FIP and FDP are recorded as the
/// guest's own. Forms that read or write EFLAGS, change the control word or
/// the environment, or are rare (FBLD, FBSTP, FSTP m80, FISTP m64, reserved
/// encodings) go to the `x87` helper, which takes the FPU back first.
enum X87HostForm: Equatable {
    /// A register form, run as is.
    case register
    /// FNSTSW AX.
    case statusToAX
    /// FCOMI, FUCOMI and their popping forms: ZF PF CF from the comparison.
    case compareToEFLAGS
    /// FLDCW: on the host only while the new control word masks every exception.
    case loadControlWord
    /// A memory operand of `bytes` read before the instruction runs.
    case load(bytes: Int)
    /// A store of `bytes`; `pops`: a popping form, which runs as its non-popping
    /// twin before the write and as itself after it.
    case store(bytes: Int, pops: Bool)

    init?(escape: UInt8, modrm: UInt8, memory: Bool) {
        let reg = (modrm >> 3) & 7
        if memory {
            switch (escape, reg) {
            case (0, _), (2, _): self = .load(bytes: 4)             // m32fp, m32int arithmetic
            case (4, _): self = .load(bytes: 8)                     // m64fp arithmetic
            case (6, _): self = .load(bytes: 2)                     // m16int arithmetic
            case (1, 0), (3, 0): self = .load(bytes: 4)             // FLD m32fp, FILD m32int
            case (5, 0), (7, 5): self = .load(bytes: 8)             // FLD m64fp, FILD m64int
            case (7, 0): self = .load(bytes: 2)                     // FILD m16int
            case (3, 5): self = .load(bytes: 10)                    // FLD m80fp
            case (1, 2), (3, 2): self = .store(bytes: 4, pops: false)  // FST m32fp, FIST m32int
            case (1, 3), (3, 3): self = .store(bytes: 4, pops: true)
            case (5, 2): self = .store(bytes: 8, pops: false)       // FST m64fp
            case (5, 3): self = .store(bytes: 8, pops: true)
            case (7, 2): self = .store(bytes: 2, pops: false)       // FIST m16int
            case (7, 3): self = .store(bytes: 2, pops: true)
            case (1, 7), (5, 7): self = .store(bytes: 2, pops: false)  // FNSTCW, FNSTSW m16
            case (1, 5): self = .loadControlWord
            default: return nil
            }
            return
        }
        switch (escape, modrm) {
        case (0, _): self = .register                               // arithmetic and compares ST(0), ST(i)
        case (1, 0xC0...0xCF), (1, 0xD0), (1, 0xE0), (1, 0xE1), (1, 0xE4), (1, 0xE5),
             (1, 0xE8...0xEE), (1, 0xF0...0xFF):
            self = .register                                        // FLD/FXCH ST(i), FNOP, unary, constants, transcendental
        case (2, 0xE9): self = .register                            // FUCOMPP
        case (3, 0xE2), (3, 0xE3): self = .register                 // FNCLEX, FNINIT
        case (4, 0xC0...0xCF), (4, 0xE0...0xFF): self = .register   // arithmetic ST(i), ST(0)
        case (5, 0xC0...0xC7), (5, 0xD0...0xEF): self = .register   // FFREE, FST/FSTP ST(i), FUCOM(P)
        case (6, 0xC0...0xCF), (6, 0xD9), (6, 0xE0...0xFF): self = .register  // popping arithmetic, FCOMPP
        case (7, 0xE0): self = .statusToAX
        case (3, 0xE8...0xF7), (7, 0xE8...0xF7): self = .compareToEFLAGS
        default: return nil
        }
    }
}

extension TranslationContext {
    /// Runs the instruction on the host FPU when it has a host form; false
    /// leaves it to the helper path.
    func translateX87OnHost(escape: UInt8) -> Bool {
        let modrm = instruction.modrmByte
        let memory = instruction.hasMemoryOperand
        guard let form = X87HostForm(escape: escape, modrm: modrm, memory: memory) else { return false }
        acquireHostX87()
        let transfer = CPUStateLayout.x87Transfer
        var dataOffset: Temp?
        switch form {
        case .register:
            b.hostX87(HostX87Instruction(escape: escape, modrm: modrm))
        case .statusToAX:
            b.hostX87(HostX87Instruction(escape: 5, reg: 7, stateOffset: transfer))
            writeRegister(0, bytes: 2, b.loadState(offset: transfer, .u16))
        case .compareToEFLAGS:
            b.hostX87(HostX87Instruction(escape: escape, modrm: modrm, flagsTo: transfer))
            // ZF PF CF as compared; OF SF AF cleared.
            let rflags = b.loadState(offset: transfer, .u32)
            setFlags(value: b.and(rflags, UInt64(EFLAGS.zero | EFLAGS.parity | EFLAGS.carry)))
        case .loadControlWord:
            translateLoadControlWordOnHost()
            return true
        case let .load(bytes):
            let offset = effectiveAddress()
            let linear = linearAddress(offset, segment: memorySegment, bytes: bytes)
            dataOffset = offset
            if bytes >= 8 {
                b.storeState(b.loadGuest(linear, .u64, mmu: mmuIndex, .i64), offset: transfer, .u64, .i64)
                if bytes == 10 {
                    let high = b.loadGuest(b.add(linear, constant(8)), .u16, mmu: mmuIndex)
                    b.storeState(high, offset: transfer + 8, .u16)
                }
            } else {
                let access: MemoryAccess = bytes == 4 ? .u32 : .u16
                b.storeState(b.loadGuest(linear, access, mmu: mmuIndex), offset: transfer, access)
            }
            b.hostX87(HostX87Instruction(escape: escape, reg: instruction.reg, stateOffset: transfer))
        case let .store(bytes, pops):
            let offset = effectiveAddress()
            let linear = linearAddress(offset, segment: memorySegment, bytes: bytes, access: .write)
            dataOffset = offset
            b.hostX87(HostX87Instruction(escape: escape, reg: pops ? instruction.reg - 1 : instruction.reg,
                                         stateOffset: transfer))
            if bytes == 8 {
                b.storeGuest(linear, b.loadState(offset: transfer, .u64, .i64), .u64, mmu: mmuIndex, .i64)
            } else {
                let access: MemoryAccess = bytes == 4 ? .u32 : .u16
                b.storeGuest(linear, b.loadState(offset: transfer, access), access, mmu: mmuIndex)
            }
            // The popping form runs again, now that the write is done: it sets
            // the same flags, C1 (rounded up) included, and pops.
            if pops { b.hostX87(HostX87Instruction(escape: escape, reg: instruction.reg, stateOffset: transfer)) }
        }
        if escape == 3 && modrm == 0xE3 {
            // FNINIT clears the pointers too.
            b.storeState(constant(0), offset: CPUStateLayout.x87Opcode, .u16)
            b.storeState(constant(0), offset: CPUStateLayout.x87InstructionPointer, .u32)
            b.storeState(constant(0), offset: CPUStateLayout.x87DataPointer, .u32)
        } else if !X87Encoding.isControl(escape: escape, modrm: modrm) {
            recordHostX87(escape: escape, modrm: modrm, dataOffset: dataOffset)
        }
        return true
    }

    /// FLDCW: a control word that masks every exception is loaded into the
    /// host FPU and the block goes on; one that unmasks any goes through the
    /// helper, and the block ends, as x87 code now runs through the helper.
    private func translateLoadControlWordOnHost() {
        let transfer = CPUStateLayout.x87Transfer
        let linear = linearAddress(effectiveAddress(), segment: memorySegment, bytes: 2)
        let word = b.loadGuest(linear, .u16, mmu: mmuIndex)
        let unmasks = b.newLabel()
        let masks = constant(UInt32(X87Bits.exceptions))
        b.branch(if: .ne, b.and(word, UInt64(X87Bits.exceptions)), masks, to: unmasks)
        b.storeState(word, offset: transfer, .u16)
        b.hostX87(HostX87Instruction(escape: 1, reg: 5, stateOffset: transfer))
        let done = b.newLabel()
        b.branch(to: done)
        b.setLabel(unmasks)
        let call = X87Call(kind: 1, modrm: instruction.modrmByte, memory: true, operand32: operandBytes == 4,
                           segment: memorySegment.rawValue)
        b.call(X86Helper.x87.index, [b.constant(record: call), linear, addressValue(instructionAddress)])
        exitBlock(nextEIP: nextAddress)
        blockEnded = false  // only this path left; the other goes on
        b.setLabel(done)
    }

    /// Brings the guest's FPU into the host's, once per block (and again after
    /// the helper path took it back): generated code leaves it there from
    /// block to block, so this is a test and a branch.
    private func acquireHostX87() {
        guard !hostX87Acquired else { return }
        let acquire = {
            let resident = self.b.loadState(offset: CPUStateLayout.x87Residence, .u8)
            let done = self.b.newLabel()
            self.b.branch(if: .eq, resident, self.constant(UInt32(X87Residence.host)), to: done)
            self.b.call(X86Helper.x87Acquire.index)
            self.b.setLabel(done)
        }
        // At the block's start, unless an x87 helper ran before in it: there
        // the check's join costs no reloaded registers and no stored
        // instruction address. Acquiring early is harmless: every exit
        // saves a resident FPU.
        if x87HelperCalled { acquire() } else { b.prepend(acquire) }
        hostX87Acquired = true
    }

    /// FOP, FIP and (memory forms) FDP as the guest's FPU records them: the
    /// offset in protected mode, the linear address in real and virtual-8086
    /// mode. The selectors FCS and FDS are left as last recorded.
    private func recordHostX87(escape: UInt8, modrm: UInt8, dataOffset: Temp?) {
        b.move(into: globals.x87Opcode, constant: UInt64(X87Encoding.fop(escape: escape, modrm: modrm)))
        let ip = isProtectedMode ? instructionAddress : UInt64(codeSegmentBase) &+ instructionAddress
        b.move(into: globals.x87InstructionPointer, constant: ip & 0xFFFF_FFFF, .i32)
        if let dataOffset {
            let pointer = isProtectedMode ? dataOffset : b.add(segmentBase(memorySegment), dataOffset)
            b.move(into: globals.x87DataPointer, pointer)
        }
    }
}

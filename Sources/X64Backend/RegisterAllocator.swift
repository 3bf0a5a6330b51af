import IR

/// The bookkeeping of the block's register allocation: which temp each host
/// register holds, which temps have an up-to-date copy in their memory slot,
/// and which registers the current op has locked. It emits no code; the
/// code generator moves values (X64CodeGenerator+Registers).
struct RegisterFile {
    /// The registers temps may live in, in the order they are handed out:
    /// callee-saved first, so values survive helper calls; then R8-R11,
    /// which a guest access leaves alone; RDI, RSI and RDX, which every
    /// guest access empties (they carry its arguments), last. RAX and RCX are
    /// the generator's scratch (results, shift counts), RBX the state
    /// pointer, RSP the stack.
    static var allocatable: AllocatableRegisters { AllocatableRegisters() }

    private(set) var occupant = [Temp?](repeating: nil, count: 16)
    private(set) var home: [HostRegister?]
    /// The memory slot holds the temp's current value (for a register-held
    /// temp: the register is clean).
    var inMemory: [Bool]
    /// One bit per register number.
    private var locked: UInt16 = 0

    init(tempCount: Int) {
        home = [HostRegister?](repeating: nil, count: tempCount)
        inMemory = [Bool](repeating: true, count: tempCount)
    }

    /// Empty, for a block of `tempCount` temps, in the previous block's storage.
    mutating func reset(tempCount: Int) {
        home.reset(to: nil, count: tempCount)
        inMemory.reset(to: true, count: tempCount)
        for index in occupant.indices { occupant[index] = nil }
        locked = 0
    }

    func register(of temp: Temp) -> HostRegister? { home[Int(temp.index)] }
    func isDirty(_ temp: Temp) -> Bool { home[Int(temp.index)] != nil && !inMemory[Int(temp.index)] }
    func isLocked(_ register: HostRegister) -> Bool { locked & (1 << UInt16(register.rawValue)) != 0 }

    var freeRegister: HostRegister? {
        for register in RegisterFile.allocatable where occupant[Int(register.rawValue)] == nil && !isLocked(register) {
            return register
        }
        return nil
    }

    /// Whether the current op may evict `register`: held and not locked.
    func isEvictable(_ register: HostRegister) -> Bool {
        occupant[Int(register.rawValue)] != nil && !isLocked(register)
    }

    mutating func lock(_ register: HostRegister) { locked |= 1 << UInt16(register.rawValue) }
    mutating func unlockAll() { locked = 0 }

    /// `temp` now lives in `register` (which must be free).
    mutating func bind(_ temp: Temp, to register: HostRegister, clean: Bool) {
        precondition(occupant[Int(register.rawValue)] == nil, "register \(register) is taken")
        if let old = home[Int(temp.index)] { occupant[Int(old.rawValue)] = nil }
        home[Int(temp.index)] = register
        occupant[Int(register.rawValue)] = temp
        inMemory[Int(temp.index)] = clean
    }

    /// Forgets `temp`'s register; the value stays only where `inMemory` says.
    mutating func release(_ temp: Temp) {
        guard let register = home[Int(temp.index)] else { return }
        occupant[Int(register.rawValue)] = nil
        home[Int(temp.index)] = nil
    }

    /// A control-flow join: every temp is back in its memory slot.
    mutating func reset() {
        for index in home.indices { home[index] = nil }
        for index in inMemory.indices { inMemory[index] = true }
        for index in occupant.indices { occupant[index] = nil }
        locked = 0
    }
}

/// `RegisterFile.allocatable`'s registers in order, as a sequence with no
/// storage (a static array would cost a once-check at every use).
struct AllocatableRegisters: Sequence, IteratorProtocol {
    private var index = 0

    @inline(__always)
    mutating func next() -> HostRegister? {
        defer { index += 1 }
        switch index {
        case 0: return .rbp
        case 1: return .r12
        case 2: return .r13
        case 3: return .r14
        case 4: return .r15
        case 5: return .r8
        case 6: return .r9
        case 7: return .r10
        case 8: return .r11
        case 9: return .rdi
        case 10: return .rsi
        case 11: return .rdx
        default: return nil
        }
    }
}

/// The width of an operation or a memory access.
public enum OperandSize: Sendable {
    case byte, word, dword, qword

    public var bytes: Int {
        switch self {
        case .byte: return 1
        case .word: return 2
        case .dword: return 4
        case .qword: return 8
        }
    }

    public init(bytes: Int) {
        switch bytes {
        case 1: self = .byte
        case 2: self = .word
        case 4: self = .dword
        default: self = .qword
        }
    }
}

/// A memory operand [base + index * scale + displacement]. No RIP-relative
/// or absolute forms: generated code addresses everything from registers.
public struct MemoryOperand: Sendable, Equatable {
    public var base: HostRegister
    public var index: HostRegister?
    /// 1, 2, 4 or 8.
    public var scale: UInt8
    public var displacement: Int32

    public init(base: HostRegister, index: HostRegister? = nil, scale: UInt8 = 1, displacement: Int32 = 0) {
        precondition(index != .rsp, "RSP cannot be an index register")
        precondition([1, 2, 4, 8].contains(scale), "scale must be 1, 2, 4 or 8")
        self.base = base
        self.index = index
        self.scale = scale
        self.displacement = displacement
    }
}

/// The r/m side of a ModRM instruction: a register or memory.
public enum RMOperand: Sendable, Equatable {
    case register(HostRegister)
    case memory(MemoryOperand)
}

/// A jump target in the code being assembled.
public struct AssemblerLabel: Hashable, Sendable {
    let id: Int
}

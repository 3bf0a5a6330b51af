/// The sixteen general-purpose registers, numbered as the hardware encodes
/// them: the low three bits go in ModRM/SIB/opcode, bit 3 in a REX bit.
public enum HostRegister: UInt8, CaseIterable, Sendable {
    case rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi
    case r8, r9, r10, r11, r12, r13, r14, r15

    /// The three bits that go into ModRM, SIB or the opcode.
    var low3: UInt8 { rawValue & 7 }
    /// Needs REX.R/X/B.
    var isExtended: Bool { rawValue >= 8 }
    /// SPL, BPL, SIL, DIL: as byte registers they exist only with a REX
    /// prefix (without one the same numbers mean AH, CH, DH, BH).
    var needsREXAsByte: Bool { rawValue >= 4 && rawValue < 8 }

    /// Preserved across calls by the System V AMD64 ABI.
    public var isCalleeSaved: Bool {
        switch self {
        case .rbx, .rbp, .rsp, .r12, .r13, .r14, .r15: return true
        default: return false
        }
    }

    /// The System V integer argument registers, in order.
    public static let arguments: [HostRegister] = [.rdi, .rsi, .rdx, .rcx, .r8, .r9]

    public func name(_ size: OperandSize) -> String {
        let legacy = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]
        if isExtended {
            let base = "r\(rawValue)"
            switch size {
            case .byte: return base + "b"
            case .word: return base + "w"
            case .dword: return base + "d"
            case .qword: return base
            }
        }
        let stem = legacy[Int(rawValue)]
        switch size {
        case .byte: return rawValue < 4 ? String(stem.prefix(1)) + "l" : stem + "l"
        case .word: return stem
        case .dword: return "e" + stem
        case .qword: return "r" + stem
        }
    }
}

/// x86 condition codes, as the low nibble of Jcc/SETcc/CMOVcc.
public enum ConditionCode: UInt8, CaseIterable, Sendable {
    case o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g

    public var name: String { "\(self)" }
}

/// Width of one bus access, in bytes: what an IN/OUT or an MMIO load/store moves.
public enum AccessSize: Int, Sendable {
    case byte = 1
    case word = 2
    case dword = 4

    /// All ones in the access's width: what a read from nothing returns.
    @inline(__always)
    public var mask: UInt32 {
        switch self {
        case .byte: return 0xFF
        case .word: return 0xFFFF
        case .dword: return 0xFFFF_FFFF
        }
    }
}

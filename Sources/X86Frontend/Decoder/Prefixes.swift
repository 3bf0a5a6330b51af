/// The legacy prefixes seen before an opcode. Segment overrides are kept apart
/// (`DecodedInstruction.segmentOverride`) because only the last one counts.
public struct Prefixes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let lock = Prefixes(rawValue: 1 << 0)         // F0
    public static let rep = Prefixes(rawValue: 1 << 1)          // F3 (REP / REPE)
    public static let repne = Prefixes(rawValue: 1 << 2)        // F2 (REPNE)
    public static let operandSize = Prefixes(rawValue: 1 << 3)  // 66
    public static let addressSize = Prefixes(rawValue: 1 << 4)  // 67
    /// Any segment override was present (which one is in `segmentOverride`).
    public static let segment = Prefixes(rawValue: 1 << 5)
}

/// Segment registers in the encoding order of the ModRM reg field (MOV Sreg).
public enum SegmentRegister: UInt8, Sendable, CaseIterable {
    case es = 0, cs, ss, ds, fs, gs

    public var name: StaticString {
        switch self {
        case .es: return "es"
        case .cs: return "cs"
        case .ss: return "ss"
        case .ds: return "ds"
        case .fs: return "fs"
        case .gs: return "gs"
        }
    }
}

/// Which prefix selects the variant of an MMX/SSE/SSE2 opcode ("mandatory
/// prefix"). F2/F3 win over 66; between F2 and F3 the last one wins.
public enum SIMDPrefix: UInt8, Sendable {
    case none = 0, p66, pF3, pF2

    /// Bit of this variant in `OpcodeEntry.simdVariants`.
    var variantBit: UInt8 { 1 << rawValue }
}

extension Prefixes {
    /// The segment register an override prefix byte names, or nil if `byte` is not one.
    @inline(__always)
    static func segmentOverride(for byte: UInt8) -> SegmentRegister? {
        switch byte {
        case 0x26: return .es
        case 0x2E: return .cs
        case 0x36: return .ss
        case 0x3E: return .ds
        case 0x64: return .fs
        case 0x65: return .gs
        default: return nil
        }
    }
}

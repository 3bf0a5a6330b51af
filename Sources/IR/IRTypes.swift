/// The width of a temp and of the operation on it.
public enum IRType: UInt8, Sendable {
    case i32, i64

    public var bits: Int { self == .i32 ? 32 : 64 }
    @inline(__always)
    public var mask: UInt64 { self == .i32 ? 0xFFFF_FFFF : ~0 }
}

/// A value in the IR: a global (a CPU-state field), or a temp local to the block.
public struct Temp: Hashable, Sendable, CustomStringConvertible {
    public let index: UInt16
    public init(_ index: UInt16) { self.index = index }
    /// An absent operand (a call without a result or with fewer arguments).
    public static let none = Temp(0xFFFF)
    public var isNone: Bool { index == 0xFFFF }
    public var description: String { isNone ? "-" : "t\(index)" }
}

/// A branch target inside the block.
public struct Label: Hashable, Sendable {
    public let id: UInt32
}

/// Comparison conditions for setcond, movcond and brcond.
public enum Condition: UInt8, CaseIterable, Sendable {
    case always, never
    case eq, ne
    case lt, ge, le, gt      // signed
    case ltu, geu, leu, gtu  // unsigned
    /// (a & b) == 0, != 0.
    case testEq, testNe

    /// The condition that holds exactly when this one does not.
    public var negated: Condition {
        switch self {
        case .always: return .never
        case .never: return .always
        case .eq: return .ne
        case .ne: return .eq
        case .lt: return .ge
        case .ge: return .lt
        case .le: return .gt
        case .gt: return .le
        case .ltu: return .geu
        case .geu: return .ltu
        case .leu: return .gtu
        case .gtu: return .leu
        case .testEq: return .testNe
        case .testNe: return .testEq
        }
    }

    /// Evaluates the condition on values of the given type.
    @inline(__always)
    public func holds(_ a: UInt64, _ b: UInt64, _ type: IRType) -> Bool {
        let a = a & type.mask, b = b & type.mask
        let shift = UInt64(64 - type.bits)
        let sa = Int64(bitPattern: a << shift) >> shift, sb = Int64(bitPattern: b << shift) >> shift
        switch self {
        case .always: return true
        case .never: return false
        case .eq: return a == b
        case .ne: return a != b
        case .lt: return sa < sb
        case .ge: return sa >= sb
        case .le: return sa <= sb
        case .gt: return sa > sb
        case .ltu: return a < b
        case .geu: return a >= b
        case .leu: return a <= b
        case .gtu: return a > b
        case .testEq: return a & b == 0
        case .testNe: return a & b != 0
        }
    }

    /// The condition that holds exactly when this one does not.
    public var inverted: Condition {
        switch self {
        case .always: return .never
        case .never: return .always
        case .eq: return .ne
        case .ne: return .eq
        case .lt: return .ge
        case .ge: return .lt
        case .le: return .gt
        case .gt: return .le
        case .ltu: return .geu
        case .geu: return .ltu
        case .leu: return .gtu
        case .gtu: return .leu
        case .testEq: return .testNe
        case .testNe: return .testEq
        }
    }
}

/// Size and signedness of a memory or state access, in one byte:
/// bits 0-1 log2 of the size in bytes, bit 2 sign extension.
public struct MemoryAccess: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let u8 = MemoryAccess(rawValue: 0)
    public static let u16 = MemoryAccess(rawValue: 1)
    public static let u32 = MemoryAccess(rawValue: 2)
    public static let u64 = MemoryAccess(rawValue: 3)
    public static let s8 = MemoryAccess(rawValue: 4)
    public static let s16 = MemoryAccess(rawValue: 5)
    public static let s32 = MemoryAccess(rawValue: 6)

    /// The unsigned access of `bytes` bytes (1, 2, 4 or 8).
    public static func unsigned(bytes: Int) -> MemoryAccess {
        MemoryAccess(rawValue: UInt8(bytes.trailingZeroBitCount))
    }

    @inlinable public var sizeShift: Int { Int(rawValue & 3) }
    @inlinable public var bytes: Int { 1 << sizeShift }
    @inlinable public var isSigned: Bool { rawValue & 4 != 0 }

    /// Applies this access's width and sign to a raw loaded value.
    @inlinable
    public func extend(_ value: UInt64) -> UInt64 {
        let shift = UInt64(64 - 8 * bytes)
        if isSigned { return UInt64(bitPattern: Int64(bitPattern: value << shift) >> shift) }
        return bytes == 8 ? value : value & ((1 << (8 * UInt64(bytes))) - 1)
    }

    public var description: String { (isSigned ? "s" : "u") + String(8 * bytes) }
}

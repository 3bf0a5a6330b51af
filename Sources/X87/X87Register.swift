/// One 80-bit extended-precision value as raw bits: the explicit 64-bit
/// significand (bit 63 is the integer bit) and the sign plus 15-bit exponent.
/// The layout (significand first, 16-byte stride) is that of the host's
/// `long double`, so a pointer to it can go straight to the host x87.
public struct X87Register: Equatable, Sendable {
    public var significand: UInt64
    public var signExponent: UInt16

    @inline(__always)
    public init(significand: UInt64, signExponent: UInt16) {
        self.significand = significand
        self.signExponent = signExponent
    }

    @inline(__always)
    public init() { self.init(significand: 0, signExponent: 0) }

    /// The QNaN the x87 produces for a masked invalid operation.
    public static let indefinite = X87Register(significand: 0xC000_0000_0000_0000, signExponent: 0xFFFF)
    public static let positiveZero = X87Register()

    @inline(__always) public var exponent: UInt16 { signExponent & 0x7FFF }
    @inline(__always) public var isNegative: Bool { signExponent & 0x8000 != 0 }

    /// The 2-bit tag FSTENV/FSAVE report for a register holding this value:
    /// 0 valid, 1 zero, 2 special (NaN, infinity, denormal, unsupported).
    public var tag: UInt16 {
        switch exponent {
        case 0x7FFF: return 2
        case 0: return significand == 0 ? 1 : 2
        default: return significand >> 63 == 0 ? 2 : 0  // unnormals are special
        }
    }

}

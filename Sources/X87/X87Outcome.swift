/// A memory operand's value as little-endian bytes: bytes 0-7 in `low`, 8-9
/// in `high`. Loads read the operand's size worth of bytes from it; stores
/// fill it when the outcome says `storesMemory`.
public struct X87Operand: Equatable, Sendable {
    public var low: UInt64
    public var high: UInt16

    @inline(__always)
    public init(low: UInt64 = 0, high: UInt16 = 0) {
        self.low = low
        self.high = high
    }
}

/// What the CPU layer must do after an x87 instruction.
public struct X87Outcome: Equatable, Sendable {
    public struct Effects: OptionSet, Equatable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Reserved encoding: raise #UD (nothing was changed).
        public static let invalidOpcode = Effects(rawValue: 1 << 0)
        /// Write the operand back to memory (its size from `X87Encoding.memoryOperand`).
        public static let storesMemory = Effects(rawValue: 1 << 1)
        /// Replace EFLAGS.ZF/PF/CF with `eflags` and clear OF, SF, AF (FCOMI family).
        public static let writesEFLAGS = Effects(rawValue: 1 << 2)
        /// Write `ax` to AX (FNSTSW AX).
        public static let writesAX = Effects(rawValue: 1 << 3)
        /// The instruction left an unmasked exception pending (SW.ES): the
        /// next waiting x87 instruction must raise #MF (or assert FERR#).
        public static let exceptionPending = Effects(rawValue: 1 << 4)
        /// FLDENV/FNSTENV/FRSTOR/FNSAVE: call the block functions instead.
        public static let usesBlockOperand = Effects(rawValue: 1 << 5)
    }

    public var effects: Effects
    public var eflags: UInt32
    public var ax: UInt16

    @inline(__always)
    public init(_ effects: Effects = [], eflags: UInt32 = 0, ax: UInt16 = 0) {
        self.effects = effects
        self.eflags = eflags
        self.ax = ax
    }
}

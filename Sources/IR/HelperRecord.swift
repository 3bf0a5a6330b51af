/// Several small fields a helper takes as one argument: a plain struct of at
/// most 8 bytes, with no padding between its fields, passed in a 64-bit
/// argument register as its own bytes. The translator builds the struct and
/// passes `word` (a constant, so generated code just loads an immediate);
/// the helper rebuilds it with `init(word:)` and reads its fields. No call
/// site shifts or masks fields into place by hand, and a field added to a
/// record reaches both sides.
public protocol HelperRecord: BitwiseCopyable {}

extension HelperRecord {
    /// The record's bytes, little-endian in the low bytes of the word; the
    /// bytes past its size are zero.
    @inline(__always)
    public var word: UInt64 {
        precondition(MemoryLayout<Self>.size <= MemoryLayout<UInt64>.size, "a helper record fits one argument register")
        var word: UInt64 = 0
        withUnsafeMutableBytes(of: &word) { $0.storeBytes(of: self, as: Self.self) }
        return word
    }

    /// The record a helper received as `word`.
    @inline(__always)
    public init(word: UInt64) {
        precondition(MemoryLayout<Self>.size <= MemoryLayout<UInt64>.size, "a helper record fits one argument register")
        self = withUnsafeBytes(of: word) { $0.load(as: Self.self) }
    }
}

extension IRBuilder {
    /// A helper record as the i64 constant a call passes.
    public func constant<Record: HelperRecord>(record: Record) -> Temp {
        constant(record.word, .i64)
    }
}

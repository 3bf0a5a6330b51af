/// What a forward pass knows about each temp at the current op: a known
/// constant, or a copy of another temp. Facts are kept in arrays indexed by
/// temp number; a fact is dropped cheaply by bumping a counter instead of
/// searching for the temps it mentions:
/// - every write to a temp bumps its `version`, so copies made of it before
///   (which recorded the old version) stop being valid;
/// - a label bumps `epoch`, dropping every fact at once, since control may
///   arrive there from elsewhere.
struct TempFacts {
    private enum Kind: UInt8 { case unknown, constant, copy }

    /// Everything known about one temp, together: one allocation per pass.
    private struct Fact {
        var value: UInt64 = 0
        var sourceVersion: UInt32 = 0
        var version: UInt32 = 0
        var epoch: UInt32 = 0
        var source: Temp = .none
        var kind: Kind = .unknown
    }

    private var facts: [Fact]
    private var epoch: UInt32 = 1

    private var globalCount: Int

    init(_ block: IRBlock) {
        facts = Array(repeating: Fact(), count: block.tempCount)
        globalCount = block.globalCount
    }

    /// No facts, no storage (a pass's workspace before its first block).
    init() {
        facts = []
        globalCount = 0
    }

    /// Nothing known about any temp of `block`, in the storage of the
    /// previous block's facts.
    mutating func reset(for block: IRBlock) {
        facts.resetAll(to: Fact(), count: block.tempCount)
        epoch = 1
        globalCount = block.globalCount
    }

    @inline(__always)
    private func current(_ temp: Temp) -> Bool { facts[Int(temp.index)].epoch == epoch }

    /// The value `temp` is known to hold here.
    func constant(_ temp: Temp) -> UInt64? {
        guard !temp.isNone else { return nil }
        let index = Int(temp.index)
        guard facts[index].kind == .constant, current(temp) else { return nil }
        return facts[index].value
    }

    /// The oldest temp known to hold the same value as `temp` (itself if none).
    func representative(_ temp: Temp) -> Temp {
        guard !temp.isNone else { return temp }
        let index = Int(temp.index)
        guard facts[index].kind == .copy, current(temp) else { return temp }
        let origin = facts[index].source
        return facts[Int(origin.index)].version == facts[index].sourceVersion ? origin : temp
    }

    /// Whether `a` and `b` certainly hold the same value.
    func same(_ a: Temp, _ b: Temp) -> Bool {
        if representative(a) == representative(b) { return true }
        if let x = constant(a), let y = constant(b) { return x == y }
        return false
    }

    /// `temp` was written with a value nothing is known about.
    mutating func setUnknown(_ temp: Temp) {
        let index = Int(temp.index)
        facts[index].version &+= 1
        facts[index].kind = .unknown
    }

    mutating func setConstant(_ temp: Temp, _ constant: UInt64) {
        setUnknown(temp)
        let index = Int(temp.index)
        facts[index].kind = .constant
        facts[index].value = constant
        facts[index].epoch = epoch
    }

    /// `temp` was just written with `from`'s value.
    mutating func setCopy(_ temp: Temp, of from: Temp) {
        if let known = constant(from) { setConstant(temp, known); return }
        let origin = representative(from)
        setUnknown(temp)
        guard origin != temp else { return }
        let index = Int(temp.index)
        facts[index].kind = .copy
        facts[index].source = origin
        facts[index].sourceVersion = facts[Int(origin.index)].version
        facts[index].epoch = epoch
    }

    /// An op may have changed any global behind the IR's back.
    mutating func clobberGlobals() {
        for index in 0..<globalCount { setUnknown(Temp(UInt16(index))) }
    }

    /// Control may arrive from elsewhere: forget everything.
    mutating func forgetAll() { epoch &+= 1 }
}

/// A fixed-size set of temps as a bit vector, for the data-flow analyses.
/// Temps 0-127 live inline, so the sets of a usual block (a few dozen temps)
/// allocate nothing; the words for higher temps are in `more`.
struct TempSet: Equatable {
    private var low: UInt64 = 0
    private var high: UInt64 = 0
    private var more: [UInt64] = []

    init(count: Int, full: Bool = false) {
        if full {
            low = ~0
            high = ~0
        }
        let words = (count + 63) / 64
        if words > 2 { more = Array(repeating: full ? ~0 : 0, count: words - 2) }
    }

    /// A set from its 64-bit words, temp 0 in the first one's bit 0.
    init(words: ArraySlice<UInt64>) {
        var word = words.startIndex
        if word < words.endIndex { low = words[word]; word += 1 }
        if word < words.endIndex { high = words[word]; word += 1 }
        if word < words.endIndex { more = Array(words[word...]) }
    }

    /// Word `index` of the bit vector (temps 64 * index ..< 64 * index + 64).
    @inline(__always)
    func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: return low
        case 1: return high
        default: return more[index - 2]
        }
    }

    @inline(__always)
    func contains(_ temp: Temp) -> Bool {
        let index = Int(temp.index), bit = UInt64(1) << UInt64(index & 63)
        switch index >> 6 {
        case 0: return low & bit != 0
        case 1: return high & bit != 0
        case let word: return more[word - 2] & bit != 0
        }
    }

    @inline(__always)
    mutating func insert(_ temp: Temp) {
        let index = Int(temp.index), bit = UInt64(1) << UInt64(index & 63)
        switch index >> 6 {
        case 0: low |= bit
        case 1: high |= bit
        case let word: more[word - 2] |= bit
        }
    }

    @inline(__always)
    mutating func remove(_ temp: Temp) {
        let index = Int(temp.index), bit = UInt64(1) << UInt64(index & 63)
        switch index >> 6 {
        case 0: low &= ~bit
        case 1: high &= ~bit
        case let word: more[word - 2] &= ~bit
        }
    }

    /// Adds temps 0..<count (the globals).
    mutating func insertFirst(_ count: Int) {
        // Whole words at once: this runs at every op that observes the globals.
        guard count > 0 else { return }
        low |= count >= 64 ? ~0 : (1 << UInt64(count)) &- 1
        guard count > 64 else { return }
        high |= count >= 128 ? ~0 : (1 << UInt64(count - 64)) &- 1
        for index in 128..<max(128, count) { insert(Temp(UInt16(index))) }
    }

    mutating func formUnion(_ other: TempSet) {
        low |= other.low
        high |= other.high
        for index in more.indices { more[index] |= other.more[index] }
    }

    mutating func formIntersection(_ other: TempSet) {
        low &= other.low
        high &= other.high
        for index in more.indices { more[index] &= other.more[index] }
    }
}

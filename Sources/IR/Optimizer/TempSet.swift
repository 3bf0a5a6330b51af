/// A fixed-size set of temps as a bit vector, for the data-flow analyses.
struct TempSet: Equatable {
    var words: [UInt64]

    init(count: Int, full: Bool = false) {
        words = Array(repeating: full ? ~0 : 0, count: (count + 63) / 64)
    }

    init(words: [UInt64]) { self.words = words }

    @inline(__always)
    func contains(_ temp: Temp) -> Bool {
        let index = Int(temp.index)
        return words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    @inline(__always)
    mutating func insert(_ temp: Temp) {
        let index = Int(temp.index)
        words[index >> 6] |= 1 << UInt64(index & 63)
    }

    @inline(__always)
    mutating func remove(_ temp: Temp) {
        let index = Int(temp.index)
        words[index >> 6] &= ~(1 << UInt64(index & 63))
    }

    /// Adds temps 0..<count (the globals).
    mutating func insertFirst(_ count: Int) {
        var word = 0, remaining = count
        while remaining >= 64 {
            words[word] = ~0
            word += 1
            remaining -= 64
        }
        if remaining > 0 { words[word] |= (1 << UInt64(remaining)) - 1 }
    }

    mutating func formUnion(_ other: TempSet) {
        for index in words.indices { words[index] |= other.words[index] }
    }

    mutating func formIntersection(_ other: TempSet) {
        for index in words.indices { words[index] &= other.words[index] }
    }
}

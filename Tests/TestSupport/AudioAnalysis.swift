import Foundation

/// Reading and measuring recorded sound: the left channel of a WAV file, the
/// stretches of sound in it, and a tone's length, pitch and dropouts.
public enum AudioAnalysis {
    /// The left channel of a 16-bit stereo WAV file and its rate.
    public static func leftChannel(_ file: String) throws -> (samples: [Int16], rate: Int) {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        guard data.count > 44, String(decoding: data[0..<4], as: UTF8.self) == "RIFF" else {
            throw TestSetupError("\(file) is not a WAV file")
        }
        let rate = data[24..<28].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        // parec writes extra chunks: find "data".
        var offset = 12
        while offset + 8 <= data.count {
            let name = String(decoding: data[offset..<offset + 4], as: UTF8.self)
            let size = data[offset + 4..<offset + 8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            if name == "data" { break }
            offset += 8 + size
        }
        let body = data[(offset + 8)...]
        var samples: [Int16] = []
        samples.reserveCapacity(body.count / 4)
        var index = body.startIndex
        while index + 3 < body.endIndex {
            samples.append(Int16(bitPattern: UInt16(body[index]) | UInt16(body[index + 1]) << 8))
            index += 4
        }
        return (samples, rate)
    }

    /// The sounds in a recording: stretches with a sample above a tenth of
    /// full scale at least every 0.1 s.
    public static func sounds(_ samples: [Int16], rate: Int) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var start = -1, last = -1
        for (index, sample) in samples.enumerated() where abs(Int(sample)) > 3276 {
            if start >= 0 && index - last > rate / 10 {
                found.append(start..<last + 1)
                start = -1
            }
            if start < 0 { start = index }
            last = index
        }
        if start >= 0 { found.append(start..<last + 1) }
        return found
    }

    /// A sound's length, how often it rises through zero, and the silent gaps
    /// longer than a millisecond inside it, ignoring `margin` seconds at each end.
    /// Periods broken by a gap are left out of the frequency, so a dropout
    /// shows as a gap rather than as a lower pitch.
    public static func analyse(_ samples: [Int16], rate: Int, margin: Double = 0.2, sound: Range<Int>? = nil) -> (seconds: Double, frequency: Double, gaps: Int) {
        guard let range = sound ?? sounds(samples, rate: rate).first, range.count > 2 * Int(margin * Double(rate)) + 2 else { return (0, 0, 0) }
        let first = range.lowerBound, last = range.upperBound - 1
        let inner = (first + Int(margin * Double(rate)))..<(last - Int(margin * Double(rate)))
        var gaps = 0, quiet = 0
        var periods: [Int] = []
        var previousCrossing = -1
        for index in inner.dropFirst() {
            if samples[index - 1] < 0 && samples[index] >= 0 {
                if previousCrossing >= 0 { periods.append(index - previousCrossing) }
                previousCrossing = index
            }
            if abs(Int(samples[index])) < 300 { quiet += 1 } else { quiet = 0 }
            if quiet == rate / 1000 { gaps += 1 }
        }
        guard !periods.isEmpty else { return (Double(last - first) / Double(rate), 0, gaps) }
        let median = periods.sorted()[periods.count / 2]
        let steady = periods.filter { $0 * 2 <= median * 3 }
        let frequency = Double(steady.count) * Double(rate) / Double(steady.reduce(0, +))
        return (Double(last - first) / Double(rate), frequency, gaps)
    }
}

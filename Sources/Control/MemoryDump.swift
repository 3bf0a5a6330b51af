/// The `/NFU` format of the monitor's `x` and `xp`, as QEMU reads it: a count
/// (default 1), a format (x hex, d signed, u unsigned; default x) and a unit
/// (b, h, w, g: 1, 2, 4, 8 bytes; default w), in any order after the slash.
struct MemoryDumpFormat: Equatable {
    var count = 1
    var format: Character = "x"
    var unitBytes = 4

    init(count: Int = 1, format: Character = "x", unitBytes: Int = 4) {
        self.count = count
        self.format = format
        self.unitBytes = unitBytes
    }

    /// nil for anything else than digits and those letters.
    init?(_ text: Substring) {
        var digits = ""
        for character in text {
            switch character {
            case "0"..."9": digits.append(character)
            case "x", "d", "u": format = character
            case "b": unitBytes = 1
            case "h": unitBytes = 2
            case "w": unitBytes = 4
            case "g": unitBytes = 8
            default: return nil
            }
        }
        if !digits.isEmpty {
            guard let value = Int(digits), value > 0, value <= 4096 else { return nil }
            count = value
        }
    }

    /// The lines QEMU prints for `values` read from `address` on: the
    /// address (16 digits for physical, 8 for an i386 linear one), then 8 bytes' worth of values a line (16 for units above a byte).
    func lines(address: UInt64, values: [UInt64], addressDigits: Int = 16) -> [String] {
        let perLine = (unitBytes == 1 ? 8 : 16) / unitBytes
        var lines: [String] = []
        var index = 0
        while index < values.count {
            let lineAddress = address &+ UInt64(index * unitBytes)
            var line = MemoryDumpFormat.hex(lineAddress, digits: addressDigits) + ":"
            for value in values[index..<min(index + perLine, values.count)] { line += " " + formatted(value) }
            lines.append(line)
            index += perLine
        }
        return lines
    }

    private func formatted(_ value: UInt64) -> String {
        switch format {
        case "d":
            let shift = UInt64(64 - unitBytes * 8)
            return String(Int64(bitPattern: value << shift) >> Int64(shift))
        case "u": return String(value)
        default: return "0x" + MemoryDumpFormat.hex(value, digits: unitBytes * 2)
        }
    }

    static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

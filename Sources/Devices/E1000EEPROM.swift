/// The 82540EM's serial EEPROM: 64 words of Microwire (93C46-style) behind
/// the EECD register's clock, select and data bits, as Linux's e1000 driver
/// bit-bangs it, and the EERD register's one-step reads. Holds the MAC
/// address in words 0-2 and a checksum word so that all 64 add to 0xBABA.
public struct E1000EEPROM {
    public static let wordCount = 64
    static let addressBits = 6
    static let checksumTotal: UInt16 = 0xBABA
    static let checksumWord = 0x3F
    /// Microwire's READ: a start bit, then opcode 10.
    static let readCommand: UInt32 = 0b110

    enum EECD {
        static let clock: UInt32 = 1 << 0
        static let chipSelect: UInt32 = 1 << 1
        static let dataIn: UInt32 = 1 << 2
        static let dataOut: UInt32 = 1 << 3
        static let request: UInt32 = 1 << 6
        static let grant: UInt32 = 1 << 7
        static let present: UInt32 = 1 << 8
        /// What software keeps: the pins it drives and the request.
        static let writable: UInt32 = clock | chipSelect | dataIn | request
    }

    enum EERD {
        static let start: UInt32 = 1 << 0
        static let done: UInt32 = 1 << 4
        static let addressShift: UInt32 = 8
        static let dataShift: UInt32 = 16
    }

    public internal(set) var words: [UInt16]
    /// The EECD bits software last wrote.
    var pins: UInt32 = 0
    var dataOut = false
    /// Bits clocked in since chip select went high.
    var command: UInt32 = 0
    var commandBits = 0
    /// While a read shifts out: the word and how many of its bits went.
    var reading: UInt16?
    var bitsOut = 0

    /// An image with `mac` in words 0-2, "not fitted" (0xFFFF) elsewhere but
    /// the words Linux reads for settings, which say "nothing special" (0),
    /// and the checksum.
    public init(mac: [UInt8]) {
        words = Array(repeating: 0xFFFF, count: E1000EEPROM.wordCount)
        for index in 0..<3 { words[index] = UInt16(mac[2 * index]) | UInt16(mac[2 * index + 1]) << 8 }
        // Initialization control words 1-3 and the LED settings: defaults.
        for index in [0x04, 0x0A, 0x0F, 0x24] { words[index] = 0 }
        var sum: UInt16 = 0
        for index in 0..<E1000EEPROM.checksumWord { sum &+= words[index] }
        words[E1000EEPROM.checksumWord] = E1000EEPROM.checksumTotal &- sum
    }

    /// EECD as software reads it: its pins, the grant (always given), the data out.
    public var eecd: UInt32 {
        var value = pins | EECD.present
        if pins & EECD.request != 0 { value |= EECD.grant }
        if dataOut { value |= EECD.dataOut }
        return value
    }

    /// Software drives the pins: a rising clock with chip select high moves one bit.
    public mutating func writeEECD(_ value: UInt32) {
        let old = pins
        pins = value & EECD.writable
        guard pins & EECD.chipSelect != 0 else {
            // Deselected: the next selection starts a new command.
            command = 0
            commandBits = 0
            reading = nil
            dataOut = false
            return
        }
        guard old & EECD.clock == 0 && pins & EECD.clock != 0 else { return }
        if let word = reading {
            // Data bits, most significant first, one per rising edge.
            dataOut = bitsOut < 16 && word & (0x8000 >> UInt16(bitsOut)) != 0
            bitsOut += 1
            return
        }
        // Leading zeros before the start bit do not count.
        if commandBits == 0 && pins & EECD.dataIn == 0 { return }
        command = command << 1 | (pins & EECD.dataIn != 0 ? 1 : 0)
        commandBits += 1
        if commandBits == 3 + E1000EEPROM.addressBits {
            if command >> E1000EEPROM.addressBits == E1000EEPROM.readCommand {
                reading = words[Int(command & UInt32(E1000EEPROM.wordCount - 1))]
                bitsOut = 0
                dataOut = false  // the dummy zero before the data
            }
            // Other commands (write, erase, their enables) are ignored: the image is read-only.
        }
    }

    /// EERD: a write with START reads the addressed word at once.
    public func readRegister(_ value: UInt32) -> UInt32 {
        guard value & EERD.start != 0 else { return value & ~EERD.done }
        let address = Int((value >> EERD.addressShift) & 0xFF)
        let word = address < E1000EEPROM.wordCount ? words[address] : 0xFFFF
        return UInt32(address) << EERD.addressShift | EERD.done | UInt32(word) << EERD.dataShift
    }
}

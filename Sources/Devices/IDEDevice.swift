import PCEmuSupport

/// Bits of the ATA status register.
public enum ATAStatus {
    public static let busy: UInt8 = 0x80
    public static let ready: UInt8 = 0x40
    public static let deviceFault: UInt8 = 0x20
    public static let seekComplete: UInt8 = 0x10
    public static let dataRequest: UInt8 = 0x08
    public static let error: UInt8 = 0x01
}

/// Bits of the ATA error register.
public enum ATAError {
    public static let badBlock: UInt8 = 0x80
    public static let uncorrectable: UInt8 = 0x40
    public static let idNotFound: UInt8 = 0x10
    public static let aborted: UInt8 = 0x04
}

/// The command block registers as one device holds them (a write reaches
/// both devices of a channel, each keeps its own copy), with the previous value of each byte kept for LBA48's
/// "high order byte" reads and addresses.
public final class TaskFile {
    public var features: UInt8 = 0
    public var sectorCount: UInt8 = 0
    public var lbaLow: UInt8 = 0
    public var lbaMid: UInt8 = 0
    public var lbaHigh: UInt8 = 0
    public var previousFeatures: UInt8 = 0
    public var previousSectorCount: UInt8 = 0
    public var previousLBALow: UInt8 = 0
    public var previousLBAMid: UInt8 = 0
    public var previousLBAHigh: UInt8 = 0
    /// Device/head: bit 4 selects device 1, bit 6 LBA addressing, bits 0-3 LBA 24-27 or the head.
    public var device: UInt8 = 0

    public static let deviceSelectBit: UInt8 = 0x10
    public static let lbaBit: UInt8 = 0x40

    var usesLBA: Bool { device & TaskFile.lbaBit != 0 }

    /// A 28-bit address from LBA low/mid/high and device bits 0-3.
    var lba28: UInt64 {
        UInt64(lbaLow) | UInt64(lbaMid) << 8 | UInt64(lbaHigh) << 16 | UInt64(device & 0x0F) << 24
    }

    var lba48: UInt64 {
        lba28 & 0xFF_FFFF | UInt64(previousLBALow) << 24 | UInt64(previousLBAMid) << 32 | UInt64(previousLBAHigh) << 40
    }

    /// Sector count 0 means 256 (or 65536 with LBA48).
    var count28: Int { sectorCount == 0 ? 256 : Int(sectorCount) }
    var count48: Int {
        let count = Int(previousSectorCount) << 8 | Int(sectorCount)
        return count == 0 ? 65536 : count
    }

    func setLBA28(_ lba: UInt64) {
        lbaLow = UInt8(truncatingIfNeeded: lba)
        lbaMid = UInt8(truncatingIfNeeded: lba >> 8)
        lbaHigh = UInt8(truncatingIfNeeded: lba >> 16)
        device = device & 0xF0 | UInt8(truncatingIfNeeded: lba >> 24) & 0x0F
    }

    func setLBA48(_ lba: UInt64) {
        lbaLow = UInt8(truncatingIfNeeded: lba)
        lbaMid = UInt8(truncatingIfNeeded: lba >> 8)
        lbaHigh = UInt8(truncatingIfNeeded: lba >> 16)
        previousLBALow = UInt8(truncatingIfNeeded: lba >> 24)
        previousLBAMid = UInt8(truncatingIfNeeded: lba >> 32)
        previousLBAHigh = UInt8(truncatingIfNeeded: lba >> 40)
    }

    /// What a device leaves after reset or EXECUTE DEVICE DIAGNOSTIC: the
    /// packet signature (0x14 0xEB) tells ATAPI devices from disks.
    func setSignature(packet: Bool) {
        sectorCount = 1
        lbaLow = 1
        lbaMid = packet ? 0x14 : 0
        lbaHigh = packet ? 0xEB : 0
        device = 0
    }

    /// A port write at command block offset 1-6: the old byte becomes the "previous" one.
    func write(_ offset: UInt16, _ value: UInt8) {
        switch offset {
        case IDEChannel.Register.errorFeatures: previousFeatures = features; features = value
        case IDEChannel.Register.sectorCount: previousSectorCount = sectorCount; sectorCount = value
        case IDEChannel.Register.lbaLow: previousLBALow = lbaLow; lbaLow = value
        case IDEChannel.Register.lbaMid: previousLBAMid = lbaMid; lbaMid = value
        case IDEChannel.Register.lbaHigh: previousLBAHigh = lbaHigh; lbaHigh = value
        default: device = value
        }
    }

    func reset() {
        features = 0; sectorCount = 0; lbaLow = 0; lbaMid = 0; lbaHigh = 0
        previousFeatures = 0; previousSectorCount = 0; previousLBALow = 0; previousLBAMid = 0; previousLBAHigh = 0
        device = 0
    }
}

/// How a device moves data by DMA: the bus master scatters bytes to, or
/// gathers them from, the guest memory its PRD table describes.
public protocol IDEDMAMover: AnyObject {
    /// Copies `bytes` to the next PRD segments; false if the table ran out.
    func toMemory(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Fills `buffer` from the next PRD segments; false if the table ran out.
    func fromMemory(_ buffer: UnsafeMutableRawBufferPointer) -> Bool
}

/// One device on an IDE channel: the status and error registers, the PIO
/// data buffer, and the command engine its subclasses (`ATADrive`,
/// `ATAPIDrive`) fill in. It knows nothing of ports or of PCI: the channel
/// hands it the task file and gives it an interrupt and a DMA request to pull.
public class IDEDevice {
    public internal(set) var status: UInt8 = 0
    public internal(set) var error: UInt8 = 0
    public let taskFile = TaskFile()
    /// Set by the channel: raise the channel's interrupt; announce a DMA transfer is ready.
    var raiseInterrupt: () -> Void = {}
    var requestDMA: () -> Void = {}

    /// The PIO buffer and the part of it the guest has yet to move.
    var buffer: [UInt8] = []
    var bufferPosition = 0
    var bufferEnd = 0
    /// Whether the guest reads the buffer (device to host) or fills it.
    var bufferIsInput = true
    /// A DMA transfer waits for the bus master to start.
    public internal(set) var dmaPending = false

    init() {}

    /// Is this a packet (ATAPI) device: its signature and IDENTIFY differ.
    var isPacketDevice: Bool { false }

    /// A command written to the command register.
    func execute(command: UInt8) {}

    /// The buffer was emptied (input) or filled (output) by the guest.
    func pioBufferDone() {}

    /// The bus master started with `dmaPending` set.
    func runDMA(_ mover: IDEDMAMover) {}

    /// Power-on, hardware reset or SRST: the signature and idle status.
    func reset() {
        taskFile.setSignature(packet: isPacketDevice)
        status = isPacketDevice ? 0 : ATAStatus.ready | ATAStatus.seekComplete
        error = 0x01  // diagnostic code: no error
        bufferPosition = 0
        bufferEnd = 0
        dmaPending = false
    }

    // MARK: Completion

    /// Ends a command without data: ready, and an interrupt.
    func completeCommand() {
        status = ATAStatus.ready | ATAStatus.seekComplete
        error = 0
        raiseInterrupt()
    }

    /// Ends a command with an error.
    func fail(_ errorBits: UInt8) {
        status = ATAStatus.ready | ATAStatus.seekComplete | ATAStatus.error
        error = errorBits
        bufferPosition = 0
        bufferEnd = 0
        dmaPending = false
        raiseInterrupt()
    }

    func abort() { fail(ATAError.aborted) }

    // MARK: PIO

    /// Offers `count` bytes of `buffer` to the guest: DRQ, and an interrupt.
    func startInput(count: Int, interrupt: Bool = true) {
        bufferPosition = 0
        bufferEnd = count
        bufferIsInput = true
        status = ATAStatus.ready | ATAStatus.seekComplete | ATAStatus.dataRequest
        if interrupt { raiseInterrupt() }
    }

    /// Asks the guest for `count` bytes. The first block of a write command
    /// raises no interrupt; later blocks do.
    func startOutput(count: Int, interrupt: Bool) {
        if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
        bufferPosition = 0
        bufferEnd = count
        bufferIsInput = false
        status = ATAStatus.ready | ATAStatus.seekComplete | ATAStatus.dataRequest
        if interrupt { raiseInterrupt() }
    }

    /// The guest reads the data port (1, 2 or 4 bytes).
    func readData(size: Int) -> UInt32 {
        guard bufferIsInput, bufferPosition < bufferEnd, status & ATAStatus.dataRequest != 0 else {
            return size == 1 ? 0xFF : (size == 2 ? 0xFFFF : 0xFFFF_FFFF)
        }
        var value: UInt32 = 0
        for i in 0..<size where bufferPosition + i < bufferEnd {
            value |= UInt32(buffer[bufferPosition + i]) << (8 * UInt32(i))
        }
        bufferPosition += size
        if bufferPosition >= bufferEnd {
            status &= ~ATAStatus.dataRequest
            pioBufferDone()
        }
        return value
    }

    func writeData(_ value: UInt32, size: Int) {
        guard !bufferIsInput, bufferPosition < bufferEnd, status & ATAStatus.dataRequest != 0 else {
            Log.write(.guestErrors, "ide: data written with no transfer under way")
            return
        }
        for i in 0..<size where bufferPosition + i < bufferEnd {
            buffer[bufferPosition + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))
        }
        bufferPosition += size
        if bufferPosition >= bufferEnd {
            status &= ~ATAStatus.dataRequest
            pioBufferDone()
        }
    }

    // MARK: IDENTIFY strings

    /// ATA strings put the first character of each pair in the high byte.
    static func putString(_ text: String, into words: inout [UInt16], at first: Int, words count: Int) {
        var characters = Array(text.utf8.prefix(count * 2))
        characters += [UInt8](repeating: UInt8(ascii: " "), count: count * 2 - characters.count)
        for i in 0..<count { words[first + i] = UInt16(characters[2 * i]) << 8 | UInt16(characters[2 * i + 1]) }
    }

    static func bytes(of words: [UInt16]) -> [UInt8] {
        words.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)] }
    }
}

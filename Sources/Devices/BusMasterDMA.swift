import Memory
import PCEmuSupport

/// The bus master IDE function's registers for one channel (SFF-8038i, as
/// in the PIIX): command (start, direction), status (active, error,
/// interrupt, drive DMA-capable bits) and the address of a table of
/// physical region descriptors in guest RAM: each eight bytes, a buffer
/// address, a byte count (0 means 64 KiB) and the end-of-table bit.
public final class BusMasterChannel: IDEDMAMover {
    public static let registerCount = 8

    enum Register {
        static let command: UInt16 = 0
        static let status: UInt16 = 2
        static let prdAddress: UInt16 = 4
    }

    enum CommandBit {
        static let start: UInt8 = 0x01
        /// Set: the device writes memory (a disk read).
        static let toMemory: UInt8 = 0x08
    }

    enum StatusBit {
        static let active: UInt8 = 0x01
        static let error: UInt8 = 0x02
        static let interrupt: UInt8 = 0x04
        static let driveCapable: UInt8 = 0x60
    }

    static let prdSize: UInt32 = 8
    static let endOfTable: UInt32 = 0x8000_0000
    /// A PRD table may not cross a 64 KiB boundary, so it holds at most this many entries.
    static let maximumPRDs = 8192

    private let memory: AddressSpace
    private let channel: IDEChannel
    /// Data moves through it; it reports what it wrote (translated code there is stale).
    private let dma: GuestMemoryDMA
    var command: UInt8 = 0
    var status: UInt8 = 0
    var prdTable: UInt32 = 0

    /// Where the walk through the PRD table stands.
    var prdIndex = 0
    var segmentAddress: UInt32 = 0
    var segmentRemaining = 0
    var tableEnded = false

    init(memory: AddressSpace, channel: IDEChannel, memoryWritten: @escaping (PhysicalAddress, Int) -> Void) {
        self.memory = memory
        self.channel = channel
        dma = GuestMemoryDMA(memory: memory, memoryWritten: memoryWritten)
        channel.busMaster = self
    }

    func reset() {
        command = 0
        status = 0
        prdTable = 0
    }

    func read(offset: UInt16, size: AccessSize) -> UInt32 {
        switch offset {
        case Register.command: return UInt32(command)
        case Register.status: return UInt32(status)
        case Register.prdAddress...(Register.prdAddress + 3):
            return (prdTable >> (8 * UInt32(offset - Register.prdAddress))) & size.mask
        default: return 0
        }
    }

    func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        switch offset {
        case Register.command:
            writeCommand(byte)
        case Register.status:
            // Error and interrupt are cleared by writing ones; the drive bits are plain storage.
            status = status & ~(byte & (StatusBit.error | StatusBit.interrupt))
            status = status & ~StatusBit.driveCapable | byte & StatusBit.driveCapable
        case Register.prdAddress...(Register.prdAddress + 3):
            let shift = 8 * UInt32(offset - Register.prdAddress)
            let mask = size.mask << shift
            prdTable = (prdTable & ~mask | (value << shift) & mask) & ~3
        default:
            break
        }
    }

    private func writeCommand(_ value: UInt8) {
        let starting = value & CommandBit.start != 0 && command & CommandBit.start == 0
        command = value & (CommandBit.start | CommandBit.toMemory)
        if value & CommandBit.start == 0 {
            status &= ~StatusBit.active
        } else if starting {
            status |= StatusBit.active
            beginTable()
            transferIfReady()
        }
    }

    /// A device raised its interrupt: the status shows it.
    func deviceInterrupted() {
        status |= StatusBit.interrupt
    }

    /// A device has a DMA command waiting; it runs now if the guest already started us.
    func deviceRequestedDMA() {
        if command & CommandBit.start != 0 && status & StatusBit.active != 0 {
            beginTable()
            transferIfReady()
        }
    }

    private func transferIfReady() {
        guard channel.runPendingDMA(self) else { return }
        // A table longer than the transfer leaves the engine active, as the hardware does.
        if tableEnded && segmentRemaining == 0 { status &= ~StatusBit.active }
    }

    // MARK: The PRD walk

    private func beginTable() {
        prdIndex = 0
        segmentRemaining = 0
        tableEnded = false
    }

    /// Loads the next descriptor; false at the end of the table.
    private func nextSegment() -> Bool {
        guard !tableEnded, prdIndex < BusMasterChannel.maximumPRDs else { return false }
        let entry = prdTable &+ UInt32(prdIndex) * BusMasterChannel.prdSize
        let address = memory.read(PhysicalAddress(entry), size: .dword)
        let control = memory.read(PhysicalAddress(entry &+ 4), size: .dword)
        prdIndex += 1
        segmentAddress = address & ~1
        segmentRemaining = Int(control & 0xFFFE)
        if segmentRemaining == 0 { segmentRemaining = 0x10000 }
        tableEnded = control & BusMasterChannel.endOfTable != 0
        return true
    }

    public func toMemory(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            if segmentRemaining == 0 && !nextSegment() { return fail() }
            let count = min(segmentRemaining, bytes.count - done)
            dma.write(segmentAddress, UnsafeRawBufferPointer(rebasing: bytes[done..<(done + count)]))
            segmentAddress &+= UInt32(count)
            segmentRemaining -= count
            done += count
        }
        return true
    }

    public func fromMemory(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        var done = 0
        while done < buffer.count {
            if segmentRemaining == 0 && !nextSegment() { return fail() }
            let count = min(segmentRemaining, buffer.count - done)
            dma.read(segmentAddress, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + count)]))
            segmentAddress &+= UInt32(count)
            segmentRemaining -= count
            done += count
        }
        return true
    }

    private func fail() -> Bool {
        status = status & ~StatusBit.active | StatusBit.error
        return false
    }
}

/// The bus master I/O block of BAR4: 16 ports, the primary channel's eight then the secondary's.
final class BusMasterPorts: PortHandler {
    private let channels: [BusMasterChannel]

    init(channels: [BusMasterChannel]) {
        self.channels = channels
    }

    override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }

    override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        let index = Int(offset) / BusMasterChannel.registerCount
        guard index < channels.count else { return size.mask }
        let register = offset % UInt16(BusMasterChannel.registerCount)
        if register == BusMasterChannel.Register.prdAddress { return channels[index].read(offset: register, size: size) }
        // Narrow registers: a wider read gathers bytes.
        var value: UInt32 = 0
        for i in 0..<UInt16(size.rawValue) where register + i < UInt16(BusMasterChannel.registerCount) {
            value |= (channels[index].read(offset: register + i, size: .byte) & 0xFF) << (8 * UInt32(i))
        }
        return value
    }

    override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let index = Int(offset) / BusMasterChannel.registerCount
        guard index < channels.count else { return }
        let register = offset % UInt16(BusMasterChannel.registerCount)
        if register == BusMasterChannel.Register.prdAddress { return channels[index].write(offset: register, value: value, size: size) }
        for i in 0..<UInt16(size.rawValue) where register + i < UInt16(BusMasterChannel.registerCount) {
            let byte = (value >> (8 * UInt32(i))) & 0xFF
            if register + i >= BusMasterChannel.Register.prdAddress {
                channels[index].write(offset: register + i, value: byte, size: .byte)
            } else if register + i == BusMasterChannel.Register.command || register + i == BusMasterChannel.Register.status {
                channels[index].write(offset: register + i, value: byte, size: .byte)
            }
        }
    }
}

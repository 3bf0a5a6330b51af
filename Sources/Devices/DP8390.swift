import PCEmuSupport

/// The National DP8390 network interface controller as an NE2000 wraps it:
/// three register pages selected by CR.PS, remote DMA between the host's
/// data port and the board's buffer memory, a receive ring between PSTART
/// and PSTOP (the chip writes at CURR, the driver frees up to BNRY),
/// transmit from TPSR, the address filters (station address, multicast hash,
/// broadcast, promiscuous), ISR/IMR and the three tally counters.
///
/// The buffer memory is a flat array: the PROM (station address, each byte
/// doubled as a 16-bit board presents it, and the 0x57 NE2000 signature) at
/// 0x0000-0x001F, RAM from `memoryBase`. Every address the guest gives is
/// checked against it; outside reads 0xFF and writes are dropped.
public final class DP8390: EthernetController {
    public static let pageSize = 256
    /// QEMU's NE2000: 32 KiB of buffer RAM at 0x4000-0xBFFF.
    public static let memoryBase = 0x4000
    public static let wideMemorySize = 32 * 1024
    static let promSize = 32
    static let minimumFrame = 60
    static let maximumFrame = 1514
    static let receiveHeaderSize = 4

    /// Offsets 0x00-0x0F as each page decodes them.
    enum Register {
        static let command = 0x00
        // Page 0, read.
        static let localDMAAddress0 = 0x01, localDMAAddress1 = 0x02
        static let boundary = 0x03
        static let transmitStatus = 0x04
        static let collisions = 0x05
        static let fifo = 0x06
        static let interruptStatus = 0x07
        static let remoteDMAAddress0 = 0x08, remoteDMAAddress1 = 0x09
        /// The RTL8029's identification bytes ('P', 'C').
        static let realtekID0 = 0x0A, realtekID1 = 0x0B
        static let receiveStatus = 0x0C
        static let tally0 = 0x0D, tally1 = 0x0E, tally2 = 0x0F
        // Page 0, write.
        static let pageStart = 0x01
        static let pageStop = 0x02
        static let transmitPageStart = 0x04
        static let transmitByteCount0 = 0x05, transmitByteCount1 = 0x06
        static let remoteStartAddress0 = 0x08, remoteStartAddress1 = 0x09
        static let remoteByteCount0 = 0x0A, remoteByteCount1 = 0x0B
        static let receiveConfiguration = 0x0C
        static let transmitConfiguration = 0x0D
        static let dataConfiguration = 0x0E
        static let interruptMask = 0x0F
        // Page 1.
        static let physicalAddress0 = 0x01
        static let currentPage = 0x07
        static let multicastAddress0 = 0x08
        // Page 2, read: what page 0 writes, and the DMA pointers.
        static let remoteNextPacket = 0x03
        static let localNextPacket = 0x05
        static let addressCounterHigh = 0x06, addressCounterLow = 0x07
    }

    enum Command {
        static let stop: UInt8 = 0x01
        static let start: UInt8 = 0x02
        static let transmit: UInt8 = 0x04
        static let remoteDMAMask: UInt8 = 0x38
        static let remoteRead: UInt8 = 0x08
        static let remoteWrite: UInt8 = 0x10
        static let sendPacket: UInt8 = 0x18
        static let abortDMA: UInt8 = 0x20
        static let pageShift: UInt8 = 6
    }

    public enum Interrupt {
        public static let packetReceived: UInt8 = 0x01
        public static let packetTransmitted: UInt8 = 0x02
        public static let receiveError: UInt8 = 0x04
        public static let transmitError: UInt8 = 0x08
        public static let overwrite: UInt8 = 0x10
        public static let counterOverflow: UInt8 = 0x20
        public static let remoteDMAComplete: UInt8 = 0x40
        public static let reset: UInt8 = 0x80
        /// RST is status only: it never raises the interrupt line.
        static let maskable: UInt8 = 0x7F
    }

    enum ReceiveConfiguration {
        static let broadcast: UInt8 = 0x04
        static let multicast: UInt8 = 0x08
        static let promiscuous: UInt8 = 0x10
        static let monitor: UInt8 = 0x20
    }

    enum ReceiveStatus {
        static let intact: UInt8 = 0x01
        static let missed: UInt8 = 0x10
        static let multicastOrBroadcast: UInt8 = 0x20
    }

    enum TransmitConfiguration {
        static let loopbackMask: UInt8 = 0x06
    }

    enum TransmitStatus {
        static let transmitted: UInt8 = 0x01
    }

    enum DataConfiguration {
        static let wordTransfer: UInt8 = 0x01
    }

    /// What became of a frame offered to the receiver.
    public typealias ReceiveResult = FrameReceiveResult

    struct State {
        var command: UInt8 = Command.stop | Command.abortDMA
        /// Running: STA started it and no STP since. A command with neither
        /// bit (iPXE's page switches write 0x00 and 0x40) leaves it as it is.
        var started = false
        var pageStart: UInt8 = 0
        var pageStop: UInt8 = 0
        var boundary: UInt8 = 0
        var currentPage: UInt8 = 0
        var transmitPageStart: UInt8 = 0
        var transmitByteCount: UInt16 = 0
        var transmitStatus: UInt8 = 0
        var remoteStartAddress: UInt16 = 0
        var remoteByteCount: UInt16 = 0
        var remoteAddress: UInt16 = 0
        var interruptStatus: UInt8 = Interrupt.reset
        var interruptMask: UInt8 = 0
        var receiveConfiguration: UInt8 = 0
        var transmitConfiguration: UInt8 = 0
        var dataConfiguration: UInt8 = 0
        var receiveStatus: UInt8 = 0
        var physicalAddress = [UInt8](repeating: 0, count: 6)
        var multicastFilter = [UInt8](repeating: 0, count: 8)
        var tally = [UInt8](repeating: 0, count: 3)
        /// A frame stored or BNRY moved since the driver last acknowledged PRX.
        var receiveActivity = false
    }

    var state = State()
    var memory: [UInt8]
    public let macAddress: [UInt8]
    let memorySize: Int
    private let interrupt: InterruptLine
    /// Receives each frame the guest transmits (on the CPU thread).
    public var transmit: ([UInt8]) -> Void = { _ in }
    /// Called when the guest frees ring space or starts the receiver, so
    /// that frames held back for lack of room can be offered again.
    public var receiveSpaceFreed: () -> Void = {}
    public let name: String

    public init(name: String, macAddress: [UInt8], memorySize: Int = DP8390.wideMemorySize, interrupt: InterruptLine) {
        precondition(macAddress.count == 6)
        self.name = name
        self.macAddress = macAddress
        self.memorySize = memorySize
        self.interrupt = interrupt
        memory = [UInt8](repeating: 0, count: DP8390.memoryBase + memorySize)
        for (index, byte) in macAddress.enumerated() {
            memory[2 * index] = byte
            memory[2 * index + 1] = byte
        }
        let signature: UInt8 = 0x57
        for index in 14..<16 {
            memory[2 * index] = signature
            memory[2 * index + 1] = signature
        }
    }

    /// The board's reset: the chip stops with RST set; memory and PROM stay.
    public func reset() {
        state = State()
        updateInterrupt()
    }

    public var isWordWide: Bool { state.dataConfiguration & DataConfiguration.wordTransfer != 0 }
    var interruptStatus: UInt8 { state.interruptStatus }

    // MARK: Registers

    private var page: UInt8 { state.command >> Command.pageShift }

    public func readRegister(_ offset: Int) -> UInt8 {
        if offset == Register.command { return state.command }
        switch page {
        case 0: return readPage0(offset)
        case 1: return readPage1(offset)
        case 2: return readPage2(offset)
        default:
            Log.write(.guestErrors, "\(name): read of page 3 register 0x\(String(offset, radix: 16))")
            return 0
        }
    }

    public func writeRegister(_ offset: Int, _ value: UInt8) {
        if offset == Register.command { return writeCommand(value) }
        switch page {
        case 0: writePage0(offset, value)
        case 1: writePage1(offset, value)
        default:
            Log.write(.guestErrors, "\(name): write 0x\(String(value, radix: 16)) to page \(page) register 0x\(String(offset, radix: 16)) ignored")
        }
    }

    private func readPage0(_ offset: Int) -> UInt8 {
        switch offset {
        case Register.boundary: return state.boundary
        case Register.transmitStatus: return state.transmitStatus
        case Register.interruptStatus: return state.interruptStatus
        case Register.remoteDMAAddress0: return UInt8(truncatingIfNeeded: state.remoteAddress)
        case Register.remoteDMAAddress1: return UInt8(truncatingIfNeeded: state.remoteAddress >> 8)
        case Register.realtekID0: return 0x50
        case Register.realtekID1: return 0x43
        case Register.receiveStatus: return state.receiveStatus
        case Register.tally0, Register.tally1, Register.tally2:
            // The counters clear when read.
            let index = offset - Register.tally0
            defer { state.tally[index] = 0 }
            return state.tally[index]
        default: return 0  // CLDA, NCR, FIFO: nothing a driver relies on
        }
    }

    private func readPage1(_ offset: Int) -> UInt8 {
        switch offset {
        case Register.physicalAddress0..<Register.physicalAddress0 + 6:
            return state.physicalAddress[offset - Register.physicalAddress0]
        case Register.currentPage: return state.currentPage
        default: return state.multicastFilter[offset - Register.multicastAddress0]
        }
    }

    private func readPage2(_ offset: Int) -> UInt8 {
        switch offset {
        case Register.pageStart: return state.pageStart
        case Register.pageStop: return state.pageStop
        case Register.remoteNextPacket: return state.boundary
        case Register.transmitPageStart: return state.transmitPageStart
        case Register.localNextPacket: return state.currentPage
        case Register.addressCounterHigh: return UInt8(truncatingIfNeeded: state.remoteAddress >> 8)
        case Register.addressCounterLow: return UInt8(truncatingIfNeeded: state.remoteAddress)
        case Register.receiveConfiguration: return state.receiveConfiguration
        case Register.transmitConfiguration: return state.transmitConfiguration
        case Register.dataConfiguration: return state.dataConfiguration
        case Register.interruptMask: return state.interruptMask
        default: return 0
        }
    }

    private func writePage0(_ offset: Int, _ value: UInt8) {
        switch offset {
        case Register.pageStart: state.pageStart = value
        case Register.pageStop: state.pageStop = value
        case Register.boundary:
            state.boundary = value
            state.receiveActivity = true
            receiveSpaceFreed()
        case Register.transmitPageStart: state.transmitPageStart = value
        case Register.transmitByteCount0: state.transmitByteCount = state.transmitByteCount & 0xFF00 | UInt16(value)
        case Register.transmitByteCount1: state.transmitByteCount = state.transmitByteCount & 0x00FF | UInt16(value) << 8
        case Register.interruptStatus:
            // Writing ones acknowledges.
            var acknowledged = value
            if value & Interrupt.packetReceived != 0 {
                if state.receiveActivity && ringHoldsUnreadFrames { acknowledged &= ~Interrupt.packetReceived }
                state.receiveActivity = false
            }
            state.interruptStatus &= ~acknowledged
            updateInterrupt()
        case Register.remoteStartAddress0:
            state.remoteStartAddress = state.remoteStartAddress & 0xFF00 | UInt16(value)
            state.remoteAddress = state.remoteStartAddress
        case Register.remoteStartAddress1:
            state.remoteStartAddress = state.remoteStartAddress & 0x00FF | UInt16(value) << 8
            state.remoteAddress = state.remoteStartAddress
        case Register.remoteByteCount0: state.remoteByteCount = state.remoteByteCount & 0xFF00 | UInt16(value)
        case Register.remoteByteCount1: state.remoteByteCount = state.remoteByteCount & 0x00FF | UInt16(value) << 8
        case Register.receiveConfiguration: state.receiveConfiguration = value
        case Register.transmitConfiguration: state.transmitConfiguration = value
        case Register.dataConfiguration: state.dataConfiguration = value
        case Register.interruptMask:
            state.interruptMask = value
            updateInterrupt()
        default: break
        }
    }

    private func writePage1(_ offset: Int, _ value: UInt8) {
        switch offset {
        case Register.physicalAddress0..<Register.physicalAddress0 + 6:
            state.physicalAddress[offset - Register.physicalAddress0] = value
        case Register.currentPage:
            state.currentPage = value
        default:
            state.multicastFilter[offset - Register.multicastAddress0] = value
        }
    }

    private func writeCommand(_ value: UInt8) {
        let wasStopped = !state.started
        // TXP stays set until the transmission is done; STA and STP exclude each other.
        var command = value
        if command & Command.stop != 0 { command &= ~Command.start }
        state.command = command
        if command & Command.stop != 0 { state.started = false } else if command & Command.start != 0 { state.started = true }
        if command & Command.stop != 0 {
            // Stopping does not set RST on QEMU's board, nor clear ISR; a driver waits on RST after the reset port.
            return
        }
        switch command & Command.remoteDMAMask {
        case Command.remoteRead, Command.remoteWrite:
            state.remoteAddress = state.remoteStartAddress
            if state.remoteByteCount == 0 { completeRemoteDMA() }
        case Command.sendPacket:
            // Points the remote DMA at the packet after BNRY, its length from the header.
            let address = Int(state.boundary) << 8
            state.remoteStartAddress = UInt16(truncatingIfNeeded: address)
            state.remoteAddress = state.remoteStartAddress
            state.remoteByteCount = UInt16(readMemory(address + 2)) | UInt16(readMemory(address + 3)) << 8
        default: break
        }
        if command & Command.transmit != 0 && state.started { transmitFrame() }
        if wasStopped && state.started { receiveSpaceFreed() }
    }

    // MARK: Remote DMA (the data port)

    /// One data-port read: a byte, or 2 or 4 bytes little-endian. In word
    /// mode each DMA cycle moves a word, so a byte read takes a word and
    /// returns its low half (ne2k-pci reads the PROM so: one byte per entry).
    public func readData(size: Int) -> UInt32 {
        var value: UInt32 = 0
        for index in 0..<transferCount(size) {
            value |= UInt32(readMemory(Int(state.remoteAddress))) << (8 * UInt32(index))
            advanceRemoteDMA()
        }
        return size == 4 ? value : value & (size == 2 ? 0xFFFF : 0xFF)
    }

    private func transferCount(_ size: Int) -> Int { isWordWide && size == 1 ? 2 : size }

    public func writeData(_ value: UInt32, size: Int) {
        for index in 0..<transferCount(size) {
            writeMemory(Int(state.remoteAddress), UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))))
            advanceRemoteDMA()
        }
    }

    /// The address wraps from PSTOP to PSTART, so a driver can read a
    /// packet that crosses the end of the ring in one transfer.
    private func advanceRemoteDMA() {
        guard state.remoteByteCount > 0 else { return }
        state.remoteAddress &+= 1
        if state.pageStop > state.pageStart && state.remoteAddress == UInt16(state.pageStop) << 8 {
            state.remoteAddress = UInt16(state.pageStart) << 8
        }
        state.remoteByteCount -= 1
        if state.remoteByteCount == 0 { completeRemoteDMA() }
    }

    private func completeRemoteDMA() {
        state.interruptStatus |= Interrupt.remoteDMAComplete
        updateInterrupt()
    }

    private func readMemory(_ address: Int) -> UInt8 {
        if address < DP8390.promSize { return memory[address] }
        guard address >= DP8390.memoryBase && address < memory.count else { return 0xFF }
        return memory[address]
    }

    private func writeMemory(_ address: Int, _ value: UInt8) {
        guard address >= DP8390.memoryBase && address < memory.count else {
            Log.write(.guestErrors, "\(name): remote DMA write outside buffer memory at 0x\(String(address, radix: 16))")
            return
        }
        memory[address] = value
    }

    // MARK: Transmit

    private func transmitFrame() {
        let start = Int(state.transmitPageStart) << 8
        let length = min(Int(state.transmitByteCount), DP8390.maximumFrame + 4)
        defer {
            state.command &= ~Command.transmit
            updateInterrupt()
        }
        guard start >= DP8390.memoryBase, start + length <= memory.count, length > 0 else {
            Log.write(.guestErrors, "\(name): transmit of \(state.transmitByteCount) bytes at page 0x\(String(state.transmitPageStart, radix: 16)) outside buffer memory")
            state.transmitStatus = 0
            state.interruptStatus |= Interrupt.transmitError
            return
        }
        let frame = Array(memory[start..<start + length])
        state.transmitStatus = TransmitStatus.transmitted
        state.interruptStatus |= Interrupt.packetTransmitted
        if state.transmitConfiguration & TransmitConfiguration.loopbackMask != 0 {
            _ = receive(frame)
        } else {
            transmit(frame)
        }
    }

    // MARK: Receive

    /// Whether the receiver would accept a frame of `length` bytes now.
    public func hasRoom(forFrameOf length: Int) -> Bool {
        guard let ring = validRing() else { return false }
        return freeBytes(in: ring) > max(length, DP8390.minimumFrame) + DP8390.receiveHeaderSize
    }

    private func validRing() -> (start: Int, stop: Int)? {
        let start = Int(state.pageStart) << 8, stop = Int(state.pageStop) << 8
        guard start >= DP8390.memoryBase, stop <= memory.count, start < stop,
              Int(state.currentPage) << 8 >= start, Int(state.currentPage) << 8 < stop else { return nil }
        return (start, stop)
    }

    /// Bytes from CURR up to BNRY around the ring (equal pointers: empty, as QEMU's board reads them).
    private func freeBytes(in ring: (start: Int, stop: Int)) -> Int {
        let current = Int(state.currentPage) << 8, boundary = Int(state.boundary) << 8
        if current < boundary { return boundary - current }
        return (ring.stop - ring.start) - (current - boundary)
    }

    /// Whether frames lie between BNRY + 1 and CURR, the datasheet's
    /// convention (BNRY one page behind the next packet to read).
    ///
    /// A driver acknowledges PRX after its last look at CURR; a frame that
    /// arrives in between would wait, unannounced, for the next one, and
    /// frames held back for a full ring never come. So an acknowledgement
    /// leaves PRX set while the ring still holds frames, but only once per
    /// burst of activity (a frame stored or BNRY moved since the previous
    /// acknowledgement), so a driver keeping BNRY at the next packet costs
    /// at most one extra interrupt.
    private var ringHoldsUnreadFrames: Bool {
        guard validRing() != nil else { return false }
        var next = Int(state.boundary) + 1
        if next >= Int(state.pageStop) { next = Int(state.pageStart) }
        return next != Int(state.currentPage)
    }

    /// Offers one frame from the wire.
    public func receive(_ frame: [UInt8]) -> ReceiveResult {
        guard state.started else { return .noRoom }
        guard frame.count >= 6, frame.count <= DP8390.maximumFrame + 4 else { return .filtered }
        guard let group = accepts(frame) else { return .filtered }
        if state.receiveConfiguration & ReceiveConfiguration.monitor != 0 { return .filtered }
        guard let ring = validRing() else {
            Log.write(.guestErrors, "\(name): receive ring PSTART 0x\(String(state.pageStart, radix: 16)) PSTOP 0x\(String(state.pageStop, radix: 16)) CURR 0x\(String(state.currentPage, radix: 16)) is not in buffer memory")
            return .noRoom
        }
        let length = max(frame.count, DP8390.minimumFrame)
        let total = length + DP8390.receiveHeaderSize
        guard freeBytes(in: ring) > total else { return .noRoom }

        let start = Int(state.currentPage) << 8
        let pages = (total + DP8390.pageSize - 1) / DP8390.pageSize
        var next = Int(state.currentPage) + pages
        if next >= Int(state.pageStop) { next -= Int(state.pageStop) - Int(state.pageStart) }
        let status = ReceiveStatus.intact | (group ? ReceiveStatus.multicastOrBroadcast : 0)
        var address = start
        func put(_ byte: UInt8) {
            memory[address] = byte
            address += 1
            if address == ring.stop { address = ring.start }
        }
        put(status)
        put(UInt8(next))
        put(UInt8(truncatingIfNeeded: total))
        put(UInt8(truncatingIfNeeded: total >> 8))
        for byte in frame { put(byte) }
        for _ in frame.count..<length { put(0) }

        state.currentPage = UInt8(next)
        state.receiveActivity = true
        state.receiveStatus = status
        state.interruptStatus |= Interrupt.packetReceived
        updateInterrupt()
        return .stored
    }

    /// A frame the receiver had to drop: the missed-packet tally counts it.
    public func recordMissedFrame() {
        state.receiveStatus = ReceiveStatus.missed
        count(tally: 2)
    }

    private func count(tally index: Int) {
        if state.tally[index] < 0xFF { state.tally[index] += 1 }
        if state.tally[index] & 0x80 != 0 {
            state.interruptStatus |= Interrupt.counterOverflow
            updateInterrupt()
        }
    }

    /// nil when the frame is not for this station; otherwise whether it is
    /// a group (multicast or broadcast) frame.
    private func accepts(_ frame: [UInt8]) -> Bool? {
        let configuration = state.receiveConfiguration
        let isGroup = frame[0] & 1 != 0
        if configuration & ReceiveConfiguration.promiscuous != 0 { return isGroup }
        if frame[0..<6].allSatisfy({ $0 == 0xFF }) {
            return configuration & ReceiveConfiguration.broadcast != 0 ? true : nil
        }
        if isGroup {
            guard configuration & ReceiveConfiguration.multicast != 0 else { return nil }
            let bit = DP8390.multicastHashIndex(frame[0..<6])
            return state.multicastFilter[bit >> 3] & (1 << (bit & 7)) != 0 ? true : nil
        }
        return frame[0..<6].elementsEqual(state.physicalAddress) ? false : nil
    }

    /// The filter bit of a group address: the top six bits of the
    /// Ethernet CRC-32 of the address, computed most significant bit first.
    static func multicastHashIndex(_ address: ArraySlice<UInt8>) -> Int {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in address {
            var value = byte
            for _ in 0..<8 {
                let carry = (crc >> 31) ^ UInt32(value & 1)
                crc <<= 1
                value >>= 1
                if carry != 0 { crc ^= 0x04C1_1DB7 }
            }
        }
        return Int(crc >> 26)
    }

    // MARK: Interrupt

    func updateInterrupt() {
        interrupt.set(state.interruptStatus & state.interruptMask & Interrupt.maskable != 0)
    }

    /// The reset port: the chip stops and reports RST.
    public func boardReset() {
        state.command = Command.stop | Command.abortDMA
        state.interruptStatus |= Interrupt.reset
        updateInterrupt()
    }
}

import Memory
import PCEmuSupport
import Timing

/// The Intel 82540EM gigabit Ethernet controller (8086:100E, QEMU's e1000):
/// registers in a 128 KiB memory BAR (and through an I/O window in BAR 1),
/// descriptor rings in guest memory for transmit (legacy, context and data
/// descriptors, with checksum insertion and TCP segmentation) and receive
/// (address filters, multicast table), interrupt causes with a mask and
/// moderation by ITR, the EEPROM and the PHY. Every descriptor address and
/// length the guest gives goes through `GuestMemoryDMA` and is bounded.
public final class E1000: PCIDevice, EthernetController {
    public static let vendorID: UInt16 = 0x8086
    public static let deviceID: UInt16 = 0x100E
    static let ethernetClass: UInt32 = 0x02_00_00
    public static let registerBytes: UInt32 = 0x20000
    public static let ioWindowBytes: UInt32 = 0x40
    /// The largest frame a transmit may gather (TSO's 64 KiB and a header).
    static let maximumTransmitBytes = 0x10000 + 256
    /// Bytes one pass over the transmit ring may gather and send before the
    /// rest waits for a timer: a ring of absurd descriptors (64 KiB each, TSO
    /// into one-byte segments) then costs the CPU thread milliseconds per
    /// pass, not seconds. Linux's whole ring of 64 KiB TSO frames fits.
    static let transmitPassBudget = 32 << 20
    /// How long the rest of such a ring waits (guest nanoseconds).
    static let transmitContinuationDelay: Int64 = 20_000

    enum Register {
        static let control: UInt32 = 0x0000, status: UInt32 = 0x0008, eecd: UInt32 = 0x0010, eerd: UInt32 = 0x0014
        static let extendedControl: UInt32 = 0x0018, mdic: UInt32 = 0x0020
        static let interruptCause: UInt32 = 0x00C0, interruptThrottle: UInt32 = 0x00C4, interruptSet: UInt32 = 0x00C8
        static let interruptMaskSet: UInt32 = 0x00D0, interruptMaskClear: UInt32 = 0x00D8
        static let receiveControl: UInt32 = 0x0100, transmitControl: UInt32 = 0x0400
        static let receiveBaseLow: UInt32 = 0x2800, receiveBaseHigh: UInt32 = 0x2804, receiveLength: UInt32 = 0x2808
        static let receiveHead: UInt32 = 0x2810, receiveTail: UInt32 = 0x2818
        static let transmitBaseLow: UInt32 = 0x3800, transmitBaseHigh: UInt32 = 0x3804, transmitLength: UInt32 = 0x3808
        static let transmitHead: UInt32 = 0x3810, transmitTail: UInt32 = 0x3818
        static let statisticsStart: UInt32 = 0x4000, statisticsEnd: UInt32 = 0x4100
        static let multicastTable: UInt32 = 0x5200, receiveAddresses: UInt32 = 0x5400
        static let packetBufferAllocation: UInt32 = 0x1000
    }

    /// Statistics counters (clear on read), as offsets from 0x4000.
    enum Statistic {
        static let missedPackets: UInt32 = 0x010
        static let goodPacketsReceived: UInt32 = 0x074, broadcastReceived: UInt32 = 0x078, multicastReceived: UInt32 = 0x07C
        static let goodPacketsTransmitted: UInt32 = 0x080
        static let goodOctetsReceivedLow: UInt32 = 0x088, goodOctetsTransmittedLow: UInt32 = 0x090
        static let totalOctetsReceivedLow: UInt32 = 0x0C0, totalOctetsTransmittedLow: UInt32 = 0x0C8
        static let totalPacketsReceived: UInt32 = 0x0D0, totalPacketsTransmitted: UInt32 = 0x0D4
    }

    enum Control {
        static let setLinkUp: UInt32 = 1 << 6
        static let reset: UInt32 = 1 << 26
        static let phyReset: UInt32 = 1 << 31
    }

    enum Status {
        static let fullDuplex: UInt32 = 1 << 0
        static let linkUp: UInt32 = 1 << 1
        static let speed1000: UInt32 = 1 << 7
    }

    /// Interrupt causes (ICR, ICS, IMS, IMC).
    public enum Cause {
        public static let transmitDescriptorWritten: UInt32 = 1 << 0
        public static let transmitQueueEmpty: UInt32 = 1 << 1
        public static let linkStatusChange: UInt32 = 1 << 2
        public static let receiveDescriptorMinimum: UInt32 = 1 << 4
        public static let receiveOverrun: UInt32 = 1 << 6
        public static let receiveTimer: UInt32 = 1 << 7
        static let all: UInt32 = 0x0001_FFFF
    }

    enum MDIC {
        static let registerShift: UInt32 = 16, phyShift: UInt32 = 21
        static let write: UInt32 = 1 << 26, read: UInt32 = 1 << 27
        static let ready: UInt32 = 1 << 28, error: UInt32 = 1 << 30
    }

    enum ReceiveControl {
        static let enable: UInt32 = 1 << 1
        static let unicastPromiscuous: UInt32 = 1 << 3, multicastPromiscuous: UInt32 = 1 << 4
        static let descriptorMinimumShift: UInt32 = 8
        static let multicastOffsetShift: UInt32 = 12
        static let broadcastAccept: UInt32 = 1 << 15
        static let bufferSizeShift: UInt32 = 16
        static let bufferSizeExtension: UInt32 = 1 << 25
        static let stripCRC: UInt32 = 1 << 26
    }

    enum TransmitControl {
        static let enable: UInt32 = 1 << 1
    }

    /// Bits of a transmit descriptor's command byte (bits 24-31 of its second dword).
    enum TransmitCommand {
        static let endOfPacket: UInt8 = 1 << 0
        static let insertChecksum: UInt8 = 1 << 2
        static let reportStatus: UInt8 = 1 << 3
        static let reportPacketSent: UInt8 = 1 << 4
        static let extended: UInt8 = 1 << 5
        // In a context descriptor's TUCMD.
        static let tcp: UInt8 = 1 << 0, ipv4: UInt8 = 1 << 1, segmentation: UInt8 = 1 << 2
    }

    enum Descriptor {
        static let size: UInt32 = 16
        static let done: UInt8 = 1 << 0
        static let endOfPacket: UInt8 = 1 << 1
        /// Receive: "ignore checksum indication", no offloaded checksum claimed.
        static let ignoreChecksum: UInt8 = 1 << 2
        /// A data descriptor's type (bits 20-23 of its second dword); 0 is a context descriptor.
        static let dataType: UInt32 = 1
        /// POPTS of a data descriptor: insert the IP and the TCP/UDP checksum.
        static let insertIPChecksum: UInt8 = 1 << 0, insertTransportChecksum: UInt8 = 1 << 1
    }

    let clock: VirtualClock
    let scheduler: EventScheduler
    private let dma: GuestMemoryDMA
    public let macAddress: [UInt8]
    /// Frames going out; set by the machine.
    public var transmit: ([UInt8]) -> Void = { _ in }
    /// Called when the guest gives the receiver descriptors or enables it.
    public var receiveSpaceFreed: () -> Void = {}

    var registers: [UInt32]
    var eeprom: E1000EEPROM
    var phy = E1000PHY()
    /// The I/O window's address register (BAR 1: IOADDR at 0, IODATA at 4).
    var ioAddress: UInt32 = 0
    // Transmit state between descriptors: the frame being gathered and the offload context.
    var pending: [UInt8] = []
    var context = E1000Offload.Context()
    var pendingSegmentation = false
    var pendingChecksums: (ip: Bool, transport: Bool) = (false, false)
    // Interrupt moderation: when the line last rose, and the timer that raises it later.
    var lastInterruptTime: Int64 = Int64.min / 2
    var moderationTimer: TimerEvent!
    /// Runs the rest of a transmit ring a pass left (its budget spent).
    var transmitTimer: TimerEvent!
    /// Set while the rings are walked: a descriptor's DMA that lands on the
    /// card's own registers (a guest pointing a ring or buffer at BAR 0)
    /// must not walk them again from inside.
    private var transmitting = false
    private var receiving = false

    public lazy var registerWindow = RegisterWindow(card: self)
    public lazy var ioWindow = IOWindow(card: self)

    /// Where BAR 0 (registers) and BAR 1 (I/O window) go; set by the machine.
    public var registersMoved: (_ old: UInt32?, _ new: UInt32?) -> Void = { _, _ in }
    public var ioMoved: (_ old: UInt16?, _ new: UInt16?) -> Void = { _, _ in }

    public init(macAddress: [UInt8], memory: AddressSpace, memoryWritten: @escaping (PhysicalAddress, Int) -> Void,
                clock: VirtualClock, scheduler: EventScheduler) {
        self.macAddress = macAddress
        self.clock = clock
        self.scheduler = scheduler
        dma = GuestMemoryDMA(memory: memory, memoryWritten: memoryWritten)
        eeprom = E1000EEPROM(mac: macAddress)
        registers = [UInt32](repeating: 0, count: Int(E1000.registerBytes / 4))
        super.init(name: "e1000", vendorID: E1000.vendorID, deviceID: E1000.deviceID, revision: 3,
                   classCode: E1000.ethernetClass, interruptPin: 1)
        setConfig(PCIConfig.subsystemVendorID, word: E1000.vendorID)
        setConfig(PCIConfig.subsystemID, word: 0x001E)
        defineBAR(0, size: E1000.registerBytes, kind: .memory32(prefetchable: false))
        defineBAR(1, size: E1000.ioWindowBytes, kind: .io)
        moderationTimer = TimerEvent(name: "e1000-itr") { [unowned self] in self.updateInterrupt() }
        transmitTimer = TimerEvent(name: "e1000-tx") { [unowned self] in self.transmitPending() }
        barMoved = { [unowned self] _, bar, _, old, new in
            if bar == 0 { self.registersMoved(old, new) } else {
                self.ioMoved(old.map { UInt16(truncatingIfNeeded: $0) }, new.map { UInt16(truncatingIfNeeded: $0) })
            }
        }
        resetRegisters()
    }

    public override var busParts: [AnyObject] { [self, registerWindow, ioWindow] }

    public override func reset() {
        resetRegisters()
        super.reset()
    }

    /// The power-on and software-reset state: link up, the MAC in receive address 0.
    private func resetRegisters() {
        scheduler.cancel(moderationTimer)
        scheduler.cancel(transmitTimer)
        registers = [UInt32](repeating: 0, count: Int(E1000.registerBytes / 4))
        phy.reset()
        pending = []
        context = E1000Offload.Context()
        set(Register.status, Status.fullDuplex | Status.linkUp | Status.speed1000)
        set(Register.control, Control.setLinkUp | 1 /* full duplex */)
        set(Register.packetBufferAllocation, 0x0010_0030)
        let mac = macAddress.map(UInt32.init)
        set(Register.receiveAddresses, mac[0] | mac[1] << 8 | mac[2] << 16 | mac[3] << 24)
        set(Register.receiveAddresses + 4, mac[4] | mac[5] << 8 | 1 << 31)
        setINTx(false)
    }

    @inline(__always) func get(_ register: UInt32) -> UInt32 { registers[Int(register >> 2)] }
    @inline(__always) func set(_ register: UInt32, _ value: UInt32) { registers[Int(register >> 2)] = value }

    // MARK: register access

    func readRegister(_ offset: UInt32) -> UInt32 {
        let register = offset & ~3
        switch register {
        case Register.eecd: return eeprom.eecd
        case Register.interruptCause:
            // Reading clears every cause and drops the line.
            let value = get(Register.interruptCause)
            set(Register.interruptCause, 0)
            updateInterrupt()
            return value
        case Register.interruptMaskSet: return get(Register.interruptMaskSet)
        case Register.interruptSet, Register.interruptMaskClear: return 0
        case Register.statisticsStart..<Register.statisticsEnd:
            let value = get(register)
            set(register, 0)
            return value
        default:
            return register < E1000.registerBytes ? get(register) : 0
        }
    }

    func writeRegister(_ offset: UInt32, _ value: UInt32) {
        let register = offset & ~3
        switch register {
        case Register.control:
            if value & Control.reset != 0 { return resetRegisters() }
            if value & Control.phyReset != 0 { phy.reset() }
            set(register, value & ~(Control.reset | Control.phyReset))
        case Register.status:
            break  // read-only
        case Register.eecd:
            eeprom.writeEECD(value)
        case Register.eerd:
            set(register, eeprom.readRegister(value))
        case Register.mdic:
            set(register, accessPHY(value))
        case Register.interruptCause:
            set(register, get(register) & ~value)
            updateInterrupt()
        case Register.interruptSet:
            raise(value & Cause.all)
        case Register.interruptMaskSet:
            set(register, (get(register) | value) & Cause.all)
            updateInterrupt()
        case Register.interruptMaskClear:
            set(Register.interruptMaskSet, get(Register.interruptMaskSet) & ~value)
            updateInterrupt()
        case Register.receiveControl:
            let wasEnabled = get(register) & ReceiveControl.enable != 0
            set(register, value)
            if !wasEnabled && value & ReceiveControl.enable != 0 { receiveSpaceFreed() }
        case Register.receiveLength, Register.transmitLength:
            // A multiple of 128 bytes (eight descriptors), below 1 MiB.
            set(register, value & 0x000F_FF80)
        case Register.receiveHead, Register.transmitHead:
            set(register, value & 0xFFFF)
        case Register.receiveTail:
            set(register, value & 0xFFFF)
            receiveSpaceFreed()
        case Register.transmitTail:
            set(register, value & 0xFFFF)
            transmitPending()
        case Register.transmitControl:
            set(register, value)
            transmitPending()
        case Register.statisticsStart..<Register.statisticsEnd:
            break  // counters: read-only
        default:
            if register < E1000.registerBytes { set(register, value) }
        }
    }

    /// MDIC: one PHY register read or write, done at once.
    private func accessPHY(_ value: UInt32) -> UInt32 {
        let phyAddress = (value >> MDIC.phyShift) & 0x1F
        let register = Int((value >> MDIC.registerShift) & 0x1F)
        guard phyAddress == E1000PHY.address else {
            return value | MDIC.ready | MDIC.error
        }
        if value & MDIC.read != 0 {
            return (value & 0xFFFF_0000) | UInt32(phy.read(register)) | MDIC.ready
        }
        if value & MDIC.write != 0 { phy.write(register, UInt16(truncatingIfNeeded: value)) }
        return value | MDIC.ready
    }

    // MARK: interrupts

    /// Records causes; the line follows ICR & IMS, paced by ITR.
    public func raise(_ causes: UInt32) {
        set(Register.interruptCause, get(Register.interruptCause) | causes)
        updateInterrupt()
    }

    /// Raises INTA# when an unmasked cause is set and the moderation interval
    /// (ITR × 256 ns) since the last rise has passed, else arms a timer for it.
    private func updateInterrupt() {
        let pending = get(Register.interruptCause) & get(Register.interruptMaskSet)
        guard pending != 0 else {
            scheduler.cancel(moderationTimer)
            return setINTx(false)
        }
        if interruptLevel { return }
        let interval = Int64(get(Register.interruptThrottle) & 0xFFFF) * 256
        let now = clock.now
        if now - lastInterruptTime < interval {
            scheduler.schedule(moderationTimer, at: lastInterruptTime + interval)
            return
        }
        lastInterruptTime = now
        setINTx(true)
    }

    // MARK: transmit

    private func ringAddress(base: UInt32) -> UInt32? {
        // Descriptors above 4 GiB are beyond this machine's memory: nothing is done with them.
        guard get(base + 4) == 0 else { return nil }
        return get(base) & ~0xF
    }

    /// Runs the transmit ring from TDH to TDT, within a pass's budget.
    private func transmitPending() {
        guard !transmitting else { return }
        transmitting = true
        defer { transmitting = false }
        guard get(Register.transmitControl) & TransmitControl.enable != 0,
              let base = ringAddress(base: Register.transmitBaseLow) else { return }
        let ringSize = get(Register.transmitLength) / Descriptor.size
        guard ringSize > 0 else { return }
        var head = get(Register.transmitHead)
        // TDT is read again after each descriptor: a write-back into the
        // card's own registers may have moved it.
        var tail = get(Register.transmitTail)
        guard head < ringSize, tail < ringSize else {
            Log.write(.guestErrors, "e1000: transmit head \(head) or tail \(tail) outside a ring of \(ringSize)")
            return
        }
        var causes: UInt32 = 0
        var budget = E1000.transmitPassBudget
        var steps: UInt32 = 0
        while head != tail {
            guard budget > 0, steps < ringSize else {
                scheduler.schedule(transmitTimer, at: clock.now + E1000.transmitContinuationDelay)
                raise(causes)
                return
            }
            steps += 1
            let address = base &+ head &* Descriptor.size
            var descriptor = dma.read(address, count: Int(Descriptor.size))
            let command = descriptor[11]
            budget -= processTransmitDescriptor(descriptor)
            if command & (TransmitCommand.reportStatus | TransmitCommand.reportPacketSent) != 0 {
                descriptor[12] |= Descriptor.done
                dma.write(address &+ 12, [descriptor[12]])
                causes |= Cause.transmitDescriptorWritten
            }
            head = (head + 1) % ringSize
            set(Register.transmitHead, head)
            tail = get(Register.transmitTail)
            guard tail < ringSize else { break }
        }
        raise(causes | Cause.transmitQueueEmpty)
    }

    /// Handles one descriptor; returns the bytes it gathered and sent (at least 1), for the pass's budget.
    private func processTransmitDescriptor(_ descriptor: [UInt8]) -> Int {
        func dword(_ at: Int) -> UInt32 {
            UInt32(descriptor[at]) | UInt32(descriptor[at + 1]) << 8 | UInt32(descriptor[at + 2]) << 16 | UInt32(descriptor[at + 3]) << 24
        }
        let bufferLow = dword(0), bufferHigh = dword(4), lower = dword(8), upper = dword(12)
        let command = UInt8(lower >> 24)
        var work = 1
        if command & TransmitCommand.extended == 0 {
            // Legacy: length, checksum offset and start; insert the checksum if IC.
            work += gather(bufferLow, bufferHigh, length: Int(lower & 0xFFFF))
            if command & TransmitCommand.endOfPacket != 0 {
                if command & TransmitCommand.insertChecksum != 0 {
                    let offset = Int((lower >> 16) & 0xFF), start = Int((upper >> 8) & 0xFF)
                    E1000Offload.insertChecksum(&pending, start: start, offset: offset, end: 0)
                }
                work += send(pending)
                pending = []
            }
            return work
        }
        if (lower >> 20) & 0xF != Descriptor.dataType {
            // Context: the offload parameters for the data descriptors that follow.
            var new = E1000Offload.Context()
            new.ipStart = Int(bufferLow & 0xFF)
            new.ipOffset = Int((bufferLow >> 8) & 0xFF)
            new.ipEnd = Int(bufferLow >> 16)
            new.transportStart = Int(bufferHigh & 0xFF)
            new.transportOffset = Int((bufferHigh >> 8) & 0xFF)
            new.transportEnd = Int(bufferHigh >> 16)
            new.payloadLength = Int(lower & 0xF_FFFF)
            new.isTCP = command & TransmitCommand.tcp != 0
            new.isIPv4 = command & TransmitCommand.ipv4 != 0
            new.segmentation = command & TransmitCommand.segmentation != 0
            new.headerLength = Int((upper >> 8) & 0xFF)
            new.segmentSize = Int(upper >> 16)
            context = new
            return work
        }
        // Data: gather; at the end of the packet apply the offloads asked for.
        let options = UInt8((upper >> 8) & 0xFF)
        if pending.isEmpty {
            pendingSegmentation = command & TransmitCommand.segmentation != 0
            pendingChecksums = (options & Descriptor.insertIPChecksum != 0, options & Descriptor.insertTransportChecksum != 0)
        }
        work += gather(bufferLow, bufferHigh, length: Int(lower & 0xF_FFFF))
        guard command & TransmitCommand.endOfPacket != 0 else { return work }
        if pendingSegmentation && context.headerLength > 0 && context.headerLength <= pending.count {
            let header = Array(pending[0..<context.headerLength])
            let payload = Array(pending[context.headerLength...])
            for frame in E1000Offload.segment(header: header, payload: payload, context: context,
                                              ipChecksum: pendingChecksums.ip, transportChecksum: pendingChecksums.transport) {
                work += send(frame)
            }
        } else {
            E1000Offload.applyChecksums(&pending, context: context, ipChecksum: pendingChecksums.ip,
                                        transportChecksum: pendingChecksums.transport)
            work += send(pending)
        }
        pending = []
        return work
    }

    /// Appends a descriptor's buffer to the frame being gathered, within bounds; returns the bytes read.
    private func gather(_ low: UInt32, _ high: UInt32, length: Int) -> Int {
        guard high == 0, length > 0 else { return 0 }
        guard pending.count + length <= E1000.maximumTransmitBytes else {
            Log.write(.guestErrors, "e1000: a transmitted frame grows past \(E1000.maximumTransmitBytes) bytes; dropped")
            pending = []
            return 0
        }
        pending += dma.read(low, count: length)
        return length
    }

    /// Hands a frame to the network; returns its length (0 if refused).
    @discardableResult
    private func send(_ frame: [UInt8]) -> Int {
        // Shorter than a header, or longer than TSO allows for one frame: not sent.
        guard frame.count >= 14, frame.count <= 0x10000 else { return 0 }
        count(Statistic.goodPacketsTransmitted, Statistic.totalPacketsTransmitted)
        addOctets(Statistic.goodOctetsTransmittedLow, frame.count)
        addOctets(Statistic.totalOctetsTransmittedLow, frame.count)
        transmit(frame)
        return frame.count
    }

    // MARK: receive

    /// The receive buffer size RCTL selects.
    private var receiveBufferSize: Int {
        let control = get(Register.receiveControl)
        let code = Int((control >> ReceiveControl.bufferSizeShift) & 3)
        if control & ReceiveControl.bufferSizeExtension != 0 && code != 0 { return [0, 16384, 8192, 4096][code] }
        return [2048, 1024, 512, 256][code]
    }

    /// Whether the filters let `frame` in: broadcast, the receive addresses,
    /// the multicast table, or a promiscuous mode.
    func accepts(_ frame: [UInt8]) -> Bool {
        let control = get(Register.receiveControl)
        let destination = Array(frame[0..<6])
        if destination.allSatisfy({ $0 == 0xFF }) { return control & ReceiveControl.broadcastAccept != 0 }
        if destination[0] & 1 != 0 {
            if control & ReceiveControl.multicastPromiscuous != 0 { return true }
            // The hash: 12 bits of the address picked by RCTL.MO.
            let shift = [4, 3, 2, 0][Int((control >> ReceiveControl.multicastOffsetShift) & 3)]
            let bits = (UInt32(destination[4]) >> UInt32(shift)) | UInt32(destination[5]) << UInt32(8 - shift)
            let hash = bits & 0xFFF
            return get(Register.multicastTable + (hash >> 5) * 4) & (1 << (hash & 31)) != 0
        }
        if control & ReceiveControl.unicastPromiscuous != 0 { return true }
        for index in 0..<UInt32(16) {
            let high = get(Register.receiveAddresses + index * 8 + 4)
            guard high & 1 << 31 != 0 else { continue }
            let low = get(Register.receiveAddresses + index * 8)
            let address = [UInt8(truncatingIfNeeded: low), UInt8(truncatingIfNeeded: low >> 8), UInt8(truncatingIfNeeded: low >> 16),
                           UInt8(truncatingIfNeeded: low >> 24), UInt8(truncatingIfNeeded: high), UInt8(truncatingIfNeeded: high >> 8)]
            if address == destination { return true }
        }
        return false
    }

    /// A frame from the network: into as many descriptors as it needs, or held.
    public func receive(_ incoming: [UInt8]) -> FrameReceiveResult {
        // A frame's DMA that reached the card's own RDT offers the next frame from inside: it waits.
        guard !receiving else { return .noRoom }
        receiving = true
        defer { receiving = false }
        guard get(Register.receiveControl) & ReceiveControl.enable != 0 else { return .noRoom }
        guard incoming.count >= 14, accepts(incoming) else { return .filtered }
        guard let base = ringAddress(base: Register.receiveBaseLow) else { return .noRoom }
        let ringSize = get(Register.receiveLength) / Descriptor.size
        var head = get(Register.receiveHead)
        let tail = get(Register.receiveTail)
        guard ringSize > 0, head < ringSize, tail < ringSize else { return .noRoom }
        // Short frames are padded to the minimum; without SECRC four CRC bytes follow.
        var frame = incoming
        if frame.count < 60 { frame += [UInt8](repeating: 0, count: 60 - frame.count) }
        if get(Register.receiveControl) & ReceiveControl.stripCRC == 0 { frame += [0, 0, 0, 0] }
        let bufferSize = receiveBufferSize
        let needed = (frame.count + bufferSize - 1) / bufferSize
        let available = Int((tail &+ ringSize &- head) % ringSize)
        guard available >= needed else {
            raise(Cause.receiveOverrun)
            return .noRoom
        }
        var offset = 0
        while offset < frame.count {
            let address = base &+ head &* Descriptor.size
            let bufferLow = dma.readDword(address), bufferHigh = dma.readDword(address &+ 4)
            let length = min(bufferSize, frame.count - offset)
            if bufferHigh == 0 {
                frame.withUnsafeBytes { dma.write(bufferLow, UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + length)])) }
            }
            let last = offset + length == frame.count
            var status = Descriptor.done | Descriptor.ignoreChecksum
            if last { status |= Descriptor.endOfPacket }
            // Length, checksum 0, status, errors 0, special 0.
            dma.writeDword(address &+ 8, UInt32(length))
            dma.writeDword(address &+ 12, UInt32(status))
            offset += length
            head = (head + 1) % ringSize
            set(Register.receiveHead, head)
        }
        count(Statistic.goodPacketsReceived, Statistic.totalPacketsReceived)
        if incoming[0] == 0xFF && incoming[1] == 0xFF { count(Statistic.broadcastReceived) } else if incoming[0] & 1 != 0 {
            count(Statistic.multicastReceived)
        }
        addOctets(Statistic.goodOctetsReceivedLow, frame.count)
        addOctets(Statistic.totalOctetsReceivedLow, frame.count)
        var causes = Cause.receiveTimer
        // Fewer free descriptors than RCTL.RDMTS's fraction of the ring.
        let left = Int((tail &+ ringSize &- head) % ringSize)
        let threshold = Int(ringSize) >> (1 + Int((get(Register.receiveControl) >> ReceiveControl.descriptorMinimumShift) & 3))
        if left <= threshold { causes |= Cause.receiveDescriptorMinimum }
        raise(causes)
        return .stored
    }

    public func recordMissedFrame() {
        count(Statistic.missedPackets)
        raise(Cause.receiveOverrun)
    }

    private func count(_ statistics: UInt32...) {
        for statistic in statistics {
            let register = Register.statisticsStart + statistic
            set(register, get(register) &+ 1)
        }
    }

    /// A 64-bit octet counter in two registers.
    private func addOctets(_ low: UInt32, _ bytes: Int) {
        let register = Register.statisticsStart + low
        let total = (UInt64(get(register + 4)) << 32 | UInt64(get(register))) &+ UInt64(bytes)
        set(register, UInt32(truncatingIfNeeded: total))
        set(register + 4, UInt32(truncatingIfNeeded: total >> 32))
    }

    // MARK: the windows the machine maps

    /// BAR 0: the registers, 32 bits wide (narrower accesses take part of one).
    public final class RegisterWindow: MMIOHandler {
        unowned let card: E1000
        init(card: E1000) { self.card = card }

        public override func read(offset: UInt32, size: AccessSize) -> UInt32 {
            let value = card.readRegister(offset)
            return (value >> ((offset & 3) * 8)) & size.mask
        }

        public override func write(offset: UInt32, value: UInt32, size: AccessSize) {
            guard size == .dword else {
                // Narrow writes merge into the register (drivers write 32 bits).
                let shift = (offset & 3) * 8
                let old = card.get(offset & ~3)
                let mask = size.mask << shift
                return card.writeRegister(offset & ~3, old & ~mask | (value << shift) & mask)
            }
            card.writeRegister(offset, value)
        }
    }

    /// BAR 1: IOADDR (offset 0) selects a register, IODATA (offset 4) reaches it.
    public final class IOWindow: PortHandler {
        unowned let card: E1000
        init(card: E1000) { self.card = card }

        public override var nativeSizes: Set<AccessSize> { [.dword] }

        public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
            switch offset {
            case 0: return card.ioAddress
            case 4: return card.readRegister(card.ioAddress & (E1000.registerBytes - 4))
            default: return 0
            }
        }

        public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
            switch offset {
            case 0: card.ioAddress = value
            case 4: card.writeRegister(card.ioAddress & (E1000.registerBytes - 4), value)
            default: break
            }
        }
    }
}

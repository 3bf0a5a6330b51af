import PCEmuSupport
import Storage

/// An ATAPI CD-ROM drive: the ATA PACKET protocol (a 12-byte SCSI command
/// written to the data port, data in chunks the guest's byte count limit
/// allows, by PIO or bus-master DMA, an interrupt reason in the sector
/// count register) and the MMC commands Linux's sr driver and SeaBIOS use.
/// Media can be changed; the next command then reports UNIT ATTENTION.
public final class ATAPIDrive: IDEDevice {
    public static let blockSize = 2048
    static let packetSize = 12
    /// Bytes per DMA burst while reading.
    static let dmaChunk = 64 * 1024

    enum ATACommand {
        static let deviceReset: UInt8 = 0x08
        static let executeDiagnostic: UInt8 = 0x90
        static let packet: UInt8 = 0xA0
        static let identifyPacket: UInt8 = 0xA1
        static let checkPowerMode: UInt8 = 0xE5
        static let setFeatures: UInt8 = 0xEF
        static let idleImmediate: UInt8 = 0xE1
        static let standbyImmediate: UInt8 = 0xE0
        static let identify: UInt8 = 0xEC
    }

    enum SCSI {
        static let testUnitReady: UInt8 = 0x00
        static let requestSense: UInt8 = 0x03
        static let inquiry: UInt8 = 0x12
        static let startStopUnit: UInt8 = 0x1B
        static let preventAllowRemoval: UInt8 = 0x1E
        static let readCapacity: UInt8 = 0x25
        static let read10: UInt8 = 0x28
        static let seek10: UInt8 = 0x2B
        static let readTOC: UInt8 = 0x43
        static let getConfiguration: UInt8 = 0x46
        static let getEventStatus: UInt8 = 0x4A
        static let modeSense10: UInt8 = 0x5A
        static let read12: UInt8 = 0xA8
        static let setCDSpeed: UInt8 = 0xBB
        static let mechanismStatus: UInt8 = 0xBD
    }

    /// Sense keys and additional sense codes.
    enum Sense {
        static let notReady: UInt8 = 0x02
        static let illegalRequest: UInt8 = 0x05
        static let unitAttention: UInt8 = 0x06
        static let mediumNotPresent: UInt8 = 0x3A
        static let mediumMayHaveChanged: UInt8 = 0x28
        static let invalidCommand: UInt8 = 0x20
        static let lbaOutOfRange: UInt8 = 0x21
        static let invalidField: UInt8 = 0x24
    }

    /// The sector count register's interrupt reason bits during PACKET.
    enum Reason {
        static let commandOrData: UInt8 = 0x01  // CoD: the packet is wanted
        static let input: UInt8 = 0x02          // IO: data goes to the host
    }

    static let cdromProfile: UInt16 = 0x0008
    static let capabilitiesPage: UInt8 = 0x2A
    static let errorRecoveryPage: UInt8 = 0x01
    static let allPages: UInt8 = 0x3F

    public private(set) var medium: BlockImage?
    let serial: String
    var sense: (key: UInt8, code: UInt8) = (0, 0)
    var mediumChanged = false
    var multiwordDMAMode: Int? = 2
    var ultraDMAMode: Int?

    /// What the current command returns: a small reply, or a run of the medium's bytes.
    struct Reply {
        var bytes: [UInt8] = []
        var mediumOffset: UInt64?
        var total = 0
        var produced = 0
        var byteCountLimit = 0xFFFE
        var useDMA = false
    }
    var reply = Reply()
    var awaitingPacket = false

    public init(medium: BlockImage?, serial: String) {
        self.medium = medium
        self.serial = serial
        super.init()
        reset()
    }

    override var isPacketDevice: Bool { true }

    /// Puts in a new disc (or takes it out): the next command reports UNIT ATTENTION.
    public func change(medium: BlockImage?) {
        self.medium = medium
        mediumChanged = true
    }

    var blockCount: UInt64 { (medium?.byteCount ?? 0) / UInt64(ATAPIDrive.blockSize) }

    override func reset() {
        super.reset()
        awaitingPacket = false
        reply = Reply()
    }

    // MARK: ATA commands

    override func execute(command: UInt8) {
        switch command {
        case ATACommand.packet:
            awaitingPacket = true
            reply = Reply()
            reply.useDMA = taskFile.features & 0x01 != 0
            let limit = Int(taskFile.lbaMid) | Int(taskFile.lbaHigh) << 8
            // Zero and odd limits are the guest's mistake; use the largest even one.
            reply.byteCountLimit = limit == 0 || limit == 0xFFFF ? 0xFFFE : limit & ~1
            taskFile.sectorCount = Reason.commandOrData
            startOutput(count: ATAPIDrive.packetSize, interrupt: false)
        case ATACommand.identifyPacket:
            buffer = identifyPacketData()
            startInput(count: buffer.count)
        case ATACommand.identify:
            // A packet device refuses IDENTIFY DEVICE and shows its signature, so drivers try 0xA1.
            taskFile.setSignature(packet: true)
            abort()
        case ATACommand.deviceReset:
            reset()
        case ATACommand.executeDiagnostic:
            reset()
            raiseInterrupt()
        case ATACommand.setFeatures:
            if taskFile.features == 0x03 {
                let mode = Int(taskFile.sectorCount)
                switch mode >> 3 {
                case 4: multiwordDMAMode = mode & 7; ultraDMAMode = nil
                case 8: ultraDMAMode = mode & 7; multiwordDMAMode = nil
                default: multiwordDMAMode = nil; ultraDMAMode = nil
                }
            }
            completeCommand()
        case ATACommand.checkPowerMode:
            taskFile.sectorCount = 0xFF
            completeCommand()
        case ATACommand.idleImmediate, ATACommand.standbyImmediate:
            completeCommand()
        default:
            Log.write(.unimplemented, "atapi: ATA command 0x\(String(command, radix: 16)) aborted")
            abort()
        }
    }

    override func pioBufferDone() {
        if awaitingPacket {
            awaitingPacket = false
            let packet = Array(buffer[0..<ATAPIDrive.packetSize])
            return run(packet: packet)
        }
        if bufferIsInput && reply.produced < reply.total {
            sendNextChunk()
        } else if bufferIsInput {
            finish()
        }
    }

    // MARK: Packet commands

    private func run(packet: [UInt8]) {
        let opcode = packet[0]
        // UNIT ATTENTION is reported once, except to commands that never report it.
        if mediumChanged && ![SCSI.inquiry, SCSI.requestSense, SCSI.getConfiguration, SCSI.getEventStatus].contains(opcode) {
            mediumChanged = false
            return checkCondition(Sense.unitAttention, Sense.mediumMayHaveChanged)
        }
        switch opcode {
        case SCSI.testUnitReady:
            guard requireMedium() else { return }
            finish()
        case SCSI.requestSense:
            var data = [UInt8](repeating: 0, count: 18)
            data[0] = 0x70      // current error, fixed format
            data[2] = sense.key
            data[7] = 10        // additional length
            data[12] = sense.code
            sense = (0, 0)
            reply(data, allocation: Int(packet[4]))
        case SCSI.inquiry:
            var data = [UInt8](repeating: 0x20, count: 36)
            data[0] = 0x05      // CD/DVD device
            data[1] = 0x80      // removable
            data[2] = 0x00
            data[3] = 0x21      // ATAPI, response data format 1
            data[4] = 31        // additional length
            data[5] = 0; data[6] = 0; data[7] = 0
            data.replaceSubrange(8..<16, with: Array("PCEmu   ".utf8))
            data.replaceSubrange(16..<32, with: Array("CD-ROM          ".utf8))
            data.replaceSubrange(32..<36, with: Array("1.0 ".utf8))
            reply(data, allocation: Int(packet[3]) << 8 | Int(packet[4]))
        case SCSI.readCapacity:
            guard requireMedium() else { return }
            var data = [UInt8](repeating: 0, count: 8)
            data.setBigEndian32(UInt32(truncatingIfNeeded: blockCount - 1), at: 0)
            data.setBigEndian32(UInt32(ATAPIDrive.blockSize), at: 4)
            reply(data, allocation: 8)
        case SCSI.read10, SCSI.read12:
            guard requireMedium() else { return }
            let lba = UInt64(packet.bigEndian32(at: 2))
            let count = opcode == SCSI.read10 ? UInt64(packet[7]) << 8 | UInt64(packet[8]) : UInt64(packet.bigEndian32(at: 6))
            guard lba + count <= blockCount else { return checkCondition(Sense.illegalRequest, Sense.lbaOutOfRange) }
            guard count > 0 else { return finish() }
            reply.mediumOffset = lba * UInt64(ATAPIDrive.blockSize)
            reply.total = Int(count) * ATAPIDrive.blockSize
            startReply()
        case SCSI.readTOC:
            guard requireMedium() else { return }
            guard let data = tableOfContents(msf: packet[1] & 0x02 != 0, format: packet[2] & 0x0F != 0 ? packet[2] & 0x0F : packet[9] >> 6) else {
                return checkCondition(Sense.illegalRequest, Sense.invalidField)
            }
            reply(data, allocation: Int(packet[7]) << 8 | Int(packet[8]))
        case SCSI.getConfiguration:
            reply(configuration(), allocation: Int(packet[7]) << 8 | Int(packet[8]))
        case SCSI.getEventStatus:
            guard packet[1] & 0x01 != 0 else { return checkCondition(Sense.illegalRequest, Sense.invalidField) }
            reply(eventStatus(classes: packet[4]), allocation: Int(packet[7]) << 8 | Int(packet[8]))
        case SCSI.modeSense10:
            guard let data = modeSense(page: packet[2] & 0x3F) else { return checkCondition(Sense.illegalRequest, Sense.invalidField) }
            reply(data, allocation: Int(packet[7]) << 8 | Int(packet[8]))
        case SCSI.mechanismStatus:
            var data = [UInt8](repeating: 0, count: 8)
            data[1] = 0  // no changer; the current slot 0
            reply(data, allocation: Int(packet[8]) << 8 | Int(packet[9]))
        case SCSI.startStopUnit, SCSI.preventAllowRemoval, SCSI.seek10, SCSI.setCDSpeed:
            finish()
        default:
            Log.write(.unimplemented, "atapi: packet command 0x\(String(opcode, radix: 16)) refused")
            checkCondition(Sense.illegalRequest, Sense.invalidCommand)
        }
    }

    private func requireMedium() -> Bool {
        guard medium != nil else {
            checkCondition(Sense.notReady, Sense.mediumNotPresent)
            return false
        }
        return true
    }

    /// The command failed: the sense is kept for REQUEST SENSE, the error register shows its key.
    private func checkCondition(_ key: UInt8, _ code: UInt8) {
        sense = (key, code)
        taskFile.sectorCount = Reason.input | Reason.commandOrData
        fail(key << 4)
    }

    /// The status phase: ready, the interrupt reason "done", an interrupt.
    private func finish() {
        taskFile.sectorCount = Reason.input | Reason.commandOrData
        sense = (0, 0)
        completeCommand()
    }

    private func reply(_ data: [UInt8], allocation: Int) {
        reply.bytes = Array(data.prefix(allocation))
        reply.total = reply.bytes.count
        guard reply.total > 0 else { return finish() }
        startReply()
    }

    private func startReply() {
        reply.produced = 0
        if reply.useDMA {
            dmaPending = true
            status = ATAStatus.ready | ATAStatus.seekComplete | ATAStatus.dataRequest
            taskFile.sectorCount = Reason.input
            requestDMA()
        } else {
            sendNextChunk()
        }
    }

    /// Fills `buffer` with the next `count` bytes of the reply.
    private func produce(_ count: Int, into target: UnsafeMutableRawBufferPointer) throws {
        if let offset = reply.mediumOffset, let medium {
            try medium.read(into: target, at: offset + UInt64(reply.produced))
        } else {
            reply.bytes.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[reply.produced..<(reply.produced + count)])) }
        }
        reply.produced += count
    }

    /// One DRQ block of PIO data: at most the byte count limit.
    private func sendNextChunk() {
        let count = min(reply.byteCountLimit, reply.total - reply.produced)
        if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
        do {
            try buffer.withUnsafeMutableBytes { try produce(count, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count])) }
        } catch {
            Log.emit("pcemu: \(error)")
            return checkCondition(0x03, 0x11)  // medium error, unrecovered read error
        }
        taskFile.lbaMid = UInt8(truncatingIfNeeded: count)
        taskFile.lbaHigh = UInt8(truncatingIfNeeded: count >> 8)
        taskFile.sectorCount = Reason.input
        startInput(count: count)
    }

    override func runDMA(_ mover: IDEDMAMover) {
        guard dmaPending else { return }
        dmaPending = false
        if buffer.count < ATAPIDrive.dmaChunk { buffer = [UInt8](repeating: 0, count: ATAPIDrive.dmaChunk) }
        while reply.produced < reply.total {
            let count = min(ATAPIDrive.dmaChunk, reply.total - reply.produced)
            do {
                let moved = try buffer.withUnsafeMutableBytes { bytes -> Bool in
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<count])
                    try produce(count, into: chunk)
                    return mover.toMemory(UnsafeRawBufferPointer(chunk))
                }
                guard moved else {
                    Log.write(.guestErrors, "atapi: the PRD table is shorter than the transfer")
                    return abort()
                }
            } catch {
                Log.emit("pcemu: \(error)")
                return checkCondition(0x03, 0x11)
            }
        }
        finish()
    }

    // MARK: Replies

    /// READ TOC formats 0 (tracks: one data track and the lead-out) and 1 (sessions).
    private func tableOfContents(msf: Bool, format: UInt8) -> [UInt8]? {
        func address(_ lba: UInt64) -> [UInt8] {
            guard msf else { return Array(withUnsafeBytes(of: UInt32(truncatingIfNeeded: lba).bigEndian) { Array($0) }) }
            let frames = lba + 150  // MSF addresses count the 2-second pregap
            return [0, UInt8(frames / (60 * 75)), UInt8(frames / 75 % 60), UInt8(frames % 75)]
        }
        switch format {
        case 0:
            var data: [UInt8] = [0, 0, 1, 1]
            data += [0, 0x14, 1, 0] + address(0)             // track 1: data, ADR 1
            data += [0, 0x16, 0xAA, 0] + address(blockCount)  // the lead-out
            data.setBigEndian16(UInt16(data.count - 2), at: 0)
            return data
        case 1:
            var data: [UInt8] = [0, 0x0A, 1, 1]
            data += [0, 0x14, 1, 0] + address(0)
            return data
        default:
            return nil
        }
    }

    /// GET CONFIGURATION: the header with the current profile and the profile list feature.
    private func configuration() -> [UInt8] {
        var data = [UInt8](repeating: 0, count: 8)
        data.setBigEndian16(medium == nil ? 0 : ATAPIDrive.cdromProfile, at: 6)
        data += [0x00, 0x00, 0x03, 0x04]  // feature 0: profile list, persistent and current, 4 bytes
        var profile: [UInt8] = [0, 0, medium == nil ? 0 : 1, 0]
        profile.setBigEndian16(ATAPIDrive.cdromProfile, at: 0)
        data += profile
        data.setBigEndian32(UInt32(data.count - 4), at: 0)
        return data
    }

    /// GET EVENT STATUS NOTIFICATION, polled: the media class only.
    private func eventStatus(classes: UInt8) -> [UInt8] {
        let mediaClass: UInt8 = 1 << 4
        guard classes & mediaClass != 0 else { return [0, 2, 0x80, mediaClass] }  // no event available
        let event: UInt8 = mediumChanged ? 2 : 0  // new media
        mediumChanged = false
        return [0, 6, 4, mediaClass, event, medium == nil ? 0 : 0x02, 0, 0]
    }

    /// MODE SENSE(10): the error recovery page and the capabilities page.
    private func modeSense(page: UInt8) -> [UInt8]? {
        let errorRecovery: [UInt8] = [ATAPIDrive.errorRecoveryPage, 6, 0, 5, 0, 0, 0, 0]
        var capabilities = [UInt8](repeating: 0, count: 22)
        capabilities[0] = ATAPIDrive.capabilitiesPage
        capabilities[1] = 20
        capabilities[2] = 0x01      // reads CD-R
        capabilities[4] = 0x01      // plays audio
        capabilities[6] = 0x29      // lock, eject, tray loader
        capabilities.setBigEndian16(706, at: 8)   // 4x in kB/s
        capabilities.setBigEndian16(2, at: 12)    // buffer size (kB)
        capabilities.setBigEndian16(706, at: 14)
        let pages: [UInt8]
        switch page {
        case ATAPIDrive.errorRecoveryPage: pages = errorRecovery
        case ATAPIDrive.capabilitiesPage: pages = capabilities
        case ATAPIDrive.allPages: pages = errorRecovery + capabilities
        default: return nil
        }
        var data = [UInt8](repeating: 0, count: 8)
        data[2] = medium == nil ? 0x70 : 0x01  // medium type: no disc, or 120 mm data CD
        data += pages
        data.setBigEndian16(UInt16(data.count - 2), at: 0)
        return data
    }

    // MARK: IDENTIFY PACKET DEVICE

    func identifyPacketData() -> [UInt8] {
        var words = [UInt16](repeating: 0, count: 256)
        // ATAPI, CD-ROM device type, removable, accelerated DRQ, 12-byte packets.
        words[0] = 2 << 14 | 5 << 8 | 1 << 7 | 2 << 5
        IDEDevice.putString(serial, into: &words, at: 10, words: 10)
        IDEDevice.putString("1.0", into: &words, at: 23, words: 4)
        IDEDevice.putString("PCEmu CD-ROM", into: &words, at: 27, words: 20)
        words[48] = 1
        words[49] = 1 << 11 | 1 << 9 | 1 << 8   // IORDY, LBA, DMA
        words[53] = 1 << 1 | 1 << 2
        words[62] = 0x07
        words[63] = 0x07 | (multiwordDMAMode.map { UInt16(1) << (8 + UInt16($0)) } ?? 0)
        words[64] = 0x03
        words[65] = 0xB4; words[66] = 0xB4; words[67] = 0x12C; words[68] = 0xB4
        words[71] = 30; words[72] = 30
        words[80] = 0x1E                          // ATAPI-1 to -4
        words[82] = 1 << 4                        // PACKET
        words[83] = 1 << 14
        words[84] = 1 << 14
        words[85] = 1 << 4
        words[87] = 1 << 14
        words[88] = 0x3F | (ultraDMAMode.map { UInt16(1) << (8 + UInt16($0)) } ?? 0)
        return IDEDevice.bytes(of: words)
    }
}

extension Array where Element == UInt8 {
    func bigEndian32(at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(self[offset + $1]) }
    }

    mutating func setBigEndian16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    mutating func setBigEndian32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(i))) }
    }
}

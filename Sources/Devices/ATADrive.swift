import PCEmuSupport
import Storage

/// An ATA hard disk on a block image: IDENTIFY DEVICE, PIO reads and writes
/// of one sector or a MULTIPLE block per interrupt, DMA reads and writes,
/// 28-bit and 48-bit LBA and CHS addressing, FLUSH CACHE (fsync).
public final class ATADrive: IDEDevice {
    public static let sectorSize = 512
    /// The largest block READ/WRITE MULTIPLE may use (IDENTIFY word 47).
    static let maximumMultiple = 16
    /// Sectors moved per image access during DMA.
    static let dmaChunkSectors = 128

    enum Command {
        static let deviceReset: UInt8 = 0x08
        static let recalibrate: UInt8 = 0x10
        static let readSectors: UInt8 = 0x20
        static let readSectorsNoRetry: UInt8 = 0x21
        static let readSectorsExt: UInt8 = 0x24
        static let readDMAExt: UInt8 = 0x25
        static let readNativeMaxExt: UInt8 = 0x27
        static let readMultipleExt: UInt8 = 0x29
        static let writeSectors: UInt8 = 0x30
        static let writeSectorsNoRetry: UInt8 = 0x31
        static let writeSectorsExt: UInt8 = 0x34
        static let writeDMAExt: UInt8 = 0x35
        static let writeMultipleExt: UInt8 = 0x39
        static let readVerify: UInt8 = 0x40
        static let readVerifyNoRetry: UInt8 = 0x41
        static let readVerifyExt: UInt8 = 0x42
        static let seek: UInt8 = 0x70
        static let executeDiagnostic: UInt8 = 0x90
        static let initializeParameters: UInt8 = 0x91
        static let identifyPacket: UInt8 = 0xA1
        static let packet: UInt8 = 0xA0
        static let readMultiple: UInt8 = 0xC4
        static let writeMultiple: UInt8 = 0xC5
        static let setMultiple: UInt8 = 0xC6
        static let readDMA: UInt8 = 0xC8
        static let readDMANoRetry: UInt8 = 0xC9
        static let writeDMA: UInt8 = 0xCA
        static let writeDMANoRetry: UInt8 = 0xCB
        static let standbyImmediate: UInt8 = 0xE0
        static let idleImmediate: UInt8 = 0xE1
        static let standby: UInt8 = 0xE2
        static let idle: UInt8 = 0xE3
        static let checkPowerMode: UInt8 = 0xE5
        static let sleep: UInt8 = 0xE6
        static let flushCache: UInt8 = 0xE7
        static let flushCacheExt: UInt8 = 0xEA
        static let identify: UInt8 = 0xEC
        static let setFeatures: UInt8 = 0xEF
        static let readNativeMax: UInt8 = 0xF8
    }

    enum Feature {
        static let enableWriteCache: UInt8 = 0x02
        static let setTransferMode: UInt8 = 0x03
        static let disableWriteCache: UInt8 = 0x82
    }

    /// What the guest's data-port accesses or the bus master are moving.
    struct Transfer {
        var lba: UInt64 = 0
        var remaining = 0
        var blockSectors = 1
        var isWrite = false
        var lba48 = false
    }

    public let image: BlockImage
    public let sectorCount: UInt64
    let serial: String
    /// The physical CHS geometry IDENTIFY reports, and what INITIALIZE DEVICE PARAMETERS set.
    let cylinders: Int, heads: Int, sectorsPerTrack: Int
    var logicalHeads: Int, logicalSectorsPerTrack: Int
    var multipleSectors = 0
    var writeCacheEnabled = true
    /// Multiword DMA mode (IDENTIFY word 63) selected by SET FEATURES, or nil; UDMA likewise.
    var multiwordDMAMode: Int? = 2
    var ultraDMAMode: Int?
    var transfer = Transfer()

    public init(image: BlockImage, serial: String) {
        self.image = image
        self.serial = serial
        sectorCount = image.byteCount / UInt64(ATADrive.sectorSize)
        heads = 16
        sectorsPerTrack = 63
        cylinders = Int(min(16383, sectorCount / UInt64(16 * 63)))
        logicalHeads = heads
        logicalSectorsPerTrack = sectorsPerTrack
        super.init()
        reset()
    }

    override func reset() {
        super.reset()
        transfer = Transfer()
    }

    override func execute(command: UInt8) {
        switch command {
        case Command.identify:
            buffer = identifyData()
            startInput(count: buffer.count)
        case Command.readSectors, Command.readSectorsNoRetry:
            startPIO(lba48: false, write: false, block: 1)
        case Command.readSectorsExt:
            startPIO(lba48: true, write: false, block: 1)
        case Command.readMultiple, Command.readMultipleExt:
            guard multipleSectors > 0 else { return abort() }
            startPIO(lba48: command == Command.readMultipleExt, write: false, block: multipleSectors)
        case Command.writeSectors, Command.writeSectorsNoRetry:
            startPIO(lba48: false, write: true, block: 1)
        case Command.writeSectorsExt:
            startPIO(lba48: true, write: true, block: 1)
        case Command.writeMultiple, Command.writeMultipleExt:
            guard multipleSectors > 0 else { return abort() }
            startPIO(lba48: command == Command.writeMultipleExt, write: true, block: multipleSectors)
        case Command.readDMA, Command.readDMANoRetry:
            startDMA(lba48: false, write: false)
        case Command.readDMAExt:
            startDMA(lba48: true, write: false)
        case Command.writeDMA, Command.writeDMANoRetry:
            startDMA(lba48: false, write: true)
        case Command.writeDMAExt:
            startDMA(lba48: true, write: true)
        case Command.setMultiple:
            let count = Int(taskFile.sectorCount)
            // Zero switches MULTIPLE off; otherwise a power of two up to the maximum.
            guard count <= ATADrive.maximumMultiple, count & (count - 1) == 0 else { return abort() }
            multipleSectors = count
            completeCommand()
        case Command.flushCache, Command.flushCacheExt:
            do {
                try image.flush()
                completeCommand()
            } catch {
                Log.emit("pcemu: \(error)")
                fail(ATAError.aborted)
            }
        case Command.readVerify, Command.readVerifyNoRetry, Command.readVerifyExt:
            let lba48 = command == Command.readVerifyExt
            guard let (lba, count) = addressAndCount(lba48: lba48), lba + UInt64(count) <= sectorCount else {
                return fail(ATAError.idNotFound)
            }
            completeCommand()
        case Command.seek, Command.recalibrate, Command.idleImmediate, Command.idle,
             Command.standbyImmediate, Command.standby, Command.sleep:
            completeCommand()
        case Command.checkPowerMode:
            taskFile.sectorCount = 0xFF  // active or idle
            completeCommand()
        case Command.initializeParameters:
            logicalHeads = Int(taskFile.device & 0x0F) + 1
            logicalSectorsPerTrack = Int(taskFile.sectorCount)
            completeCommand()
        case Command.setFeatures:
            setFeatures()
        case Command.readNativeMax:
            taskFile.setLBA28(min(sectorCount, 1 << 28) - 1)
            completeCommand()
        case Command.readNativeMaxExt:
            taskFile.setLBA48(sectorCount - 1)
            completeCommand()
        case Command.executeDiagnostic:
            reset()
            raiseInterrupt()
        default:
            Log.write(.unimplemented, "ata: command 0x\(String(command, radix: 16)) aborted")
            abort()
        }
    }

    private func setFeatures() {
        switch taskFile.features {
        case Feature.enableWriteCache: writeCacheEnabled = true
        case Feature.disableWriteCache: writeCacheEnabled = false
        case Feature.setTransferMode:
            let mode = Int(taskFile.sectorCount)
            switch mode >> 3 {
            case 0, 1: multiwordDMAMode = nil; ultraDMAMode = nil        // PIO modes
            case 4: multiwordDMAMode = mode & 7; ultraDMAMode = nil
            case 8: ultraDMAMode = mode & 7; multiwordDMAMode = nil
            default: return abort()
            }
        default:
            Log.write(.unimplemented, "ata: SET FEATURES 0x\(String(taskFile.features, radix: 16)) ignored")
        }
        completeCommand()
    }

    // MARK: Addressing

    /// The command's first sector and count; nil when CHS names no sector.
    func addressAndCount(lba48: Bool) -> (UInt64, Int)? {
        if lba48 { return (taskFile.lba48, taskFile.count48) }
        if taskFile.usesLBA { return (taskFile.lba28, taskFile.count28) }
        let cylinder = Int(taskFile.lbaMid) | Int(taskFile.lbaHigh) << 8
        let head = Int(taskFile.device & 0x0F)
        let sector = Int(taskFile.lbaLow)
        guard sector >= 1, sector <= logicalSectorsPerTrack, head < logicalHeads else { return nil }
        let lba = (cylinder * logicalHeads + head) * logicalSectorsPerTrack + sector - 1
        return (UInt64(lba), taskFile.count28)
    }

    /// The task file after a transfer names the last sector moved.
    private func recordPosition(_ lba: UInt64) {
        if transfer.lba48 {
            taskFile.setLBA48(lba)
        } else if taskFile.usesLBA {
            taskFile.setLBA28(lba)
        } else {
            let track = Int(lba) / logicalSectorsPerTrack
            let cylinder = track / logicalHeads
            taskFile.lbaLow = UInt8(truncatingIfNeeded: Int(lba) % logicalSectorsPerTrack + 1)
            taskFile.lbaMid = UInt8(truncatingIfNeeded: cylinder)
            taskFile.lbaHigh = UInt8(truncatingIfNeeded: cylinder >> 8)
            taskFile.device = taskFile.device & 0xF0 | UInt8(track % logicalHeads)
        }
    }

    /// Sets up `transfer` for a read or write command; fails it if the range is bad.
    private func beginTransfer(lba48: Bool, write: Bool, block: Int) -> Bool {
        guard let (lba, count) = addressAndCount(lba48: lba48), lba < sectorCount, UInt64(count) <= sectorCount - lba else {
            Log.write(.guestErrors, "ata: sectors outside the disk of \(sectorCount) sectors")
            fail(ATAError.idNotFound)
            return false
        }
        if write && image.isReadOnly {
            fail(ATAError.aborted)
            return false
        }
        transfer = Transfer(lba: lba, remaining: count, blockSectors: block, isWrite: write, lba48: lba48)
        return true
    }

    // MARK: PIO

    private func startPIO(lba48: Bool, write: Bool, block: Int) {
        guard beginTransfer(lba48: lba48, write: write, block: block) else { return }
        if write {
            startOutput(count: min(transfer.remaining, block) * ATADrive.sectorSize, interrupt: false)
        } else {
            loadInputBlock()
        }
    }

    /// Reads the next block into the buffer and offers it.
    private func loadInputBlock() {
        let sectors = min(transfer.remaining, transfer.blockSectors)
        let count = sectors * ATADrive.sectorSize
        if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
        do {
            try buffer.withUnsafeMutableBytes {
                try image.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]), at: transfer.lba * UInt64(ATADrive.sectorSize))
            }
        } catch {
            Log.emit("pcemu: \(error)")
            recordPosition(transfer.lba)
            return fail(ATAError.uncorrectable)
        }
        recordPosition(transfer.lba + UInt64(sectors) - 1)
        transfer.lba += UInt64(sectors)
        transfer.remaining -= sectors
        startInput(count: count)
    }

    override func pioBufferDone() {
        if transfer.isWrite {
            let sectors = bufferEnd / ATADrive.sectorSize
            do {
                try buffer.withUnsafeBytes {
                    try image.write(UnsafeRawBufferPointer(rebasing: $0[0..<bufferEnd]), at: transfer.lba * UInt64(ATADrive.sectorSize))
                }
            } catch {
                Log.emit("pcemu: \(error)")
                recordPosition(transfer.lba)
                return fail(ATAError.uncorrectable)
            }
            recordPosition(transfer.lba + UInt64(sectors) - 1)
            transfer.lba += UInt64(sectors)
            transfer.remaining -= sectors
            if transfer.remaining > 0 {
                startOutput(count: min(transfer.remaining, transfer.blockSectors) * ATADrive.sectorSize, interrupt: true)
            } else {
                completeCommand()
            }
        } else if transfer.remaining > 0 {
            loadInputBlock()
        } else {
            status = ATAStatus.ready | ATAStatus.seekComplete
        }
    }

    // MARK: DMA

    private func startDMA(lba48: Bool, write: Bool) {
        guard beginTransfer(lba48: lba48, write: write, block: transfer.blockSectors) else { return }
        dmaPending = true
        status = ATAStatus.ready | ATAStatus.seekComplete | ATAStatus.dataRequest
        requestDMA()
    }

    override func runDMA(_ mover: IDEDMAMover) {
        guard dmaPending else { return }
        dmaPending = false
        let chunkBytes = ATADrive.dmaChunkSectors * ATADrive.sectorSize
        if buffer.count < chunkBytes { buffer = [UInt8](repeating: 0, count: chunkBytes) }
        while transfer.remaining > 0 {
            let sectors = min(transfer.remaining, ATADrive.dmaChunkSectors)
            let count = sectors * ATADrive.sectorSize
            let offset = transfer.lba * UInt64(ATADrive.sectorSize)
            do {
                let moved = try buffer.withUnsafeMutableBytes { bytes -> Bool in
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: bytes[0..<count])
                    if transfer.isWrite {
                        guard mover.fromMemory(chunk) else { return false }
                        try image.write(UnsafeRawBufferPointer(chunk), at: offset)
                    } else {
                        try image.read(into: chunk, at: offset)
                        guard mover.toMemory(UnsafeRawBufferPointer(chunk)) else { return false }
                    }
                    return true
                }
                guard moved else {
                    Log.write(.guestErrors, "ata: the PRD table is shorter than the transfer")
                    recordPosition(transfer.lba)
                    return abort()
                }
            } catch {
                Log.emit("pcemu: \(error)")
                recordPosition(transfer.lba)
                return fail(ATAError.uncorrectable)
            }
            recordPosition(transfer.lba + UInt64(sectors) - 1)
            transfer.lba += UInt64(sectors)
            transfer.remaining -= sectors
        }
        completeCommand()
    }

    // MARK: IDENTIFY DEVICE

    func identifyData() -> [UInt8] {
        var words = [UInt16](repeating: 0, count: 256)
        words[0] = 0x0040  // fixed, not removable
        words[1] = UInt16(cylinders)
        words[3] = UInt16(heads)
        words[4] = UInt16(512 * sectorsPerTrack)
        words[5] = 512
        words[6] = UInt16(sectorsPerTrack)
        IDEDevice.putString(serial, into: &words, at: 10, words: 10)
        words[20] = 3       // buffer type: dual ported with read cache
        words[21] = 512     // buffer size in sectors
        words[22] = 4       // ECC bytes
        IDEDevice.putString("1.0", into: &words, at: 23, words: 4)
        IDEDevice.putString("PCEmu HARDDISK", into: &words, at: 27, words: 20)
        words[47] = 0x8000 | UInt16(ATADrive.maximumMultiple)
        words[48] = 1                        // 32-bit PIO
        words[49] = 1 << 11 | 1 << 9 | 1 << 8  // IORDY, LBA, DMA
        words[51] = 0x200                    // PIO timing mode 2
        words[52] = 0x200
        words[53] = 1 << 0 | 1 << 1 | 1 << 2  // words 54-58, 64-70 and 88 are valid
        let currentCylinders = min(65535, Int(sectorCount) / max(1, logicalHeads * logicalSectorsPerTrack))
        words[54] = UInt16(currentCylinders)
        words[55] = UInt16(logicalHeads)
        words[56] = UInt16(logicalSectorsPerTrack)
        let currentCapacity = UInt32(currentCylinders * logicalHeads * logicalSectorsPerTrack)
        words[57] = UInt16(truncatingIfNeeded: currentCapacity)
        words[58] = UInt16(truncatingIfNeeded: currentCapacity >> 16)
        if multipleSectors > 0 { words[59] = 0x100 | UInt16(multipleSectors) }
        let lba28Sectors = UInt32(min(sectorCount, 0x0FFF_FFFF))
        words[60] = UInt16(truncatingIfNeeded: lba28Sectors)
        words[61] = UInt16(truncatingIfNeeded: lba28Sectors >> 16)
        words[62] = 0x07                      // single-word DMA 0-2
        words[63] = 0x07 | (multiwordDMAMode.map { UInt16(1) << (8 + UInt16($0)) } ?? 0)
        words[64] = 0x03                      // PIO 3 and 4
        words[65] = 120; words[66] = 120; words[67] = 120; words[68] = 120
        words[80] = 0xF0                      // ATA/ATAPI-4 to -7
        words[81] = 0x16
        words[82] = 1 << 14 | 1 << 5         // NOP, write cache
        words[83] = 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10  // FLUSH CACHE (EXT), 48-bit addresses
        words[84] = 1 << 14
        words[85] = 1 << 14 | (writeCacheEnabled ? 1 << 5 : 0)
        words[86] = 1 << 13 | 1 << 12 | 1 << 10
        words[87] = 1 << 14
        words[88] = 0x3F | (ultraDMAMode.map { UInt16(1) << (8 + UInt16($0)) } ?? 0)
        words[93] = 1 << 14 | 1 << 13 | 1    // reset results, 80-conductor cable
        for i in 0..<4 { words[100 + i] = UInt16(truncatingIfNeeded: sectorCount >> (16 * UInt64(i))) }
        return IDEDevice.bytes(of: words)
    }
}

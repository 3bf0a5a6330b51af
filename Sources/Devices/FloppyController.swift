import Memory
import PCEmuSupport
import Storage

/// An 82077AA-compatible floppy disk controller in PC/AT mode: ports
/// 0x3F0-0x3F5 (status A/B, DOR, tape drive, MSR/DSR, FIFO) and 0x3F7
/// (DIR/CCR, a separate handler since 0x3F6 belongs to IDE), IRQ 6 and DMA
/// channel 2, two drives.
///
/// A command is written byte by byte to the FIFO; when its last parameter
/// arrives it executes at once (seeks take no time, data moves through the
/// 8237 in one go, stopping at terminal count or the end of the track), and
/// the result bytes wait in the FIFO. IRQ and DRQ reach the bus only while
/// DOR bit 3 is set. Leaving reset (DOR bit 2 rising, or DSR bit 7) raises
/// the interrupt and queues the four SENSE INTERRUPT STATUS answers the
/// 82077 gives after a reset, one per drive; the first one lowers the
/// interrupt, and the next command's interrupt drops those not taken. Data moves in DMA mode only:
/// a command in non-DMA mode ends with an overrun.
public final class FloppyController: PortHandler {
    public static let base: UInt16 = 0x3F0
    public static let portCount = 6
    public static let digitalInputPort: UInt16 = 0x3F7
    public static let irq = 6
    public static let dmaChannel = 2
    /// DOR selects one of four drives; drives not connected are empty.
    static let driveSlots = 4

    enum Register {
        static let statusA: UInt16 = 0
        static let statusB: UInt16 = 1
        static let digitalOutput: UInt16 = 2
        static let tapeDrive: UInt16 = 3
        /// Read: main status; write: data-rate select.
        static let mainStatus: UInt16 = 4
        static let fifo: UInt16 = 5
    }

    enum DOR {
        static let driveSelect: UInt8 = 0x03
        static let notReset: UInt8 = 0x04
        static let dmaAndIRQEnable: UInt8 = 0x08
    }

    enum MSR {
        static let requestForMaster: UInt8 = 0x80
        static let dataToHost: UInt8 = 0x40
        static let nonDMA: UInt8 = 0x20
        static let busy: UInt8 = 0x10
    }

    enum DSR {
        static let softwareReset: UInt8 = 0x80
        static let rateMask: UInt8 = 0x03
    }

    enum ST0 {
        static let abnormalTermination: UInt8 = 0x40
        static let invalidCommand: UInt8 = 0x80
        /// Both top bits: "ready changed", what the post-reset polls report.
        static let readyChanged: UInt8 = 0xC0
        static let seekEnd: UInt8 = 0x20
        static let notReady: UInt8 = 0x08
    }

    enum ST1 {
        static let missingAddressMark: UInt8 = 0x01
        static let notWritable: UInt8 = 0x02
        static let noData: UInt8 = 0x04
        static let overrun: UInt8 = 0x10
        static let dataError: UInt8 = 0x20
    }

    enum ST3 {
        static let writeProtected: UInt8 = 0x40
        static let ready: UInt8 = 0x20
        static let track0: UInt8 = 0x10
        static let twoSided: UInt8 = 0x08
    }

    enum Opcode {
        static let readData: UInt8 = 0x06
        static let writeData: UInt8 = 0x05
        static let readID: UInt8 = 0x0A
        static let formatTrack: UInt8 = 0x0D
        static let specify: UInt8 = 0x03
        static let senseDriveStatus: UInt8 = 0x04
        static let recalibrate: UInt8 = 0x07
        static let senseInterrupt: UInt8 = 0x08
        static let seek: UInt8 = 0x0F
        static let version: UInt8 = 0x10
        static let configure: UInt8 = 0x13
        static let lock: UInt8 = 0x14
        static let dumpRegisters: UInt8 = 0x0E
        static let perpendicularMode: UInt8 = 0x12
        /// MT (multi-track), MFM and SK bits some commands carry.
        static let multiTrack: UInt8 = 0x80
    }

    /// A command's opcode after masking its option bits, and its length with parameters.
    private static let commands: [(opcode: UInt8, optionBits: UInt8, length: Int)] = [
        (Opcode.readData, 0xE0, 9), (Opcode.writeData, 0xC0, 9), (Opcode.readID, 0x40, 2),
        (Opcode.formatTrack, 0x40, 6), (Opcode.specify, 0, 3), (Opcode.senseDriveStatus, 0, 2),
        (Opcode.recalibrate, 0, 2), (Opcode.senseInterrupt, 0, 1), (Opcode.seek, 0, 3),
        (Opcode.version, 0, 1), (Opcode.configure, 0, 4), (Opcode.lock, 0x80, 1),
        (Opcode.dumpRegisters, 0, 1), (Opcode.perpendicularMode, 0, 2),
    ]
    static let versionByte: UInt8 = 0x90
    /// CONFIGURE after reset: implied seek off, FIFO disabled, polling on, threshold 1.
    static let configureDefault: UInt8 = 0x20

    public let drives: [FloppyDrive]
    private let dma: DMA8237
    private let irq: InterruptLine
    /// Told which guest memory a DMA transfer wrote, so translated code there is dropped.
    private let memoryWritten: (PhysicalAddress, Int) -> Void
    /// The DIR/CCR register at 0x3F7.
    public private(set) lazy var digitalInput = DigitalInputRegister(controller: self)

    var dor: UInt8 = 0
    var tapeDrive: UInt8 = 0
    var dataRate: UInt8 = 0
    var command: [UInt8] = []
    var commandLength = 0
    var result: [UInt8] = []
    var resultPosition = 0
    var interruptPending = false
    var interruptST0: UInt8 = 0
    var interruptDrive = 0
    var resetSensesLeft = 0
    // SPECIFY, CONFIGURE, LOCK, PERPENDICULAR MODE and the last EOT, as DUMPREG shows them.
    var stepRateHeadUnload: UInt8 = 0
    var headLoadNonDMA: UInt8 = 0
    var configuration = FloppyController.configureDefault
    var precompensationTrack: UInt8 = 0
    var locked = false
    var perpendicular: UInt8 = 0
    var lastEndOfTrack: UInt8 = 0

    /// `drives` are drive 0 (A:) and 1 (B:); missing ones are empty.
    public init(drives: [FloppyDrive], dma: DMA8237, irq: InterruptLine,
                memoryWritten: @escaping (PhysicalAddress, Int) -> Void = { _, _ in }) {
        var all = Array(drives.prefix(FloppyController.driveSlots))
        while all.count < FloppyController.driveSlots { all.append(FloppyDrive()) }
        self.drives = all
        self.dma = dma
        self.irq = irq
        self.memoryWritten = memoryWritten
        super.init()
    }

    public func attach(to bus: IOPortBus) throws {
        try bus.attach(self, name: "fdc", base: FloppyController.base, count: FloppyController.portCount)
        try bus.attach(digitalInput, name: "fdc-dir", base: FloppyController.digitalInputPort, count: 1)
    }

    /// Power-on: DOR zero (held in reset, drives off), everything cleared.
    public func reset() {
        dor = 0
        tapeDrive = 0
        dataRate = 0
        locked = false
        for drive in drives { drive.diskChanged = true }
        resetController(raiseInterrupt: false)
    }

    private var inReset: Bool { dor & DOR.notReset == 0 }
    private var selectedDrive: FloppyDrive { drives[Int(dor & DOR.driveSelect)] }

    private func resetController(raiseInterrupt: Bool) {
        command = []
        result = []
        resultPosition = 0
        resetSensesLeft = 0
        setInterrupt(false)
        for drive in drives { drive.reset() }
        perpendicular = 0
        if !locked {
            configuration = FloppyController.configureDefault
            precompensationTrack = 0
        }
        if raiseInterrupt {
            resetSensesLeft = FloppyController.driveSlots
            setInterrupt(true)
        }
    }

    private func setInterrupt(_ pending: Bool) {
        interruptPending = pending
        updateIRQ()
    }

    func updateIRQ() {
        irq.set(interruptPending && dor & DOR.dmaAndIRQEnable != 0)
    }

    // MARK: Ports

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        switch offset {
        case Register.digitalOutput: return UInt32(dor)
        case Register.tapeDrive: return UInt32(tapeDrive)
        case Register.mainStatus: return UInt32(mainStatus)
        case Register.fifo: return UInt32(readFIFO())
        default: return 0xFF  // status A/B exist in PS/2 mode only
        }
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        switch offset {
        case Register.digitalOutput: writeDOR(byte)
        case Register.tapeDrive: tapeDrive = byte & 0x03
        case Register.mainStatus:
            dataRate = byte & DSR.rateMask
            if byte & DSR.softwareReset != 0, !inReset { resetController(raiseInterrupt: true) }
        case Register.fifo: writeFIFO(byte)
        default: break
        }
    }

    private func writeDOR(_ value: UInt8) {
        let wasInReset = inReset
        dor = value
        if !wasInReset && inReset {
            resetController(raiseInterrupt: false)
        } else if wasInReset && !inReset {
            resetController(raiseInterrupt: true)
        }
        updateIRQ()
    }

    var mainStatus: UInt8 {
        if inReset { return 0 }
        if resultPosition < result.count { return MSR.requestForMaster | MSR.dataToHost | MSR.busy }
        return command.isEmpty ? MSR.requestForMaster : MSR.requestForMaster | MSR.busy
    }

    /// DIR bit 7: the selected drive's disk-change line.
    var digitalInputValue: UInt8 { selectedDrive.diskChanged ? 0x80 : 0 }

    func writeConfigurationControl(_ value: UInt8) {
        dataRate = value & DSR.rateMask
    }

    private func readFIFO() -> UInt8 {
        guard !inReset, resultPosition < result.count else {
            Log.write(.guestErrors, "fdc: FIFO read with no result waiting")
            return 0
        }
        let byte = result[resultPosition]
        resultPosition += 1
        // Reading the result acknowledges the command's interrupt.
        if resultPosition == 1 { setInterrupt(false) }
        if resultPosition == result.count {
            result = []
            resultPosition = 0
        }
        return byte
    }

    private func writeFIFO(_ byte: UInt8) {
        guard !inReset else { return }
        if resultPosition < result.count {
            Log.write(.guestErrors, "fdc: byte 0x\(String(byte, radix: 16)) written during the result phase; ignored")
            return
        }
        if command.isEmpty {
            guard let entry = FloppyController.commands.first(where: { byte & ~$0.optionBits == $0.opcode }) else {
                Log.write(.guestErrors, "fdc: invalid command 0x\(String(byte, radix: 16))")
                finish([ST0.invalidCommand])
                return
            }
            commandLength = entry.length
        }
        command.append(byte)
        if command.count == commandLength {
            let complete = command
            command = []
            execute(complete)
        }
    }

    /// Enters the result phase with `bytes` (none: back to the command phase).
    private func finish(_ bytes: [UInt8], interrupt: Bool = false) {
        result = bytes
        resultPosition = 0
        if interrupt { raiseInterrupt() }
    }

    /// A command's interrupt; it also ends any post-reset polls not yet taken.
    private func raiseInterrupt() {
        resetSensesLeft = 0
        setInterrupt(true)
    }

    // MARK: Commands

    private func execute(_ bytes: [UInt8]) {
        let opcode = bytes[0]
        let unit = bytes.count > 1 ? Int(bytes[1] & 0x03) : 0
        let head = bytes.count > 1 ? (bytes[1] >> 2) & 1 : 0
        if bytes.count > 1 && opcode != Opcode.specify && opcode != Opcode.configure && opcode != Opcode.perpendicularMode {
            // Commands naming a drive select it, as the DOR's bits would.
            drives[unit].head = head
        }
        switch opcode & 0x1F {
        case Opcode.readData: transferData(bytes, toDisk: false)
        case Opcode.writeData: transferData(bytes, toDisk: true)
        case Opcode.readID: readID(unit: unit, head: head)
        case Opcode.formatTrack: formatTrack(bytes, unit: unit, head: head)
        case Opcode.specify:
            stepRateHeadUnload = bytes[1]
            headLoadNonDMA = bytes[2]
            finish([])
        case Opcode.senseDriveStatus:
            let drive = drives[unit]
            var st3 = ST3.ready | ST3.twoSided | head << 2 | UInt8(unit)
            if drive.track == 0 { st3 |= ST3.track0 }
            if drive.isWriteProtected || !drive.hasDisk { st3 |= ST3.writeProtected }
            finish([st3])
        case Opcode.recalibrate:
            drives[unit].seek(to: 0)
            seekEnded(unit: unit, head: 0)
        case Opcode.seek:
            drives[unit].seek(to: bytes[2])
            seekEnded(unit: unit, head: head)
        case Opcode.senseInterrupt: senseInterrupt()
        case Opcode.version: finish([FloppyController.versionByte])
        case Opcode.configure:
            configuration = bytes[2]
            precompensationTrack = bytes[3]
            finish([])
        case Opcode.lock:
            locked = opcode & 0x80 != 0
            finish([locked ? 0x10 : 0])
        case Opcode.dumpRegisters:
            finish(drives.map(\.track) + [stepRateHeadUnload, headLoadNonDMA, lastEndOfTrack,
                                         (locked ? 0x80 : 0) | perpendicular & 0x7F, configuration, precompensationTrack])
        case Opcode.perpendicularMode:
            if bytes[1] & 0x80 != 0 { perpendicular = bytes[1] & 0x7F }
            finish([])
        default:
            finish([ST0.invalidCommand])
        }
    }

    private func seekEnded(unit: Int, head: UInt8) {
        interruptST0 = ST0.seekEnd | head << 2 | UInt8(unit)
        interruptDrive = unit
        finish([], interrupt: true)
    }

    private func senseInterrupt() {
        if resetSensesLeft > 0 {
            let unit = FloppyController.driveSlots - resetSensesLeft
            resetSensesLeft -= 1
            setInterrupt(false)
            finish([ST0.readyChanged | UInt8(unit), drives[unit].track])
        } else if interruptPending {
            setInterrupt(false)
            finish([interruptST0, drives[interruptDrive].track])
        } else {
            finish([ST0.invalidCommand])
        }
    }

    /// Why a data command cannot touch the medium at all, as (ST0, ST1) bits, or nil.
    private func mediumProblem(_ drive: FloppyDrive, writing: Bool) -> (UInt8, UInt8)? {
        guard let geometry = drive.geometry else { return (ST0.abnormalTermination | ST0.notReady, ST1.missingAddressMark) }
        // At the wrong data rate the controller finds no address marks.
        if geometry.dataRate != dataRate { return (ST0.abnormalTermination, ST1.missingAddressMark) }
        if writing && drive.isWriteProtected { return (ST0.abnormalTermination, ST1.notWritable) }
        return nil
    }

    private func readID(unit: Int, head: UInt8) {
        let drive = drives[unit]
        var st0 = head << 2 | UInt8(unit), st1: UInt8 = 0
        if let (problem0, problem1) = mediumProblem(drive, writing: false) {
            st0 |= problem0
            st1 = problem1
        }
        finish([st0, st1, 0, drive.track, head, 1, FloppyDrive.sectorSizeCode], interrupt: true)
    }

    /// READ DATA / WRITE DATA: sector R to EOT of cylinder C (and the other
    /// side with MT), ending early at terminal count.
    private func transferData(_ bytes: [UInt8], toDisk: Bool) {
        let unit = Int(bytes[1] & 0x03)
        let drive = drives[unit]
        let multiTrack = bytes[0] & Opcode.multiTrack != 0
        var cylinder = bytes[2], head = bytes[3], sector = bytes[4]
        let sizeCode = bytes[5], endOfTrack = bytes[6]
        lastEndOfTrack = endOfTrack
        var st0 = (bytes[1] & 0x04) | UInt8(unit), st1: UInt8 = 0
        func done() {
            finish([st0, st1, 0, cylinder, head, sector, sizeCode], interrupt: true)
        }
        if let (problem0, problem1) = mediumProblem(drive, writing: toDisk) {
            st0 |= problem0
            st1 = problem1
            return done()
        }
        guard let geometry = drive.geometry else { return done() }
        guard headLoadNonDMA & 1 == 0, dma.isReady(FloppyController.dmaChannel) else {
            Log.write(.guestErrors, "fdc: data command without a DMA channel ready (non-DMA mode is not built)")
            st0 |= ST0.abnormalTermination
            st1 = ST1.overrun
            return done()
        }
        guard sizeCode == FloppyDrive.sectorSizeCode else {
            st0 |= ST0.abnormalTermination
            st1 = ST1.noData
            return done()
        }
        // The head moves to C as the implied seek would.
        drive.track = cylinder
        var buffer = [UInt8](repeating: 0, count: FloppyDrive.sectorSize)
        while true {
            guard let offset = drive.offset(cylinder: cylinder, head: head, sector: sector), let image = drive.image else {
                st0 |= ST0.abnormalTermination
                st1 = ST1.noData
                break
            }
            let transfer: DMA8237.Transfer
            do {
                if toDisk {
                    transfer = buffer.withUnsafeMutableBytes { dma.readFromMemory(channel: FloppyController.dmaChannel, into: $0) }
                    if transfer.bytes > 0 {
                        // A transfer cut short by terminal count leaves the rest of the sector zero.
                        for index in transfer.bytes..<buffer.count { buffer[index] = 0 }
                        try buffer.withUnsafeBytes { try image.write($0, at: offset) }
                    }
                } else {
                    try buffer.withUnsafeMutableBytes { try drive.readSector(into: $0, at: offset) }
                    let address = currentDMAAddress()
                    transfer = buffer.withUnsafeBytes { dma.writeToMemory(channel: FloppyController.dmaChannel, from: $0) }
                    memoryWritten(PhysicalAddress(address), transfer.bytes)
                }
            } catch {
                Log.write(.guestErrors, "fdc: \(error)")
                st0 |= ST0.abnormalTermination
                st1 = ST1.dataError
                break
            }
            if transfer.bytes == 0 {
                st0 |= ST0.abnormalTermination
                st1 = ST1.overrun
                break
            }
            // The next sector: past EOT comes sector 1 of the other side (MT) or of the next cylinder.
            var more = true
            if sector >= endOfTrack || Int(sector) >= geometry.sectorsPerTrack {
                sector = 1
                if multiTrack && head == 0 && geometry.heads > 1 {
                    head = 1
                } else {
                    if multiTrack { head = 0 }
                    cylinder &+= 1
                    more = false
                }
            } else {
                sector += 1
            }
            if !more || transfer.terminalCount { break }
        }
        if toDisk { flush(drive) }
        done()
    }

    /// FORMAT TRACK: the DMA supplies C, H, R, N for each of SC sectors,
    /// which are filled with the filler byte D.
    private func formatTrack(_ bytes: [UInt8], unit: Int, head: UInt8) {
        let drive = drives[unit]
        let sectorCount = Int(bytes[3]), filler = bytes[5]
        var st0 = head << 2 | UInt8(unit), st1: UInt8 = 0
        var lastID: [UInt8] = [drive.track, head, 1, bytes[2]]
        defer { finish([st0, st1, 0] + lastID, interrupt: true) }
        if let (problem0, problem1) = mediumProblem(drive, writing: true) {
            st0 |= problem0
            st1 = problem1
            return
        }
        guard let image = drive.image, headLoadNonDMA & 1 == 0, dma.isReady(FloppyController.dmaChannel) else {
            Log.write(.guestErrors, "fdc: FORMAT TRACK without a DMA channel ready")
            st0 |= ST0.abnormalTermination
            st1 = ST1.overrun
            return
        }
        let sector = [UInt8](repeating: filler, count: FloppyDrive.sectorSize)
        for _ in 0..<sectorCount {
            var id = [UInt8](repeating: 0, count: 4)
            let transfer = id.withUnsafeMutableBytes { dma.readFromMemory(channel: FloppyController.dmaChannel, into: $0) }
            guard transfer.bytes == id.count else {
                st0 |= ST0.abnormalTermination
                st1 = ST1.overrun
                break
            }
            lastID = id
            guard id[3] == FloppyDrive.sectorSizeCode,
                  let offset = drive.offset(cylinder: id[0], head: id[1], sector: id[2]) else {
                Log.write(.guestErrors, "fdc: FORMAT TRACK sector ID \(id) does not fit the medium")
                st0 |= ST0.abnormalTermination
                st1 = ST1.noData
                break
            }
            do { try sector.withUnsafeBytes { try image.write($0, at: offset) } } catch {
                Log.write(.guestErrors, "fdc: \(error)")
                st0 |= ST0.abnormalTermination
                st1 = ST1.dataError
                break
            }
            if transfer.terminalCount { break }
        }
        flush(drive)
    }

    /// Where channel 2's next byte goes in guest memory.
    private func currentDMAAddress() -> UInt32 {
        let channel = FloppyController.dmaChannel
        return UInt32(dma.pages.page(ofChannel: channel)) << 16 | UInt32(dma.slave.channels[channel].currentAddress)
    }

    /// A floppy has no cache-flush command: each write command reaches the disk.
    private func flush(_ drive: FloppyDrive) {
        guard let image = drive.image else { return }
        do { try image.flush() } catch { Log.emit("pcemu: \(error)") }
    }

    /// Port 0x3F7: DIR on read (disk change in bit 7), CCR (data rate) on write.
    public final class DigitalInputRegister: PortHandler {
        private unowned let controller: FloppyController

        init(controller: FloppyController) {
            self.controller = controller
        }

        public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
            UInt32(controller.digitalInputValue)
        }

        public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
            controller.writeConfigurationControl(UInt8(truncatingIfNeeded: value))
        }
    }
}

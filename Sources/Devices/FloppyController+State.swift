import Lifecycle

/// The 82077AA's registers, the command bytes collected so far and the
/// result bytes not yet read, the pending interrupt and the resets still to
/// be sensed, the settings DUMPREG shows, and each drive's head position and
/// disk-change line. A transfer completes within the command's last byte
/// (through the DMA controller), so none is ever in flight. The disks are
/// the block back-end's: whether each drive holds one is checked.
extension FloppyController: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "fdc"
    /// The longest command (READ/WRITE DATA) and result (DUMPREG) in bytes.
    static let maximumCommandLength = 9
    static let maximumResultLength = 10

    public func save(into record: inout StateRecord) {
        record.put("dor", dor)
        record.put("tapeDrive", tapeDrive)
        record.put("dataRate", dataRate)
        record.put("command", command)
        record.put("commandLength", commandLength)
        record.put("result", result)
        record.put("resultPosition", resultPosition)
        record.put("interruptPending", interruptPending)
        record.put("interruptST0", interruptST0)
        record.put("interruptDrive", interruptDrive)
        record.put("resetSensesLeft", resetSensesLeft)
        record.put("settings", [stepRateHeadUnload, headLoadNonDMA, configuration, precompensationTrack, perpendicular, lastEndOfTrack])
        record.put("locked", locked)
        record.put("drives", drives.map { drive in
            var saved = StateRecord(name: "floppy-drive", version: 1)
            saved.put("hasDisk", drive.hasDisk)
            saved.put("track", drive.track)
            saved.put("head", drive.head)
            saved.put("diskChanged", drive.diskChanged)
            return saved
        })
    }

    public func load(from record: StateRecord) throws {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: FloppyController.stateName, field: field) }
        let newDOR: UInt8 = try record.unsigned("dor")
        let newTape: UInt8 = try record.unsigned("tapeDrive")
        let newRate: UInt8 = try record.unsigned("dataRate")
        guard newTape <= 3, newRate & ~DSR.rateMask == 0 else { throw refuse("dataRate") }
        let newCommand = try record.bytes("command")
        let newLength = try record.int("commandLength", in: 0...FloppyController.maximumCommandLength)
        guard newCommand.count <= FloppyController.maximumCommandLength else { throw refuse("command") }
        let newResult = try record.bytes("result")
        guard newResult.count <= FloppyController.maximumResultLength else { throw refuse("result") }
        let position = try record.int("resultPosition", in: 0...newResult.count)
        let pending = try record.bool("interruptPending")
        let st0: UInt8 = try record.unsigned("interruptST0")
        let unit = try record.int("interruptDrive", in: 0...(FloppyController.driveSlots - 1))
        let senses = try record.int("resetSensesLeft", in: 0...FloppyController.driveSlots)
        let settings = try record.bytes("settings", count: 6)
        let newLocked = try record.bool("locked")
        let savedDrives = try record.records("drives", count: drives.count)
        var positions: [(track: UInt8, head: UInt8, changed: Bool)] = []
        for (drive, saved) in zip(drives, savedDrives) {
            try saved.expect("floppy-drive", version: 1)
            guard try saved.bool("hasDisk") == drive.hasDisk else {
                throw StateRecordError.configurationMismatch(record: "floppy-drive", reason: drive.hasDisk ? "no disk was in, one is here" : "a disk was in, none is here")
            }
            let head: UInt8 = try saved.unsigned("head")
            guard head <= 1 else { throw StateRecordError.outOfRange(record: "floppy-drive", field: "head") }
            positions.append((try saved.unsigned("track"), head, try saved.bool("diskChanged")))
        }
        (dor, tapeDrive, dataRate) = (newDOR, newTape, newRate)
        (command, commandLength, result, resultPosition) = (newCommand, newLength, newResult, position)
        (interruptPending, interruptST0, interruptDrive, resetSensesLeft) = (pending, st0, unit, senses)
        (stepRateHeadUnload, headLoadNonDMA, configuration) = (settings[0], settings[1], settings[2])
        (precompensationTrack, perpendicular, lastEndOfTrack) = (settings[3], settings[4], settings[5])
        locked = newLocked
        for (drive, position) in zip(drives, positions) {
            (drive.track, drive.head, drive.diskChanged) = position
        }
        updateIRQ()
    }
}

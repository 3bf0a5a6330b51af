import Lifecycle

extension TaskFile {
    /// The eleven bytes in a fixed order: current, previous (for LBA48), device.
    var savedBytes: [UInt8] {
        [features, sectorCount, lbaLow, lbaMid, lbaHigh,
         previousFeatures, previousSectorCount, previousLBALow, previousLBAMid, previousLBAHigh, device]
    }

    func restore(_ bytes: [UInt8]) {
        (features, sectorCount, lbaLow, lbaMid, lbaHigh) = (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4])
        (previousFeatures, previousSectorCount, previousLBALow, previousLBAMid, previousLBAHigh) = (bytes[5], bytes[6], bytes[7], bytes[8], bytes[9])
        device = bytes[10]
    }
}

/// An IDE device whose state can be saved: the common part (`saveCommon`)
/// and its own command engine's.
protocol IDEDeviceState: IDEDevice {
    var stateName: String { get }
    func save() -> StateRecord
    /// Checks `record` whole; the closure returned applies it.
    func prepareLoad(_ record: StateRecord) throws -> () -> Void
}

extension IDEDevice {
    /// Bigger than any transfer block (ATA: 16 sectors at a time; ATAPI: one 64 KiB reply).
    static let maximumSavedBuffer = 1 << 20

    struct SavedCommon {
        let status: UInt8, error: UInt8, taskFile: [UInt8]
        let buffer: [UInt8], position: Int, end: Int, isInput: Bool, dmaPending: Bool
    }

    /// Status, error, the device's task file, the PIO buffer with the part
    /// the guest has yet to move, and a DMA transfer waiting for the bus master.
    func saveCommon(into record: inout StateRecord) {
        record.put("status", status)
        record.put("error", error)
        record.put("taskFile", taskFile.savedBytes)
        record.put("buffer", buffer)
        record.put("bufferPosition", bufferPosition)
        record.put("bufferEnd", bufferEnd)
        record.put("bufferIsInput", bufferIsInput)
        record.put("dmaPending", dmaPending)
    }

    func checkedCommon(_ record: StateRecord) throws -> SavedCommon {
        let buffer = try record.bytes("buffer")
        guard buffer.count <= IDEDevice.maximumSavedBuffer else { throw StateRecordError.outOfRange(record: record.name, field: "buffer") }
        let end = try record.int("bufferEnd", in: 0...buffer.count)
        // A data-port access of up to 4 bytes may step past the end.
        let position = try record.int("bufferPosition", in: 0...(end + 3))
        return SavedCommon(status: try record.unsigned("status"), error: try record.unsigned("error"),
                           taskFile: try record.bytes("taskFile", count: 11), buffer: buffer, position: position, end: end,
                           isInput: try record.bool("bufferIsInput"), dmaPending: try record.bool("dmaPending"))
    }

    func restore(_ saved: SavedCommon) {
        status = saved.status
        error = saved.error
        taskFile.restore(saved.taskFile)
        buffer = saved.buffer
        bufferPosition = saved.position
        bufferEnd = saved.end
        bufferIsInput = saved.isInput
        dmaPending = saved.dmaPending
    }

    /// A DMA mode as saved: -1 for none.
    static func checkedMode(_ record: StateRecord, _ field: String) throws -> Int? {
        let mode = try record.int(field, in: -1...7)
        return mode < 0 ? nil : mode
    }
}

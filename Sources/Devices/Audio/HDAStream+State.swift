import Lifecycle

/// One stream descriptor: its registers (CTL with the tag, STS, LPIB, CBL,
/// LVI, FIFOW, FMT, BDPL/BDPU), the buffer descriptor list entry under way
/// (where its next byte is, bytes left, IOC), the pacing of its bytes on
/// the virtual clock with the format it started with, and its timer.
/// Frames in the output FIFO and the capture converter's buffer are
/// host-side: a load starts them again empty.
extension HDAStream {
    static let stateVersion: UInt32 = 1
    var stateName: String { "hda-stream\(index)" }

    var savedState: StateRecord {
        var record = StateRecord(name: stateName, version: HDAStream.stateVersion)
        record.put("control", control)
        record.put("status", status)
        record.put("linkPosition", linkPosition)
        record.put("cyclicBufferLength", cyclicBufferLength)
        record.put("lastValidIndex", lastValidIndex)
        record.put("format", format)
        record.put("fifoWatermark", fifoWatermark)
        record.put("listLow", listLow)
        record.put("listHigh", listHigh)
        record.put("entry", entry)
        record.put("entryAddress", entryAddress)
        record.put("entryLeft", entryLeft)
        record.put("entryInterrupts", entryInterrupts)
        record.put("origin", origin)
        record.put("bytesSinceOrigin", bytesSinceOrigin)
        record.put("bytesPerSecond", bytesPerSecond)
        record.put("channels", channels)
        record.put("sampleBytes", sampleBytes)
        record.put("emptyRun", emptyRun)
        record.putTimer(timer, clock: clock)
        return record
    }

    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect(stateName, version: HDAStream.stateVersion)
        let name = stateName
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: name, field: field) }
        let loadedControl: UInt32 = try record.unsigned("control")
        guard loadedControl & ~Control.writable == 0 else { throw refuse("control") }
        let loadedStatus: UInt8 = try record.unsigned("status")
        guard loadedStatus & ~Status.writeOneToClear == 0 else { throw refuse("status") }
        let position: UInt32 = try record.unsigned("linkPosition"), length: UInt32 = try record.unsigned("cyclicBufferLength")
        guard length == 0 || position < length else { throw refuse("linkPosition") }
        let last: UInt16 = try record.unsigned("lastValidIndex")
        guard last <= 0xFF else { throw refuse("lastValidIndex") }
        let loadedFormat: UInt16 = try record.unsigned("format")
        guard loadedFormat & ~0x7F7F == 0 else { throw refuse("format") }
        let watermark: UInt16 = try record.unsigned("fifoWatermark")
        guard watermark <= 7 else { throw refuse("fifoWatermark") }
        let low: UInt32 = try record.unsigned("listLow"), high: UInt32 = try record.unsigned("listHigh")
        guard low & 0x7F == 0 else { throw refuse("listLow") }
        let loadedEntry = try record.int("entry", in: 0...0xFF)
        let address: UInt64 = try record.unsigned("entryAddress"), left: UInt32 = try record.unsigned("entryLeft")
        let interrupts = try record.bool("entryInterrupts")
        let loadedOrigin = try record.signed("origin")
        guard loadedOrigin <= clock.now else { throw refuse("origin") }
        let since = Int64(try record.int("bytesSinceOrigin", in: 0...Int.max))
        let perSecond = Int64(try record.int("bytesPerSecond", in: 1...Int(Int32.max)))
        let loadedChannels = try record.int("channels", in: 1...16)
        let loadedSampleBytes = try record.int("sampleBytes", in: 1...4)
        guard loadedSampleBytes != 3 else { throw refuse("sampleBytes") }
        let loadedEmptyRun = try record.bool("emptyRun")
        let remaining = try record.savedTimer(timer)
        return { [unowned self] in
            control = loadedControl
            status = loadedStatus
            linkPosition = position
            cyclicBufferLength = length
            lastValidIndex = last
            format = loadedFormat
            fifoWatermark = watermark
            listLow = low
            listHigh = high
            entry = loadedEntry
            entryAddress = address
            entryLeft = left
            entryInterrupts = interrupts
            origin = loadedOrigin
            bytesSinceOrigin = since
            bytesPerSecond = perSecond
            channels = loadedChannels
            sampleBytes = loadedSampleBytes
            frameBytes = loadedChannels * loadedSampleBytes
            emptyRun = loadedEmptyRun
            if isRunning, let fifo, tag != 0, tag == codecStream() { fifo.restart(rate: rate) }
            if !isOutput { converter.reset() }
            StateRecord.arm(timer, remaining: remaining, clock: clock, scheduler: scheduler)
        }
    }
}

import Lifecycle

/// One bus-master box: its registers (BDBAR, CIV, LVI, SR, PICB, PIV, CR),
/// the descriptor it has loaded (address reached, flags), the pacing of its
/// samples on the virtual clock and its timer. The output's resampling FIFO
/// is host-side (samples the host has not played): a load starts it again
/// empty at the converter's rate.
extension AC97Channel {
    static let stateVersion: UInt32 = 1

    var savedState: StateRecord {
        var record = StateRecord(name: name, version: AC97Channel.stateVersion)
        record.put("bufferListBase", bufferListBase)
        record.put("currentIndex", currentIndex)
        record.put("lastValidIndex", lastValidIndex)
        record.put("status", status)
        record.put("samplesLeft", samplesLeft)
        record.put("prefetchedIndex", prefetchedIndex)
        record.put("control", control)
        record.put("bufferAddress", bufferAddress)
        record.put("bufferFlags", bufferFlags)
        record.put("loaded", loaded)
        record.put("origin", origin)
        record.put("samplesSinceOrigin", samplesSinceOrigin)
        record.put("samplesPerSecond", samplesPerSecond)
        record.put("emptyRun", emptyRun)
        record.putTimer(timer, clock: clock)
        return record
    }

    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect(name, version: AC97Channel.stateVersion)
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: name, field: field) }
        func index(_ field: String) throws -> UInt8 {
            let value: UInt8 = try record.unsigned(field)
            guard value & ~AC97Channel.indexMask == 0 else { throw refuse(field) }
            return value
        }
        let base: UInt32 = try record.unsigned("bufferListBase")
        guard base & 7 == 0 else { throw refuse("bufferListBase") }
        let current = try index("currentIndex"), last = try index("lastValidIndex"), prefetched = try index("prefetchedIndex")
        let loadedStatus: UInt16 = try record.unsigned("status")
        guard loadedStatus & ~0x1F == 0 else { throw refuse("status") }
        let loadedControl: UInt8 = try record.unsigned("control")
        guard loadedControl & ~Control.writable == 0 else { throw refuse("control") }
        let left: UInt16 = try record.unsigned("samplesLeft")
        let address: UInt32 = try record.unsigned("bufferAddress"), flags: UInt16 = try record.unsigned("bufferFlags")
        let isLoaded = try record.bool("loaded")
        let loadedOrigin = try record.signed("origin")
        guard loadedOrigin <= clock.now else { throw refuse("origin") }
        let since = Int64(try record.int("samplesSinceOrigin", in: 0...Int.max))
        let perSecond = Int64(try record.int("samplesPerSecond", in: 1...2 * Int(AC97Codec.fixedRate)))
        let loadedEmptyRun = try record.bool("emptyRun")
        let remaining = try record.savedTimer(timer)
        return { [unowned self] in
            bufferListBase = base
            currentIndex = current
            lastValidIndex = last
            prefetchedIndex = prefetched
            status = loadedStatus
            control = loadedControl
            samplesLeft = left
            bufferAddress = address
            bufferFlags = flags
            loaded = isLoaded
            origin = loadedOrigin
            samplesSinceOrigin = since
            samplesPerSecond = perSecond
            emptyRun = loadedEmptyRun
            fifo?.restart(rate: max(rate(), 1))
            StateRecord.arm(timer, remaining: remaining, clock: clock, scheduler: scheduler)
        }
    }
}

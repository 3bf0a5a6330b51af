import Lifecycle

/// The ICH AC'97 function: its configuration space (both port BARs placed
/// where it says), the global control and latched status, the codec access
/// semaphore, the codec's registers and the three bus-master boxes.
extension AC97: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1

    public func saveFunction(into record: inout StateRecord) {
        saveConfigSpace(into: &record)
        record.put("globalControl", globalControl)
        record.put("globalStatusLatched", globalStatusLatched)
        record.put("semaphoreTaken", semaphoreTaken)
        record.put("codec", codec.savedState)
        record.put("channels", [pcmIn, pcmOut, micIn].map(\.savedState))
    }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: record.name, field: field) }
        let saved = try checkedConfigSpace(record)
        let control: UInt32 = try record.unsigned("globalControl")
        guard control & ~(GlobalControl.writable & ~GlobalControl.warmReset) == 0 else { throw refuse("globalControl") }
        let latched: UInt32 = try record.unsigned("globalStatusLatched")
        guard latched & ~GlobalStatus.writeOneToClear == 0 else { throw refuse("globalStatusLatched") }
        let semaphore = try record.bool("semaphoreTaken")
        let loadCodec = try codec.prepareLoad(try record.record("codec"))
        let boxes = try record.records("channels", count: 3)
        let loadChannels = try zip([pcmIn, pcmOut, micIn], boxes).map { try $0.prepareLoad($1) }
        return { [unowned self] in
            apply(saved)
            globalControl = control
            globalStatusLatched = latched
            semaphoreTaken = semaphore
            loadCodec()
            for load in loadChannels { load() }
            updateInterrupt()
        }
    }
}

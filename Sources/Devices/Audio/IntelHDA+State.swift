import Lifecycle

/// The HDA controller: its configuration space (BAR 0 mapped where it
/// says), the global registers, the wall clock's origin, CORB and RIRB
/// (bases, pointers, control and status), the immediate command registers,
/// the DMA position buffer, the codec's widgets and the eight streams. A
/// ring pointer past its ring's size is refused. Recording from the host
/// starts or stops as the loaded input streams run.
extension IntelHDA: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1

    public func saveFunction(into record: inout StateRecord) {
        saveConfigSpace(into: &record)
        record.put("globalControl", globalControl)
        record.put("wakeEnable", wakeEnable)
        record.put("stateChange", stateChange)
        record.put("interruptControl", interruptControl)
        record.put("streamSync", streamSync)
        record.put("wallClockOrigin", wallClockOrigin)
        record.put("corb", words: [corbLow, corbHigh])
        record.put("corbWritePointer", corbWritePointer)
        record.put("corbReadPointer", corbReadPointer)
        record.put("corbResetting", corbResetting)
        record.put("corbControl", corbControl)
        record.put("corbStatus", corbStatus)
        record.put("corbSize", corbSize)
        record.put("rirb", words: [rirbLow, rirbHigh])
        record.put("rirbWritePointer", rirbWritePointer)
        record.put("responseInterruptCount", responseInterruptCount)
        record.put("rirbControl", rirbControl)
        record.put("rirbStatus", rirbStatus)
        record.put("rirbSize", rirbSize)
        record.put("immediate", words: [immediateCommand, immediateResponse])
        record.put("immediateStatus", immediateStatus)
        record.put("position", words: [positionLow, positionHigh])
        record.put("codec", codec.savedState)
        record.put("streams", streams.map(\.savedState))
    }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: record.name, field: field) }
        func masked<T: FixedWidthInteger & UnsignedInteger>(_ field: String, _ allowed: T) throws -> T {
            let value: T = try record.unsigned(field)
            guard value & ~allowed == 0 else { throw refuse(field) }
            return value
        }
        let saved = try checkedConfigSpace(record)
        let control = try masked("globalControl", IntelHDA.controllerReset | IntelHDA.acceptUnsolicited | 0x2)
        let wake = try masked("wakeEnable", UInt16(0x7FFF))
        let change: UInt16 = try record.unsigned("stateChange")
        let interrupts: UInt32 = try record.unsigned("interruptControl")
        let sync = try masked("streamSync", UInt32(0xFF))
        let wallClock = try record.signed("wallClockOrigin")
        guard wallClock <= clock.now else { throw refuse("wallClockOrigin") }
        let corb = try record.words("corb", count: 2, as: UInt32.self), rirb = try record.words("rirb", count: 2, as: UInt32.self)
        guard corb[0] & 0x7F == 0 else { throw refuse("corb") }
        guard rirb[0] & 0x7F == 0 else { throw refuse("rirb") }
        let corbSizeValue = try masked("corbSize", IntelHDA.ringSizeValue & 0xF0 | 0x3)
        let rirbSizeValue = try masked("rirbSize", IntelHDA.ringSizeValue & 0xF0 | 0x3)
        guard corbSizeValue & 0xF0 == IntelHDA.ringSizeValue & 0xF0 else { throw refuse("corbSize") }
        guard rirbSizeValue & 0xF0 == IntelHDA.ringSizeValue & 0xF0 else { throw refuse("rirbSize") }
        let corbWrite = try masked("corbWritePointer", UInt16(0xFF))
        let corbRead: UInt16 = try record.unsigned("corbReadPointer")
        guard corbRead < IntelHDA.entries(corbSizeValue) else { throw refuse("corbReadPointer") }
        let rirbWrite: UInt16 = try record.unsigned("rirbWritePointer")
        guard rirbWrite < IntelHDA.entries(rirbSizeValue) else { throw refuse("rirbWritePointer") }
        let resetting = try record.bool("corbResetting")
        let corbControlValue = try masked("corbControl", IntelHDA.corbRun | IntelHDA.corbMemoryErrorEnable)
        let corbStatusValue = try masked("corbStatus", UInt8(0x1))
        let count = try masked("responseInterruptCount", UInt16(0xFF))
        let rirbControlValue = try masked("rirbControl", UInt8(0x7))
        let rirbStatusValue = try masked("rirbStatus", UInt8(0x5))
        let immediate = try record.words("immediate", count: 2, as: UInt32.self)
        let immediateStatusValue = try masked("immediateStatus", IntelHDA.immediateValid)
        let position = try record.words("position", count: 2, as: UInt32.self)
        guard position[0] & 0x7E == 0 else { throw refuse("position") }
        let loadCodec = try codec.prepareLoad(try record.record("codec"))
        let loadStreams = try zip(streams, try record.records("streams", count: streams.count)).map { try $0.prepareLoad($1) }
        return { [unowned self] in
            apply(saved)
            globalControl = control
            wakeEnable = wake
            stateChange = change
            interruptControl = interrupts
            streamSync = sync
            wallClockOrigin = wallClock
            corbLow = corb[0]; corbHigh = corb[1]
            corbWritePointer = corbWrite; corbReadPointer = corbRead; corbResetting = resetting
            corbControl = corbControlValue; corbStatus = corbStatusValue; corbSize = corbSizeValue
            rirbLow = rirb[0]; rirbHigh = rirb[1]
            rirbWritePointer = rirbWrite; responseInterruptCount = count
            rirbControl = rirbControlValue; rirbStatus = rirbStatusValue; rirbSize = rirbSizeValue
            immediateCommand = immediate[0]; immediateResponse = immediate[1]; immediateStatus = immediateStatusValue
            positionLow = position[0]; positionHigh = position[1]
            loadCodec()
            for load in loadStreams { load() }
            let recording = streams.contains { !$0.isOutput && $0.isRunning }
            if recording != capturing, let capture {
                capturing = recording
                if recording { capture.start() } else { capture.stop() }
            }
            updateInterrupt()
        }
    }
}

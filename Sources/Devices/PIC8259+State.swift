import Lifecycle

extension PIC8259Chip {
    /// One chip's registers, its initialisation progress, its ELCR and the
    /// levels last seen on its input wires.
    func save() -> StateRecord {
        var record = StateRecord(name: name, version: 1)
        record.put("irr", state.irr)
        record.put("isr", state.isr)
        record.put("imr", state.imr)
        record.put("highestPriorityInput", state.highestPriorityInput)
        record.put("vectorBase", state.vectorBase)
        let step: UInt8 = switch state.initStep { case .ready: 0; case .icw2: 1; case .icw3: 2; case .icw4: 3 }
        record.put("initStep", step)
        record.put("expectICW4", state.expectICW4)
        record.put("singleMode", state.singleMode)
        record.put("allLevelTriggered", state.allLevelTriggered)
        record.put("cascadeWord", state.cascadeWord)
        record.put("autoEOI", state.autoEOI)
        record.put("rotateOnAutoEOI", state.rotateOnAutoEOI)
        record.put("specialFullyNested", state.specialFullyNested)
        record.put("specialMask", state.specialMask)
        record.put("readISR", state.readISR)
        record.put("pollNext", state.pollNext)
        record.put("elcr", elcr)
        record.put("inputLevels", inputLevels)
        return record
    }

    func load(_ record: StateRecord) throws {
        try record.expect(name, version: 1)
        var loaded = State()
        loaded.irr = try record.unsigned("irr")
        loaded.isr = try record.unsigned("isr")
        loaded.imr = try record.unsigned("imr")
        loaded.highestPriorityInput = try record.unsigned("highestPriorityInput")
        guard loaded.highestPriorityInput < 8 else { throw StateRecordError.outOfRange(record: name, field: "highestPriorityInput") }
        loaded.vectorBase = try record.unsigned("vectorBase")
        switch try record.unsigned("initStep", as: UInt8.self) {
        case 0: loaded.initStep = .ready
        case 1: loaded.initStep = .icw2
        case 2: loaded.initStep = .icw3
        case 3: loaded.initStep = .icw4
        default: throw StateRecordError.outOfRange(record: name, field: "initStep")
        }
        loaded.expectICW4 = try record.bool("expectICW4")
        loaded.singleMode = try record.bool("singleMode")
        loaded.allLevelTriggered = try record.bool("allLevelTriggered")
        loaded.cascadeWord = try record.unsigned("cascadeWord")
        loaded.autoEOI = try record.bool("autoEOI")
        loaded.rotateOnAutoEOI = try record.bool("rotateOnAutoEOI")
        loaded.specialFullyNested = try record.bool("specialFullyNested")
        loaded.specialMask = try record.bool("specialMask")
        loaded.readISR = try record.bool("readISR")
        loaded.pollNext = try record.bool("pollNext")
        let loadedELCR: UInt8 = try record.unsigned("elcr")
        let loadedLevels: UInt8 = try record.unsigned("inputLevels")
        state = loaded
        elcr = loadedELCR & elcrWritableMask
        inputLevels = loadedLevels
    }
}

/// The pair's state: both chips. The INT output is recomputed from them, so
/// the CPU's interrupt line follows the loaded requests.
extension PIC8259: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "i8259-pair"

    public func save(into record: inout StateRecord) {
        record.put("master", master.save())
        record.put("slave", slave.save())
    }

    public func load(from record: StateRecord) throws {
        let masterRecord = try record.record("master"), slaveRecord = try record.record("slave")
        try master.load(masterRecord)
        try slave.load(slaveRecord)
        update()
    }
}

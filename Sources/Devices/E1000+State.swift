import Lifecycle

/// The 82540EM's configuration space (its BARs remapped where it says), the
/// register file, the EEPROM and PHY, the I/O window's address, a frame
/// half gathered from transmit descriptors with its offload context, and
/// interrupt moderation: when INTA# last rose and the ITR timer, with the
/// timer that resumes a transmit ring a pass left unfinished. Descriptor
/// rings live in guest RAM, which is saved on its own.
extension E1000: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1
    static let contextFields: [(name: String, limit: Int, path: WritableKeyPath<E1000Offload.Context, Int>)] = [
        ("ipStart", 0xFF, \.ipStart), ("ipOffset", 0xFF, \.ipOffset), ("ipEnd", 0xFFFF, \.ipEnd),
        ("transportStart", 0xFF, \.transportStart), ("transportOffset", 0xFF, \.transportOffset),
        ("transportEnd", 0xFFFF, \.transportEnd), ("payloadLength", 0xF_FFFF, \.payloadLength),
        ("headerLength", 0xFF, \.headerLength), ("segmentSize", 0xFFFF, \.segmentSize),
    ]

    public func saveFunction(into record: inout StateRecord) {
        saveConfigSpace(into: &record)
        record.put("registers", words: registers)
        record.put("eeprom", eeprom.savedState)
        record.put("phy", phy.savedState)
        record.put("ioAddress", ioAddress)
        record.put("pending", pending)
        var saved = StateRecord(name: "e1000-offload-context", version: 1)
        for field in E1000.contextFields { saved.put(field.name, context[keyPath: field.path]) }
        saved.put("isTCP", context.isTCP)
        saved.put("isIPv4", context.isIPv4)
        saved.put("segmentation", context.segmentation)
        record.put("context", saved)
        record.put("pendingSegmentation", pendingSegmentation)
        record.put("pendingIPChecksum", pendingChecksums.ip)
        record.put("pendingTransportChecksum", pendingChecksums.transport)
        record.put("lastInterruptTime", lastInterruptTime)
        record.putTimer(moderationTimer, clock: clock)
        record.putTimer(transmitTimer, clock: clock)
    }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: record.name, field: field) }
        let saved = try checkedConfigSpace(record)
        let loadedRegisters = try record.words("registers", count: registers.count, as: UInt32.self)
        let register = { (offset: UInt32) in loadedRegisters[Int(offset >> 2)] }
        // What no guest write can leave in these registers.
        guard register(Register.status) == Status.fullDuplex | Status.linkUp | Status.speed1000,
              register(Register.control) & (Control.reset | Control.phyReset) == 0,
              register(Register.interruptCause) & ~Cause.all == 0, register(Register.interruptMaskSet) & ~Cause.all == 0,
              [Register.receiveLength, Register.transmitLength].allSatisfy({ register($0) & ~0x000F_FF80 == 0 }),
              [Register.receiveHead, Register.receiveTail, Register.transmitHead, Register.transmitTail].allSatisfy({ register($0) <= 0xFFFF })
        else { throw refuse("registers") }
        let loadedEEPROM = try eeprom.loaded(from: try record.record("eeprom"))
        let loadedPHY = try E1000PHY.loaded(from: try record.record("phy"))
        let loadedIOAddress: UInt32 = try record.unsigned("ioAddress")
        let loadedPending = try record.bytes("pending")
        guard loadedPending.count <= E1000.maximumTransmitBytes else { throw refuse("pending") }
        let savedContext = try record.record("context")
        try savedContext.expect("e1000-offload-context", version: 1)
        var loadedContext = E1000Offload.Context()
        for field in E1000.contextFields {
            loadedContext[keyPath: field.path] = try savedContext.int(field.name, in: 0...field.limit)
        }
        loadedContext.isTCP = try savedContext.bool("isTCP")
        loadedContext.isIPv4 = try savedContext.bool("isIPv4")
        loadedContext.segmentation = try savedContext.bool("segmentation")
        let loadedSegmentation = try record.bool("pendingSegmentation")
        let loadedChecksums = (ip: try record.bool("pendingIPChecksum"), transport: try record.bool("pendingTransportChecksum"))
        let loadedLastInterrupt = try record.signed("lastInterruptTime")
        guard loadedLastInterrupt <= clock.now else { throw refuse("lastInterruptTime") }
        let moderation = try record.savedTimer(moderationTimer), continuation = try record.savedTimer(transmitTimer)
        return { [unowned self] in
            apply(saved)
            registers = loadedRegisters
            eeprom = loadedEEPROM
            phy = loadedPHY
            ioAddress = loadedIOAddress
            pending = loadedPending
            context = loadedContext
            pendingSegmentation = loadedSegmentation
            pendingChecksums = loadedChecksums
            lastInterruptTime = loadedLastInterrupt
            StateRecord.arm(moderationTimer, remaining: moderation, clock: clock, scheduler: scheduler)
            StateRecord.arm(transmitTimer, remaining: continuation, clock: clock, scheduler: scheduler)
        }
    }
}

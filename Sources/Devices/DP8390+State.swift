import Lifecycle

/// The DP8390's registers (all three pages), the remote DMA's address and
/// count, the tally counters, ISR/IMR and the board's buffer memory with
/// its PROM, as one nested record that both NE2000 boards carry.
///
/// Ring pointers are kept as the guest wrote them, even outside the buffer
/// memory: the guest may program such values and the chip already refuses
/// to use them (`validRing`), so they are state, not damage. The PROM holds
/// the configured MAC address, which the guest cannot change: a record with
/// another one is from another configuration.
///
/// Frames the machine's network link holds for a full ring are not part of
/// the chip: they are the back end's, in flight on the wire. A load keeps
/// the loading machine's link as it is and a new process starts with an
/// empty one; frames lost so are what TCP retransmits (QEMU drops them too).
extension DP8390 {
    static let chipStateName = "dp8390"
    static let chipStateVersion: UInt32 = 1

    func savedChip() -> StateRecord {
        var record = StateRecord(name: DP8390.chipStateName, version: DP8390.chipStateVersion)
        record.put("command", state.command)
        record.put("started", state.started)
        record.put("pageStart", state.pageStart)
        record.put("pageStop", state.pageStop)
        record.put("boundary", state.boundary)
        record.put("currentPage", state.currentPage)
        record.put("transmitPageStart", state.transmitPageStart)
        record.put("transmitByteCount", state.transmitByteCount)
        record.put("transmitStatus", state.transmitStatus)
        record.put("remoteStartAddress", state.remoteStartAddress)
        record.put("remoteByteCount", state.remoteByteCount)
        record.put("remoteAddress", state.remoteAddress)
        record.put("interruptStatus", state.interruptStatus)
        record.put("interruptMask", state.interruptMask)
        record.put("receiveConfiguration", state.receiveConfiguration)
        record.put("transmitConfiguration", state.transmitConfiguration)
        record.put("dataConfiguration", state.dataConfiguration)
        record.put("receiveStatus", state.receiveStatus)
        record.put("physicalAddress", state.physicalAddress)
        record.put("multicastFilter", state.multicastFilter)
        record.put("tally", state.tally)
        record.put("receiveActivity", state.receiveActivity)
        record.put("prom", Array(memory[0..<DP8390.promSize]))
        record.put("ram", Array(memory[DP8390.memoryBase...]))
        return record
    }

    /// Checks `record` whole, changing nothing; the closure returned takes
    /// it and drives the interrupt line to the loaded level.
    func prepareChipLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect(DP8390.chipStateName, version: DP8390.chipStateVersion)
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: DP8390.chipStateName, field: field) }
        var loaded = State()
        loaded.command = try record.unsigned("command")
        loaded.started = try record.bool("started")
        let stopped = loaded.command & Command.stop != 0, starting = loaded.command & Command.start != 0
        // STP clears STA, and TXP is done before any register access returns.
        guard !(stopped && starting), loaded.command & Command.transmit == 0 else { throw refuse("command") }
        guard !(stopped && loaded.started), !(starting && !loaded.started) else { throw refuse("started") }
        loaded.pageStart = try record.unsigned("pageStart")
        loaded.pageStop = try record.unsigned("pageStop")
        loaded.boundary = try record.unsigned("boundary")
        loaded.currentPage = try record.unsigned("currentPage")
        loaded.transmitPageStart = try record.unsigned("transmitPageStart")
        loaded.transmitByteCount = try record.unsigned("transmitByteCount")
        loaded.transmitStatus = try record.unsigned("transmitStatus")
        loaded.remoteStartAddress = try record.unsigned("remoteStartAddress")
        loaded.remoteByteCount = try record.unsigned("remoteByteCount")
        loaded.remoteAddress = try record.unsigned("remoteAddress")
        loaded.interruptStatus = try record.unsigned("interruptStatus")
        loaded.interruptMask = try record.unsigned("interruptMask")
        loaded.receiveConfiguration = try record.unsigned("receiveConfiguration")
        loaded.transmitConfiguration = try record.unsigned("transmitConfiguration")
        loaded.dataConfiguration = try record.unsigned("dataConfiguration")
        loaded.receiveStatus = try record.unsigned("receiveStatus")
        loaded.physicalAddress = try record.bytes("physicalAddress", count: loaded.physicalAddress.count)
        loaded.multicastFilter = try record.bytes("multicastFilter", count: loaded.multicastFilter.count)
        loaded.tally = try record.bytes("tally", count: loaded.tally.count)
        loaded.receiveActivity = try record.bool("receiveActivity")
        let prom = try record.bytes("prom", count: DP8390.promSize)
        guard prom.elementsEqual(memory[0..<DP8390.promSize]) else {
            throw StateRecordError.configurationMismatch(record: DP8390.chipStateName, reason: "the PROM holds another MAC address")
        }
        let ram = try record.bytes("ram", count: memorySize)
        return { [unowned self] in
            state = loaded
            memory.replaceSubrange(DP8390.memoryBase..., with: ram)
            updateInterrupt()
        }
    }
}

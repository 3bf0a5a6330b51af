import Lifecycle

/// The three counters as programmed (their start ticks are on the virtual
/// clock, which is saved with the machine), counter 0's output on IRQ 0 and
/// the timer armed for its next edge.
extension PIT8254: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "i8254"

    public func save(into record: inout StateRecord) {
        record.put("counters", state.counters.map(PIT8254.save))
        record.put("armedForRisingEdge", armedForRisingEdge)
        record.put("irq0", irq0.level)
        record.putTimer(outputEdgeTimer, clock: clock)
    }

    public func load(from record: StateRecord) throws {
        let counters = try record.records("counters", count: state.counters.count).map(PIT8254.loadCounter)
        // A counter cannot have started after now (the clock is loaded first).
        guard counters.allSatisfy({ $0.startTick <= currentTick }) else {
            throw StateRecordError.outOfRange(record: PIT8254.stateName, field: "startTick")
        }
        let rising = try record.bool("armedForRisingEdge")
        let level = try record.bool("irq0")
        try record.loadTimer(outputEdgeTimer, clock: clock, scheduler: scheduler)
        state.counters = counters
        armedForRisingEdge = rising
        irq0.set(level)
    }

    static func save(_ counter: Counter) -> StateRecord {
        var record = StateRecord(name: "counter", version: 1)
        record.put("writtenMode", counter.writtenMode)
        record.put("mode", counter.mode)
        record.put("bcd", counter.bcd)
        record.put("access", counter.access.rawValue)
        record.put("initialCount", counter.initialCount)
        let phase: UInt8 = switch counter.phase { case .unprogrammed: 0; case .waitingForGate: 1; case .counting: 2; case .paused: 3 }
        record.put("phase", phase)
        record.put("startTick", counter.startTick)
        record.put("pausedElapsed", counter.pausedElapsed)
        record.put("gate", counter.gate)
        record.put("latchedCount", counter.latchedCount.map { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)] } ?? [])
        record.put("latchedStatus", counter.latchedStatus.map { [$0] } ?? [])
        record.put("readHighByteNext", counter.readHighByteNext)
        record.put("writeHighByteNext", counter.writeHighByteNext)
        record.put("pendingLowByte", counter.pendingLowByte)
        return record
    }

    static func loadCounter(_ record: StateRecord) throws -> Counter {
        try record.expect("counter", version: 1)
        var counter = Counter(gate: try record.bool("gate"))
        counter.writtenMode = try record.unsigned("writtenMode")
        counter.mode = try record.unsigned("mode")
        guard counter.writtenMode < 8, counter.mode < 6 else { throw StateRecordError.outOfRange(record: "counter", field: "mode") }
        counter.bcd = try record.bool("bcd")
        guard let access = Access(rawValue: try record.unsigned("access")) else {
            throw StateRecordError.outOfRange(record: "counter", field: "access")
        }
        counter.access = access
        counter.initialCount = Int64(try record.int("initialCount", in: 1...0x10000))
        switch try record.unsigned("phase", as: UInt8.self) {
        case 0: counter.phase = .unprogrammed
        case 1: counter.phase = .waitingForGate
        case 2: counter.phase = .counting
        case 3: counter.phase = .paused
        default: throw StateRecordError.outOfRange(record: "counter", field: "phase")
        }
        counter.startTick = try record.signed("startTick")
        counter.pausedElapsed = Int64(try record.int("pausedElapsed", in: 0...Int.max))
        switch try record.bytes("latchedCount") {
        case []: counter.latchedCount = nil
        case let bytes where bytes.count == 2: counter.latchedCount = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        default: throw StateRecordError.outOfRange(record: "counter", field: "latchedCount")
        }
        switch try record.bytes("latchedStatus") {
        case []: counter.latchedStatus = nil
        case let bytes where bytes.count == 1: counter.latchedStatus = bytes[0]
        default: throw StateRecordError.outOfRange(record: "counter", field: "latchedStatus")
        }
        counter.readHighByteNext = try record.bool("readHighByteNext")
        counter.writeHighByteNext = try record.bool("writeHighByteNext")
        counter.pendingLowByte = try record.unsigned("pendingLowByte")
        return counter
    }
}

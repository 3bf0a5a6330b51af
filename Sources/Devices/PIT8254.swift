import Memory
import PCEmuSupport
import Timing

/// The 8254 programmable interval timer: three 16-bit down-counters clocked
/// at 1.193182 MHz, ports 0x40-0x42 (counters) and 0x43 (control word).
/// Counts are computed from elapsed guest time, never ticked: a counter
/// remembers the PIT tick at which it started and derives its value and
/// output from the ticks since. Counter 0's output drives IRQ 0 through a
/// timer armed for its next output edge; counter 2's gate and output belong
/// to port 0x61.
public final class PIT8254: PortHandler {
    public static let base: UInt16 = 0x40
    public static let portCount = 4
    /// The input clock of all three counters (Hz).
    public static let frequency: Int64 = 1_193_182

    enum Port {
        static let counter0: UInt16 = 0
        static let control: UInt16 = 3
    }

    enum ControlWord {
        static let counterShift: UInt8 = 6
        static let readBackSelector: UInt8 = 3
        static let accessShift: UInt8 = 4
        static let accessMask: UInt8 = 0x30
        static let modeShift: UInt8 = 1
        static let modeMask: UInt8 = 0x0E
        static let bcd: UInt8 = 0x01
        // Read-back command: active-low "latch" bits and one bit per counter
        static let readBackSkipCount: UInt8 = 0x20
        static let readBackSkipStatus: UInt8 = 0x10
        static let readBackCounter0: UInt8 = 0x02
    }

    enum StatusBit {
        static let output: UInt8 = 0x80
        static let nullCount: UInt8 = 0x40
    }

    /// How the counter's 16 bits move through its 8-bit port.
    enum Access: UInt8 {
        case latchCommand = 0, lowByte = 1, highByte = 2, lowThenHigh = 3
    }

    enum Phase {
        /// Control word written, no count yet.
        case unprogrammed
        /// Count written, waiting for a gate rising edge (modes 1 and 5), or
        /// held by a low gate (modes 2 and 3).
        case waitingForGate
        /// Counting: the value follows from `startTick`.
        case counting
        /// Modes 0 and 4 with the gate low: counting suspended at `pausedElapsed`.
        case paused
    }

    struct Counter {
        /// Mode as written (0-7), for the status byte; `mode` folds 6/7 onto 2/3.
        var writtenMode: UInt8 = 0
        var mode: UInt8 = 0
        var bcd = false
        var access = Access.lowThenHigh
        /// The initial count N; a written 0 means the full modulus.
        var initialCount: Int64 = 0x10000
        var phase = Phase.unprogrammed
        var startTick: Int64 = 0
        var pausedElapsed: Int64 = 0
        var gate: Bool
        var latchedCount: UInt16?
        var latchedStatus: UInt8?
        var readHighByteNext = false
        var writeHighByteNext = false
        var pendingLowByte: UInt8 = 0

        init(gate: Bool) { self.gate = gate }

        var modulus: Int64 { bcd ? 10_000 : 0x10000 }

        /// Modes 2 and 3 divide by N; a count of 1 would divide by nothing.
        var period: Int64 { max(initialCount, 2) }

        func elapsed(at tick: Int64) -> Int64 {
            phase == .counting ? tick &- startTick : pausedElapsed
        }

        func output(at tick: Int64) -> Bool {
            switch phase {
            case .unprogrammed: return mode != 0
            case .waitingForGate: return true
            case .counting, .paused: break
            }
            let elapsed = elapsed(at: tick)
            switch mode {
            case 0, 1: return elapsed >= initialCount
            case 2: return elapsed % period != period - 1
            case 3: return elapsed % period < (period + 1) / 2
            default: return elapsed != initialCount
            }
        }

        /// The counting element's value (0 ..< modulus).
        func count(at tick: Int64) -> Int64 {
            guard phase == .counting || phase == .paused else { return initialCount % modulus }
            let elapsed = elapsed(at: tick)
            let value: Int64
            switch mode {
            case 2: value = period - elapsed % period
            // Mode 3 counts down by two, twice per period.
            case 3: value = period - (2 &* elapsed) % period
            default: value = initialCount - elapsed
            }
            return ((value % modulus) + modulus) % modulus
        }

        /// The next tick after `tick` at which the output changes, if any.
        func nextOutputChange(after tick: Int64) -> Int64? {
            guard phase == .counting else { return nil }
            let elapsed = elapsed(at: tick)
            switch mode {
            case 0, 1:
                return elapsed < initialCount ? startTick &+ initialCount : nil
            case 2:
                let position = elapsed % period
                return position < period - 1 ? tick &+ (period - 1 - position) : tick &+ 1
            case 3:
                let position = elapsed % period, highTicks = (period + 1) / 2
                return position < highTicks ? tick &+ (highTicks - position) : tick &+ (period - position)
            default:
                if elapsed < initialCount { return startTick &+ initialCount }
                return elapsed == initialCount ? tick &+ 1 : nil
            }
        }

        func status(at tick: Int64) -> UInt8 {
            // Null count: a written count not yet in the counting element.
            let nullCount = phase == .unprogrammed || phase == .waitingForGate
                || (phase == .counting && tick == startTick)
            return (output(at: tick) ? StatusBit.output : 0) | (nullCount ? StatusBit.nullCount : 0)
                | access.rawValue << ControlWord.accessShift | writtenMode << ControlWord.modeShift
                | (bcd ? ControlWord.bcd : 0)
        }

        /// A complete count was written.
        mutating func load(_ raw: UInt16, at tick: Int64) {
            let value = bcd ? Int64(PIT8254.decodeBCD(raw)) : Int64(raw)
            initialCount = value == 0 ? modulus : value
            switch mode {
            case 0, 4:
                // Counts only while the gate is high.
                if gate { startCounting(at: tick) } else { phase = .paused; pausedElapsed = 0 }
            case 2, 3:
                // A real 8254 waits for the end of the current period; starting
                // afresh is indistinguishable for drivers that write once.
                if gate { startCounting(at: tick) } else { phase = .waitingForGate }
            default:
                phase = .waitingForGate
            }
        }

        mutating func startCounting(at tick: Int64) {
            phase = .counting
            startTick = tick
        }

        mutating func setGate(_ high: Bool, at tick: Int64) {
            defer { gate = high }
            guard high != gate, phase != .unprogrammed else { return }
            switch (mode, high) {
            case (0, false), (4, false):
                if phase == .counting { pausedElapsed = tick &- startTick; phase = .paused }
            case (0, true), (4, true):
                if phase == .paused { startCounting(at: tick &- pausedElapsed) }
            case (2, false), (3, false):
                phase = .waitingForGate
            case (_, true):
                // Modes 1, 2, 3, 5: a rising gate (re)starts the count.
                startCounting(at: tick)
            default:
                break
            }
        }
    }

    struct State {
        // Counters 0 and 1 have their gates tied high on a PC; counter 2's is port 0x61 bit 0.
        var counters = [Counter(gate: true), Counter(gate: true), Counter(gate: false)]
    }

    let clock: VirtualClock
    let scheduler: EventScheduler
    let irq0: InterruptLine
    var state = State()
    private(set) var outputEdgeTimer: TimerEvent!
    /// Whether the edge the timer is armed for is a rising one.
    var armedForRisingEdge = false
    /// False while something else holds IRQ 0 (the HPET in legacy
    /// replacement): counter 0's edges then reach nothing, and no timer is
    /// armed for them, so an idle guest on the HPET or the local APIC is not
    /// woken 18 times a second by a counter SeaBIOS left running.
    private(set) var irq0Connected = true

    /// `irq0` is counter 0's output wire (IRQ 0 on the master PIC).
    public init(clock: VirtualClock, scheduler: EventScheduler, irq0: InterruptLine) {
        self.clock = clock
        self.scheduler = scheduler
        self.irq0 = irq0
        super.init()
        outputEdgeTimer = TimerEvent(name: "pit-counter0") { [unowned self] in self.counter0EdgeDue() }
    }

    public func reset() {
        state = State()
        scheduler.cancel(outputEdgeTimer)
        irq0.set(state.counters[0].output(at: currentTick))
    }

    var currentTick: Int64 { TickConversion.ticks(inNanoseconds: clock.now, hz: PIT8254.frequency) }

    // MARK: What the rest of the machine sees

    /// The output pin of `counter` (0-2) now.
    public func output(ofCounter counter: Int) -> Bool {
        state.counters[counter].output(at: currentTick)
    }

    public func gate(ofCounter counter: Int) -> Bool { state.counters[counter].gate }

    /// Drives the gate input of `counter` (port 0x61 drives counter 2's).
    public func setGate(ofCounter counter: Int, _ high: Bool) {
        state.counters[counter].setGate(high, at: currentTick)
        if counter == 0 { counter0Changed() }
    }

    /// The initial count and mode of `counter`, for the PC speaker.
    public func programming(ofCounter counter: Int) -> (mode: Int, initialCount: Int) {
        (Int(state.counters[counter].mode), Int(state.counters[counter].initialCount))
    }

    // MARK: Ports

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        guard offset != Port.control else {
            Log.write(.guestErrors, "pit: read of the write-only control port")
            return 0xFF
        }
        let index = Int(offset)
        let tick = currentTick
        if let status = state.counters[index].latchedStatus {
            state.counters[index].latchedStatus = nil
            return UInt32(status)
        }
        let value: UInt16
        if let latched = state.counters[index].latchedCount {
            value = latched
        } else {
            let counter = state.counters[index]
            value = counter.bcd ? PIT8254.encodeBCD(counter.count(at: tick)) : UInt16(truncatingIfNeeded: counter.count(at: tick))
        }
        let byte: UInt8
        var finished = true
        switch state.counters[index].access {
        case .lowByte, .latchCommand:
            byte = UInt8(truncatingIfNeeded: value)
        case .highByte:
            byte = UInt8(truncatingIfNeeded: value >> 8)
        case .lowThenHigh:
            let high = state.counters[index].readHighByteNext
            byte = UInt8(truncatingIfNeeded: high ? value >> 8 : value)
            state.counters[index].readHighByteNext = !high
            finished = high
        }
        if finished { state.counters[index].latchedCount = nil }
        return UInt32(byte)
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        let tick = currentTick
        if offset == Port.control {
            writeControlWord(byte, at: tick)
        } else {
            writeCount(byte, counter: Int(offset), at: tick)
        }
    }

    private func writeControlWord(_ byte: UInt8, at tick: Int64) {
        let selector = byte >> ControlWord.counterShift
        if selector == ControlWord.readBackSelector {
            readBack(byte, at: tick)
            return
        }
        let index = Int(selector)
        let access = Access(rawValue: (byte & ControlWord.accessMask) >> ControlWord.accessShift)!
        if access == .latchCommand {
            // Freeze the count for reading; a second latch before it is read is ignored.
            if state.counters[index].latchedCount == nil {
                let counter = state.counters[index]
                let count = counter.count(at: tick)
                state.counters[index].latchedCount = counter.bcd ? PIT8254.encodeBCD(count) : UInt16(truncatingIfNeeded: count)
            }
            return
        }
        let writtenMode = (byte & ControlWord.modeMask) >> ControlWord.modeShift
        var counter = Counter(gate: state.counters[index].gate)
        counter.writtenMode = writtenMode
        counter.mode = writtenMode > 5 ? writtenMode & 3 : writtenMode
        counter.bcd = byte & ControlWord.bcd != 0
        counter.access = access
        state.counters[index] = counter
        if index == 0 { counter0Changed() }
    }

    private func readBack(_ byte: UInt8, at tick: Int64) {
        for index in 0..<3 where byte & (ControlWord.readBackCounter0 << UInt8(index)) != 0 {
            let counter = state.counters[index]
            if byte & ControlWord.readBackSkipCount == 0 && counter.latchedCount == nil {
                let count = counter.count(at: tick)
                state.counters[index].latchedCount = counter.bcd ? PIT8254.encodeBCD(count) : UInt16(truncatingIfNeeded: count)
            }
            if byte & ControlWord.readBackSkipStatus == 0 && counter.latchedStatus == nil {
                state.counters[index].latchedStatus = counter.status(at: tick)
            }
        }
    }

    private func writeCount(_ byte: UInt8, counter index: Int, at tick: Int64) {
        switch state.counters[index].access {
        case .lowByte, .latchCommand:
            state.counters[index].load(UInt16(byte), at: tick)
        case .highByte:
            state.counters[index].load(UInt16(byte) << 8, at: tick)
        case .lowThenHigh:
            if state.counters[index].writeHighByteNext {
                state.counters[index].writeHighByteNext = false
                state.counters[index].load(UInt16(state.counters[index].pendingLowByte) | UInt16(byte) << 8, at: tick)
            } else {
                state.counters[index].writeHighByteNext = true
                state.counters[index].pendingLowByte = byte
                // Mode 0: the first byte stops the count and drops the output.
                if state.counters[index].mode == 0 { state.counters[index].phase = .unprogrammed }
            }
        }
        if index == 0 { counter0Changed() }
    }

    // MARK: Counter 0 output and IRQ 0

    /// Sets IRQ 0 to counter 0's output and arms the timer for its next edge.
    private func counter0Changed() {
        let tick = currentTick
        irq0.set(state.counters[0].output(at: tick))
        armCounter0Timer(after: tick)
    }

    /// Connects counter 0's output to IRQ 0 again (it takes its level now) or
    /// disconnects it.
    public func setIRQ0Connected(_ connected: Bool) {
        irq0Connected = connected
        if connected { counter0Changed() } else { scheduler.cancel(outputEdgeTimer) }
    }

    private func armCounter0Timer(after tick: Int64) {
        let counter = state.counters[0]
        guard irq0Connected, let edge = counter.nextOutputChange(after: tick) else {
            scheduler.cancel(outputEdgeTimer)
            return
        }
        armedForRisingEdge = counter.output(at: edge)
        scheduler.schedule(outputEdgeTimer, at: TickConversion.nanoseconds(forTicks: edge, hz: PIT8254.frequency))
    }

    private func counter0EdgeDue() {
        let tick = currentTick
        let output = state.counters[0].output(at: tick)
        // If the timer ran late the output may already have moved on: a rising
        // edge it was armed for, or the end of a one-tick low pulse it was armed
        // to see start (modes 2, 4 and 5, where OUT dips low for one clock),
        // must still reach the PIC as a rising edge.
        let pulseEnded = !armedForRisingEdge && output
        if (armedForRisingEdge && (irq0.level || !output)) || pulseEnded {
            irq0.lower()
            irq0.raise()
        }
        irq0.set(output)
        armCounter0Timer(after: tick)
    }

    // MARK: BCD

    static func decodeBCD(_ value: UInt16) -> Int {
        var result = 0, scale = 1, rest = value
        for _ in 0..<4 {
            result &+= Int(rest & 0xF) * scale
            rest >>= 4
            scale *= 10
        }
        return result
    }

    static func encodeBCD(_ value: Int64) -> UInt16 {
        var result: UInt16 = 0, rest = value % 10_000
        for digit in 0..<4 {
            result |= UInt16(rest % 10) << UInt16(4 * digit)
            rest /= 10
        }
        return result
    }
}

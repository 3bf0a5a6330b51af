import Memory
import PCEmuSupport
import Timing

/// One CPU's local APIC in xAPIC mode (Intel SDM vol. 3, ch. 10): the 4 KiB
/// register page (at 0xFEE00000 until IA32_APIC_BASE moves it), interrupt
/// acceptance through IRR/ISR/TMR with the task and processor priorities,
/// EOI, the local vector table with its timer, LINT0/LINT1 and error
/// entries, the error status register and the ICR. Messages to other APICs
/// go through an `APICBus`; a second CPU's APIC is another instance on it.
///
/// The CPU reads `interruptPending` and `acknowledge()` at block boundaries
/// (the INTA cycle): a fixed interrupt from the IRR, or, through LINT0 in
/// ExtINT mode, the 8259's own vector. With the APIC disabled in
/// IA32_APIC_BASE, LINT0 is the CPU's plain INTR pin again.
public final class LocalAPIC: MMIOHandler {
    public static let defaultBase: UInt32 = 0xFEE0_0000
    public static let pageSize: UInt64 = 0x1000
    /// Integrated xAPIC, version 0x14, six LVT entries (maximum index 5).
    static let versionValue: UInt32 = 0x0005_0014
    /// The bus clock the timer divides: one tick per guest nanosecond.
    public static let busTicksPerSecond: Int64 = 1_000_000_000

    /// Register offsets in the page (each register is 16-byte aligned).
    enum Register {
        static let id: UInt32 = 0x020
        static let version: UInt32 = 0x030
        static let taskPriority: UInt32 = 0x080
        static let arbitrationPriority: UInt32 = 0x090
        static let processorPriority: UInt32 = 0x0A0
        static let endOfInterrupt: UInt32 = 0x0B0
        static let remoteRead: UInt32 = 0x0C0
        static let logicalDestination: UInt32 = 0x0D0
        static let destinationFormat: UInt32 = 0x0E0
        static let spuriousVector: UInt32 = 0x0F0
        static let inService: UInt32 = 0x100
        static let triggerMode: UInt32 = 0x180
        static let interruptRequest: UInt32 = 0x200
        static let errorStatus: UInt32 = 0x280
        static let commandLow: UInt32 = 0x300
        static let commandHigh: UInt32 = 0x310
        /// The LVT: timer, thermal, performance counters, LINT0, LINT1, error.
        static let lvtFirst: UInt32 = 0x320
        static let lvtLast: UInt32 = 0x370
        static let initialCount: UInt32 = 0x380
        static let currentCount: UInt32 = 0x390
        static let divideConfiguration: UInt32 = 0x3E0
    }

    /// LVT entries by index (offset 0x320 + 0x10 * index).
    public enum LVT: Int, CaseIterable {
        case timer = 0, thermal, performance, lint0, lint1, error
    }

    enum LVTBit {
        static let vector: UInt32 = 0xFF
        static let deliveryMode: UInt32 = 0x700
        static let deliveryModeShift: UInt32 = 8
        static let polarityLow: UInt32 = 1 << 13
        static let remoteIRR: UInt32 = 1 << 14
        static let levelTriggered: UInt32 = 1 << 15
        static let masked: UInt32 = 1 << 16
        static let timerMode: UInt32 = 3 << 17
        static let timerModeShift: UInt32 = 17
    }

    /// The bits each LVT entry keeps (delivery status reads 0: messages go at once).
    static let lvtWritable: [UInt32] = [
        LVTBit.vector | LVTBit.masked | LVTBit.timerMode,                                   // timer
        LVTBit.vector | LVTBit.deliveryMode | LVTBit.masked,                                // thermal
        LVTBit.vector | LVTBit.deliveryMode | LVTBit.masked,                                // performance
        LVTBit.vector | LVTBit.deliveryMode | LVTBit.polarityLow | LVTBit.levelTriggered | LVTBit.masked,  // LINT0
        LVTBit.vector | LVTBit.deliveryMode | LVTBit.polarityLow | LVTBit.levelTriggered | LVTBit.masked,  // LINT1
        LVTBit.vector | LVTBit.masked,                                                      // error
    ]

    public enum TimerMode: UInt32 { case oneShot = 0, periodic = 1, tscDeadline = 2 }

    enum SpuriousBit {
        static let vector: UInt32 = 0xFF
        static let softwareEnable: UInt32 = 1 << 8
        static let focusCheckDisabled: UInt32 = 1 << 9
    }

    /// Error status bits (SDM 10.5.3).
    enum ErrorBit {
        static let sendIllegalVector: UInt32 = 1 << 5
        static let receiveIllegalVector: UInt32 = 1 << 6
        static let illegalRegister: UInt32 = 1 << 7
    }

    /// IA32_APIC_BASE bits.
    public enum BaseMSR {
        public static let bootstrapProcessor: UInt64 = 1 << 8
        public static let globalEnable: UInt64 = 1 << 11
        public static let baseMask: UInt64 = 0xF_FFFF_F000
        /// What a write may set (the BSP flag is read-only, x2APIC is not built).
        static let writable: UInt64 = globalEnable | baseMask
    }

    enum Command {
        static let vector: UInt32 = 0xFF
        static let deliveryModeShift: UInt32 = 8
        static let logicalDestination: UInt32 = 1 << 11
        static let levelAssert: UInt32 = 1 << 14
        static let levelTriggered: UInt32 = 1 << 15
        static let shorthandShift: UInt32 = 18
        static let writableLow: UInt32 = 0x000C_CFFF
        static let destinationShift: UInt32 = 24
    }

    public let apicID: UInt8
    public let isBootstrapProcessor: Bool
    let clock: VirtualClock
    let scheduler: EventScheduler
    var timerEvent: TimerEvent!
    /// The bus to the I/O APIC and the other local APICs.
    public weak var bus: APICBus?

    /// Called with the CPU's INTR level each time it changes (wakes a halted CPU).
    public var outputChanged: (Bool) -> Void = { _ in }
    /// The 8259's INTA cycle, for an interrupt taken through LINT0 in ExtINT mode.
    public var externalAcknowledge: () -> UInt8 = { 0xFF }
    /// IA32_APIC_BASE changed: the machine moves (or removes) the register page.
    public var baseChanged: (_ old: UInt32?, _ new: UInt32?) -> Void = { _, _ in }
    /// A message in NMI, SMI, INIT or start-up mode reached this APIC: the
    /// CPU's part, which this machine's CPU does not have yet, so it is logged.
    public var specialMessage: (_ deliveryMode: DeliveryMode, _ vector: UInt8) -> Void = { mode, _ in
        Log.write(.unimplemented, "local apic: \(mode) message not delivered")
    }

    struct State {
        var base: UInt64 = 0
        var taskPriority: UInt32 = 0
        var logicalDestination: UInt32 = 0
        var destinationFormat: UInt32 = 0xFFFF_FFFF
        var spurious: UInt32 = 0xFF
        var inService = [UInt32](repeating: 0, count: 8)
        var triggerMode = [UInt32](repeating: 0, count: 8)
        var request = [UInt32](repeating: 0, count: 8)
        /// Errors seen since the last ESR write, and what that write latched.
        var pendingErrors: UInt32 = 0
        var errorStatus: UInt32 = 0
        var commandLow: UInt32 = 0
        var commandHigh: UInt32 = 0
        var lvt = [UInt32](repeating: LVTBit.masked, count: LVT.allCases.count)
        var divideConfiguration: UInt32 = 0
        var initialCount: UInt32 = 0
        /// Guest time the count was loaded (one-shot, periodic).
        var countStart: Int64 = 0
        /// A one-shot count loaded and not yet expired: it fires even when
        /// the host was so slow that its time has already passed.
        var oneShotPending = false
        /// The TSC value armed in IA32_TSC_DEADLINE (0: disarmed) and its guest time.
        var tscDeadline: UInt64 = 0
        var tscDeadlineTime: Int64 = 0
        /// The levels on LINT0 and LINT1 (LINT0 is the 8259's INT output).
        var lint = [false, false]
        var output = false
    }

    var state = State()

    public init(apicID: UInt8 = 0, bootstrapProcessor: Bool = true, clock: VirtualClock, scheduler: EventScheduler) {
        self.apicID = apicID
        self.isBootstrapProcessor = bootstrapProcessor
        self.clock = clock
        self.scheduler = scheduler
        super.init()
        timerEvent = TimerEvent(name: "apic\(apicID)-timer") { [unowned self] in self.timerExpired() }
        reset()
    }

    /// Power-on state: enabled at 0xFEE00000 in IA32_APIC_BASE, software
    /// disabled, every LVT entry masked, except that the bootstrap
    /// processor's LINT0 passes the 8259 through (ExtINT), as QEMU's PC
    /// starts it and as firmware leaves it, so a guest that never touches
    /// the APIC sees the 8259 alone.
    public func reset() {
        let oldBase = hardwareEnabled ? pageBase : nil
        resetRegisters()
        state.base = UInt64(LocalAPIC.defaultBase) | BaseMSR.globalEnable
            | (isBootstrapProcessor ? BaseMSR.bootstrapProcessor : 0)
        if oldBase != pageBase { baseChanged(oldBase, pageBase) }
        updateOutput()
    }

    /// Every register to its power-on value; IA32_APIC_BASE and the pins' levels stay.
    private func resetRegisters() {
        scheduler.cancel(timerEvent)
        let kept = (state.base, state.lint, state.output)
        state = State()
        (state.base, state.lint, state.output) = kept
        if isBootstrapProcessor { state.lvt[LVT.lint0.rawValue] = DeliveryMode.externalInterrupt.rawValue << LVTBit.deliveryModeShift }
    }

    // MARK: IA32_APIC_BASE

    public var hardwareEnabled: Bool { state.base & BaseMSR.globalEnable != 0 }
    public var softwareEnabled: Bool { state.spurious & SpuriousBit.softwareEnable != 0 }
    public var pageBase: UInt32 { UInt32(truncatingIfNeeded: state.base & BaseMSR.baseMask) }
    public var baseMSR: UInt64 { state.base }

    /// A WRMSR to IA32_APIC_BASE; false when it sets reserved bits (#GP).
    /// Clearing the enable bit puts the APIC in its power-on state with the
    /// page gone (LINT0 is then INTR); setting it again brings the page back.
    public func writeBaseMSR(_ value: UInt64) -> Bool {
        guard value & ~(BaseMSR.writable | BaseMSR.bootstrapProcessor) == 0, value >> 32 == 0 else { return false }
        let oldPage = hardwareEnabled ? pageBase : nil
        let enabling = value & BaseMSR.globalEnable != 0
        if !enabling && hardwareEnabled { resetRegisters() }
        state.base = (state.base & BaseMSR.bootstrapProcessor) | (value & BaseMSR.writable)
        let newPage = hardwareEnabled ? pageBase : nil
        if oldPage != newPage { baseChanged(oldPage, newPage) }
        updateOutput()
        return true
    }

    // MARK: the CPU's side (INTR and the INTA cycle)

    /// The highest vector set in a 256-bit register, or nil.
    static func highest(_ bits: [UInt32]) -> Int? {
        for word in stride(from: 7, through: 0, by: -1) where bits[word] != 0 {
            return word * 32 + 31 - bits[word].leadingZeroBitCount
        }
        return nil
    }

    /// PPR: the task priority, or the class of the highest vector in service if higher.
    public var processorPriority: UInt32 {
        let inService = UInt32(LocalAPIC.highest(state.inService) ?? 0)
        return (state.taskPriority & 0xF0) >= (inService & 0xF0) ? state.taskPriority & 0xFF : inService & 0xF0
    }

    /// The vector the IRR would deliver now, if its class beats the PPR.
    private var deliverableVector: Int? {
        guard hardwareEnabled, softwareEnabled, let vector = LocalAPIC.highest(state.request) else { return nil }
        return UInt32(vector) & 0xF0 > processorPriority & 0xF0 ? vector : nil
    }

    /// LINT0 carries the 8259's INT to the CPU: with the APIC disabled in
    /// IA32_APIC_BASE (LINT0 is INTR) or in ExtINT mode, unmasked.
    private var externalInterruptPending: Bool {
        guard state.lint[0] else { return false }
        if !hardwareEnabled { return true }
        let lvt = state.lvt[LVT.lint0.rawValue]
        return lvt & LVTBit.masked == 0 && DeliveryMode(lvt: lvt) == .externalInterrupt
    }

    public var interruptPending: Bool { deliverableVector != nil || externalInterruptPending }

    /// The INTA cycle: the IRR's vector goes in service; else the 8259's;
    /// else (the request went away) the spurious vector, which sets no ISR bit.
    public func acknowledge() -> UInt8 {
        defer { updateOutput() }
        if let vector = deliverableVector {
            LocalAPIC.clear(&state.request, vector)
            LocalAPIC.set(&state.inService, vector)
            return UInt8(vector)
        }
        if externalInterruptPending { return externalAcknowledge() }
        return UInt8(state.spurious & SpuriousBit.vector)
    }

    func updateOutput() {
        let level = interruptPending
        guard level != state.output else { return }
        state.output = level
        outputChanged(level)
    }

    static func set(_ bits: inout [UInt32], _ vector: Int) { bits[vector >> 5] |= 1 << UInt32(vector & 31) }
    static func clear(_ bits: inout [UInt32], _ vector: Int) { bits[vector >> 5] &= ~(1 << UInt32(vector & 31)) }
    static func test(_ bits: [UInt32], _ vector: Int) -> Bool { bits[vector >> 5] & (1 << UInt32(vector & 31)) != 0 }

    // MARK: accepting interrupts

    /// A fixed (or lowest-priority) interrupt arriving: into the IRR, its
    /// trigger mode into the TMR (a level one is EOI'd back to the I/O APIC).
    public func accept(vector: UInt8, levelTriggered: Bool) {
        guard vector >= 16 else {
            recordError(ErrorBit.receiveIllegalVector)
            return
        }
        LocalAPIC.set(&state.request, Int(vector))
        if levelTriggered { LocalAPIC.set(&state.triggerMode, Int(vector)) } else { LocalAPIC.clear(&state.triggerMode, Int(vector)) }
        updateOutput()
    }

    /// A message from the bus, already known to be for this APIC.
    func receive(_ message: APICMessage) {
        guard hardwareEnabled else { return }
        switch message.deliveryMode {
        case .fixed, .lowestPriority: accept(vector: message.vector, levelTriggered: message.levelTriggered)
        case .nmi, .smi, .initialize, .startup, .externalInterrupt: specialMessage(message.deliveryMode, message.vector)
        }
    }

    /// Whether a message with this destination names this APIC (xAPIC flat and cluster models).
    func matches(destination: UInt8, logical: Bool) -> Bool {
        guard logical else { return destination == 0xFF || destination == apicID }
        let mine = UInt8(truncatingIfNeeded: state.logicalDestination >> 24)
        if state.destinationFormat >> 28 == 0xF { return destination & mine != 0 }
        // Cluster model: the high nibble names the cluster (0xF: all), the low one the members.
        let clusterMatches = destination >> 4 == 0xF || destination >> 4 == mine >> 4
        return clusterMatches && destination & mine & 0x0F != 0
    }

    // MARK: LINT0 and LINT1

    /// The level on LINT0 (0) or LINT1 (1). LINT0 is the 8259's INT output.
    public func setLocalInput(_ pin: Int, level: Bool) {
        guard pin == 0 || pin == 1, state.lint[pin] != level else { return }
        state.lint[pin] = level
        let entry = pin == 0 ? LVT.lint0 : LVT.lint1
        let lvt = state.lvt[entry.rawValue]
        if hardwareEnabled, lvt & LVTBit.masked == 0, DeliveryMode(lvt: lvt) != .externalInterrupt {
            // The pin is active high unless the polarity bit says low.
            let active = level != (lvt & LVTBit.polarityLow != 0)
            let levelTriggered = lvt & LVTBit.levelTriggered != 0 && DeliveryMode(lvt: lvt) == .fixed
            if active {
                if levelTriggered { state.lvt[entry.rawValue] |= LVTBit.remoteIRR }
                deliverLocal(entry)
            }
        }
        updateOutput()
    }

    /// An LVT entry's interrupt: nothing while masked.
    private func deliverLocal(_ entry: LVT) {
        let lvt = state.lvt[entry.rawValue]
        guard hardwareEnabled, lvt & LVTBit.masked == 0 else { return }
        let vector = UInt8(lvt & LVTBit.vector)
        let mode = entry == .timer || entry == .error ? .fixed : (DeliveryMode(lvt: lvt) ?? .fixed)
        switch mode {
        case .fixed, .lowestPriority:
            accept(vector: vector, levelTriggered: entry != .timer && entry != .error && lvt & LVTBit.levelTriggered != 0)
        case .externalInterrupt: updateOutput()
        case .nmi, .smi, .initialize, .startup: specialMessage(mode, vector)
        }
    }

    private func recordError(_ bit: UInt32) {
        let first = state.pendingErrors & bit == 0
        state.pendingErrors |= bit
        if first { deliverLocal(.error) }
    }

    // MARK: registers

    public override func read(offset: UInt32, size: AccessSize) -> UInt32 {
        let value = readRegister(offset & 0xFF0)
        // Narrower reads see the register's bytes; the rest of a 16-byte slot reads 0.
        let inside = offset & 0xF
        guard inside < 4 else { return 0 }
        return (value >> (inside * 8)) & size.mask
    }

    public override func write(offset: UInt32, value: UInt32, size: AccessSize) {
        guard size == .dword, offset & 0xF == 0 else {
            Log.write(.guestErrors, "local apic: \(size) write at 0x\(String(offset, radix: 16)) ignored")
            return
        }
        writeRegister(offset, value)
    }

    /// The 32-bit register at a 16-byte aligned offset.
    public func readRegister(_ offset: UInt32) -> UInt32 {
        switch offset {
        case Register.id: return UInt32(apicID) << 24
        case Register.version: return LocalAPIC.versionValue
        case Register.taskPriority: return state.taskPriority
        case Register.arbitrationPriority: return 0
        case Register.processorPriority: return processorPriority
        case Register.logicalDestination: return state.logicalDestination
        case Register.destinationFormat: return state.destinationFormat
        case Register.spuriousVector: return state.spurious
        case Register.inService..<Register.triggerMode: return state.inService[Int(offset - Register.inService) >> 4]
        case Register.triggerMode..<Register.interruptRequest: return state.triggerMode[Int(offset - Register.triggerMode) >> 4]
        case Register.interruptRequest..<Register.errorStatus: return state.request[Int(offset - Register.interruptRequest) >> 4]
        case Register.errorStatus: return state.errorStatus
        case Register.commandLow: return state.commandLow
        case Register.commandHigh: return state.commandHigh
        case Register.lvtFirst...Register.lvtLast: return state.lvt[Int(offset - Register.lvtFirst) >> 4]
        case Register.initialCount: return state.initialCount
        case Register.currentCount: return currentCount
        case Register.divideConfiguration: return state.divideConfiguration
        case Register.endOfInterrupt, Register.remoteRead: return 0
        default:
            recordError(ErrorBit.illegalRegister)
            return 0
        }
    }

    public func writeRegister(_ offset: UInt32, _ value: UInt32) {
        switch offset {
        case Register.taskPriority:
            state.taskPriority = value & 0xFF
            updateOutput()
        case Register.endOfInterrupt: endOfInterrupt()
        case Register.logicalDestination: state.logicalDestination = value & 0xFF00_0000
        case Register.destinationFormat: state.destinationFormat = value | 0x0FFF_FFFF
        case Register.spuriousVector: writeSpurious(value)
        case Register.errorStatus:
            // A write latches the errors seen so far and starts collecting anew.
            state.errorStatus = state.pendingErrors
            state.pendingErrors = 0
        case Register.commandLow:
            state.commandLow = value & Command.writableLow
            sendCommand()
        case Register.commandHigh: state.commandHigh = value & 0xFF00_0000
        case Register.lvtFirst...Register.lvtLast: writeLVT(LVT(rawValue: Int(offset - Register.lvtFirst) >> 4)!, value)
        case Register.initialCount: loadCount(value)
        case Register.divideConfiguration:
            let elapsed = currentCount
            state.divideConfiguration = value & 0xB
            // The count goes on from where it was, at the new rate.
            if state.initialCount != 0 && timerMode != .tscDeadline { restartCount(from: elapsed) }
        case Register.id, Register.version, Register.arbitrationPriority, Register.processorPriority, Register.remoteRead,
             Register.inService..<Register.errorStatus, Register.currentCount:
            break  // read-only
        default:
            recordError(ErrorBit.illegalRegister)
        }
    }

    private func writeSpurious(_ value: UInt32) {
        state.spurious = value & (SpuriousBit.vector | SpuriousBit.softwareEnable | SpuriousBit.focusCheckDisabled)
        if !softwareEnabled {
            // Software disable masks every LVT entry (SDM 10.4.7.2).
            for index in state.lvt.indices { state.lvt[index] |= LVTBit.masked }
        }
        updateOutput()
    }

    private func writeLVT(_ entry: LVT, _ value: UInt32) {
        let old = state.lvt[entry.rawValue]
        var new = (value & LocalAPIC.lvtWritable[entry.rawValue]) | (old & LVTBit.remoteIRR)
        if !softwareEnabled { new |= LVTBit.masked }
        if entry == .timer && new & LVTBit.timerMode == 3 << LVTBit.timerModeShift { new &= ~LVTBit.timerMode }  // reserved mode
        state.lvt[entry.rawValue] = new
        if entry == .timer {
            let oldMode = TimerMode(rawValue: (old & LVTBit.timerMode) >> LVTBit.timerModeShift)
            if oldMode != timerMode {
                // Switching to or from TSC-deadline mode disarms the timer.
                scheduler.cancel(timerEvent)
                state.initialCount = 0
                state.tscDeadline = 0
            } else {
                armTimer()
            }
        }
        updateOutput()
    }

    // MARK: EOI

    /// Ends the highest vector in service; a level-triggered one is broadcast
    /// to the I/O APICs so they clear their remote IRR.
    private func endOfInterrupt() {
        guard let vector = LocalAPIC.highest(state.inService) else { return }
        LocalAPIC.clear(&state.inService, vector)
        for entry in [LVT.lint0, LVT.lint1] where state.lvt[entry.rawValue] & LVTBit.vector == UInt32(vector) {
            state.lvt[entry.rawValue] &= ~LVTBit.remoteIRR
        }
        if LocalAPIC.test(state.triggerMode, vector) {
            LocalAPIC.clear(&state.triggerMode, vector)
            bus?.broadcastEOI(vector: UInt8(vector))
        }
        updateOutput()
    }

    // MARK: ICR

    private func sendCommand() {
        let low = state.commandLow
        let vector = UInt8(low & Command.vector)
        guard let mode = DeliveryMode(rawValue: (low >> Command.deliveryModeShift) & 7) else { return }
        if (mode == .fixed || mode == .lowestPriority) && vector < 16 {
            recordError(ErrorBit.sendIllegalVector)
            return
        }
        let message = APICMessage(vector: vector, deliveryMode: mode, levelTriggered: low & Command.levelTriggered != 0,
                                  asserted: low & Command.levelAssert != 0)
        switch (low >> Command.shorthandShift) & 3 {
        case 1: receive(message)  // self
        case 2: bus?.broadcast(message, from: self, includingSelf: true) ?? receive(message)
        case 3: bus?.broadcast(message, from: self, includingSelf: false)
        default:
            let destination = UInt8(truncatingIfNeeded: state.commandHigh >> Command.destinationShift)
            let logical = low & Command.logicalDestination != 0
            if let bus { bus.send(message, destination: destination, logical: logical) }
            else if matches(destination: destination, logical: logical) { receive(message) }
        }
    }

    // MARK: the timer

    var timerMode: TimerMode {
        TimerMode(rawValue: (state.lvt[LVT.timer.rawValue] & LVTBit.timerMode) >> LVTBit.timerModeShift) ?? .oneShot
    }

    /// The divide configuration as a shift: 0-6 for 2..128, 7 (0b1011) for 1.
    var divideShift: Int64 {
        let code = (state.divideConfiguration & 3) | (state.divideConfiguration & 8) >> 1
        return Int64((code + 1) & 7)
    }

    /// Nanoseconds one count lasts.
    private var nanosecondsPerCount: Int64 { (1_000_000_000 / LocalAPIC.busTicksPerSecond) << divideShift }

    private func loadCount(_ count: UInt32) {
        guard timerMode != .tscDeadline else { return }  // ignored in TSC-deadline mode
        state.initialCount = count
        state.countStart = clock.now
        state.oneShotPending = count != 0
        armTimer()
    }

    /// Makes the current count `count` from now, at the current rate.
    private func restartCount(from count: UInt32) {
        let done = Int64(state.initialCount) - Int64(count)
        state.countStart = clock.now - done * nanosecondsPerCount
        armTimer()
    }

    public var currentCount: UInt32 {
        guard state.initialCount != 0, timerMode != .tscDeadline else { return 0 }
        let elapsed = (clock.now - state.countStart) / nanosecondsPerCount
        let initial = Int64(state.initialCount)
        if timerMode == .periodic { return UInt32(initial - elapsed % initial) }
        return elapsed >= initial ? 0 : UInt32(initial - elapsed)
    }

    /// Arms the one event for the next expiry, if any.
    private func armTimer() {
        scheduler.cancel(timerEvent)
        switch timerMode {
        case .tscDeadline:
            if state.tscDeadline != 0 { scheduler.schedule(timerEvent, at: state.tscDeadlineTime) }
        case .oneShot, .periodic:
            guard state.initialCount != 0 else { return }
            let period = Int64(state.initialCount) * nanosecondsPerCount
            let elapsed = clock.now - state.countStart
            if timerMode == .oneShot {
                // Late or not: a count still pending must interrupt (a deadline
                // already past fires at once), or a guest would wait forever.
                if state.oneShotPending { scheduler.schedule(timerEvent, at: state.countStart + period) }
            } else {
                scheduler.schedule(timerEvent, at: state.countStart + (elapsed / period + 1) * period)
            }
        }
    }

    private func timerExpired() {
        switch timerMode {
        case .tscDeadline:
            state.tscDeadline = 0
        case .oneShot:
            state.oneShotPending = false
        case .periodic:
            // Rebase to the expiry, so periods do not drift and the math stays small.
            let period = Int64(state.initialCount) * nanosecondsPerCount
            state.countStart = timerEvent.deadline
            scheduler.schedule(timerEvent, at: state.countStart + period)
        }
        deliverLocal(.timer)
    }

    /// IA32_TSC_DEADLINE as the CPU reads it.
    public var tscDeadline: UInt64 { timerMode == .tscDeadline ? state.tscDeadline : 0 }

    /// A WRMSR to IA32_TSC_DEADLINE: `tsc` is the value, `time` the guest
    /// time the TSC reaches it. Zero disarms; outside TSC-deadline mode the
    /// write is dropped.
    public func setTSCDeadline(_ tsc: UInt64, time: Int64) {
        guard timerMode == .tscDeadline else { return }
        state.tscDeadline = tsc
        state.tscDeadlineTime = time
        armTimer()
    }
}

/// The delivery modes of the ICR, the LVT and the I/O APIC's redirection entries.
public enum DeliveryMode: UInt32 {
    case fixed = 0, lowestPriority = 1, smi = 2, nmi = 4, initialize = 5, startup = 6, externalInterrupt = 7

    init?(lvt: UInt32) { self.init(rawValue: (lvt & LocalAPIC.LVTBit.deliveryMode) >> LocalAPIC.LVTBit.deliveryModeShift) }
}

/// One interrupt message on the APIC bus.
public struct APICMessage {
    public var vector: UInt8
    public var deliveryMode: DeliveryMode
    public var levelTriggered: Bool
    public var asserted = true

    public init(vector: UInt8, deliveryMode: DeliveryMode, levelTriggered: Bool, asserted: Bool = true) {
        self.vector = vector
        self.deliveryMode = deliveryMode
        self.levelTriggered = levelTriggered
        self.asserted = asserted
    }
}

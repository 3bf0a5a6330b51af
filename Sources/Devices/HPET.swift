import Memory
import PCEmuSupport
import Timing

/// The High Precision Event Timer (IA-PC HPET 1.0a), as QEMU's PC has it at
/// 0xFED00000: a 64-bit main counter at 100 MHz and three comparators, timer
/// 0 also periodic, each raising a global system interrupt (GSI) by its route
/// or, in legacy replacement mode, timer 0 on GSI 0 and timer 1 on GSI 8 (the
/// lines of ISA IRQ 0 and 8, which the machine wires as it wires those IRQs).
/// The counter is computed from the virtual clock when read; a comparator
/// arms one `TimerEvent` for its next match, never a tick. A timer whose
/// interrupt is off arms none: nothing would see its matches but a periodic
/// comparator's steps, which are made up when it is looked at.
public final class HPET: MMIOHandler {
    public static let base: UInt64 = 0xFED0_0000
    public static let size: UInt64 = 0x1000
    public static let timerCount = 3
    /// The counter's period in femtoseconds: 10 ns, 100 MHz.
    public static let periodFemtoseconds: UInt64 = 10_000_000
    static let nanosecondsPerTick: Int64 = 10
    /// The GSIs a timer may be routed to (bits 2 and 8-23), as QEMU offers them.
    static let routeCapability: UInt64 = 0x00FF_FF04
    /// Legacy replacement: timer 0 on IRQ 0's line, timer 1 on IRQ 8's.
    public static let legacyRoutes = [0, 8]

    enum Register {
        static let capabilities: UInt32 = 0x000
        static let configuration: UInt32 = 0x010
        static let interruptStatus: UInt32 = 0x020
        static let mainCounter: UInt32 = 0x0F0
        static let firstTimer: UInt32 = 0x100
        static let timerStride: UInt32 = 0x20
        // Within a timer's block.
        static let timerConfiguration: UInt32 = 0x00
        static let timerComparator: UInt32 = 0x08
        static let timerFSBRoute: UInt32 = 0x10
    }

    enum Configuration {
        static let enable: UInt64 = 1 << 0
        static let legacyReplacement: UInt64 = 1 << 1
    }

    enum TimerConfiguration {
        static let levelTriggered: UInt64 = 1 << 1
        static let interruptEnable: UInt64 = 1 << 2
        static let periodic: UInt64 = 1 << 3
        static let periodicCapable: UInt64 = 1 << 4
        static let size64Capable: UInt64 = 1 << 5
        static let setValue: UInt64 = 1 << 6
        static let force32Bit: UInt64 = 1 << 8
        static let routeShift: UInt64 = 9
        static let routeMask: UInt64 = 0x1F << 9
        /// The bits software may write; the rest are capabilities or reserved.
        static let writable: UInt64 = levelTriggered | interruptEnable | periodic | setValue | force32Bit | routeMask
    }

    struct Timer {
        var configuration: UInt64
        var comparator: UInt64 = ~0
        /// The periodic increment (the last value written to the comparator).
        var period: UInt64 = 0
        /// A 32-bit one-shot timer fires again when the counter's low half wraps.
        var wrapPending = false
        /// A periodic timer with its interrupt off: the counter its comparator
        /// was last brought up to date at (see `catchUp`).
        var idleSince: UInt64?

        var isPeriodic: Bool { configuration & TimerConfiguration.periodic != 0 && configuration & TimerConfiguration.periodicCapable != 0 }
        var is32Bit: Bool { configuration & TimerConfiguration.force32Bit != 0 }
        var isLevelTriggered: Bool { configuration & TimerConfiguration.levelTriggered != 0 }
        var interruptsEnabled: Bool { configuration & TimerConfiguration.interruptEnable != 0 }
        var route: Int { Int((configuration & TimerConfiguration.routeMask) >> TimerConfiguration.routeShift) }
    }

    let clock: VirtualClock
    let scheduler: EventScheduler
    /// Drives a GSI's level (edge-triggered timers pulse it).
    let interrupt: (_ gsi: Int, _ level: Bool) -> Void
    /// Tells the machine when legacy replacement starts or stops, so it can
    /// disconnect the PIT's IRQ 0 and the RTC's IRQ 8 while it is on.
    let legacyReplacementChanged: (Bool) -> Void

    var configuration: UInt64 = 0
    var interruptStatus: UInt64 = 0
    /// The counter's value when it last stopped, or at `startTime` while it runs.
    var counterBase: UInt64 = 0
    var startTime: Int64 = 0
    var timers: [Timer]
    var matchEvents: [TimerEvent] = []
    /// Which GSI each timer's level is on now, so a route change lowers the old one.
    var assertedGSI: [Int?]

    public init(clock: VirtualClock, scheduler: EventScheduler,
                interrupt: @escaping (_ gsi: Int, _ level: Bool) -> Void,
                legacyReplacementChanged: @escaping (Bool) -> Void = { _ in }) {
        self.clock = clock
        self.scheduler = scheduler
        self.interrupt = interrupt
        self.legacyReplacementChanged = legacyReplacementChanged
        timers = (0..<HPET.timerCount).map { HPET.initialTimer($0) }
        assertedGSI = Array(repeating: nil, count: HPET.timerCount)
        super.init()
        matchEvents = (0..<HPET.timerCount).map { index in
            TimerEvent(name: "hpet-timer\(index)") { [unowned self] in self.comparatorMatched(index) }
        }
    }

    static func initialTimer(_ index: Int) -> Timer {
        var configuration = TimerConfiguration.size64Capable | routeCapability << 32
        if index == 0 { configuration |= TimerConfiguration.periodicCapable }
        return Timer(configuration: configuration)
    }

    /// Back to the power-on state: stopped at 0, every timer disabled.
    public func reset() {
        let wasLegacy = legacyReplacement
        for index in 0..<HPET.timerCount {
            scheduler.cancel(matchEvents[index])
            setOutput(index, false)
        }
        configuration = 0
        interruptStatus = 0
        counterBase = 0
        timers = (0..<HPET.timerCount).map { HPET.initialTimer($0) }
        if wasLegacy { legacyReplacementChanged(false) }
    }

    var isEnabled: Bool { configuration & Configuration.enable != 0 }
    var legacyReplacement: Bool { configuration & Configuration.legacyReplacement != 0 }

    // MARK: the main counter

    /// The counter now: it runs only while the HPET is enabled.
    var counter: UInt64 {
        guard isEnabled else { return counterBase }
        return counterBase &+ UInt64(max(0, clock.now - startTime) / HPET.nanosecondsPerTick)
    }

    /// The virtual time at which the counter reaches `value` (it must lie ahead).
    private func time(ofCounter value: UInt64) -> Int64 {
        let ticks = value &- counterBase
        // Far beyond any guest's life: no event.
        guard ticks < UInt64(Int64.max / HPET.nanosecondsPerTick) else { return Int64.max }
        return startTime &+ Int64(ticks) * HPET.nanosecondsPerTick
    }

    // MARK: registers

    public override func read(offset: UInt32, size: AccessSize) -> UInt32 {
        // Registers are 64 bits wide; a dword read takes either half, a smaller one part of it.
        let register = offset & ~7
        let value = read64(register)
        let shifted = value >> (UInt64(offset & 7) * 8)
        return UInt32(truncatingIfNeeded: shifted) & size.mask
    }

    public override func write(offset: UInt32, value: UInt32, size: AccessSize) {
        let register = offset & ~7
        let shift = UInt64(offset & 7) * 8
        let mask = UInt64(size.mask) << shift
        write64(register, value: UInt64(value) << shift, mask: mask)
    }

    func read64(_ register: UInt32) -> UInt64 {
        switch register {
        case Register.capabilities:
            let revision: UInt64 = 1, vendor: UInt64 = 0x8086
            let lastTimer = UInt64(HPET.timerCount - 1) << 8, counter64: UInt64 = 1 << 13, legacyCapable: UInt64 = 1 << 15
            return HPET.periodFemtoseconds << 32 | vendor << 16 | legacyCapable | counter64 | lastTimer | revision
        case Register.configuration: return configuration
        case Register.interruptStatus: return interruptStatus
        case Register.mainCounter: return counter
        default:
            guard let (index, field) = timerRegister(register) else { return 0 }
            switch field {
            case Register.timerConfiguration: return timers[index].configuration
            case Register.timerComparator:
                catchUp(index)
                return timers[index].is32Bit ? timers[index].comparator & 0xFFFF_FFFF : timers[index].comparator
            default: return 0  // no FSB delivery
            }
        }
    }

    /// Writes the bits in `mask` of a 64-bit register.
    func write64(_ register: UInt32, value: UInt64, mask: UInt64) {
        func merged(_ old: UInt64) -> UInt64 { (old & ~mask) | (value & mask) }
        switch register {
        case Register.configuration:
            for index in 0..<HPET.timerCount { catchUp(index) }
            let old = configuration
            let new = merged(old) & (Configuration.enable | Configuration.legacyReplacement)
            if old & Configuration.enable != 0 && new & Configuration.enable == 0 {
                counterBase = counter  // stop where it is
            }
            if old & Configuration.enable == 0 && new & Configuration.enable != 0 {
                startTime = clock.now
            }
            configuration = new
            if (old ^ new) & Configuration.legacyReplacement != 0 {
                legacyReplacementChanged(new & Configuration.legacyReplacement != 0)
            }
            for index in 0..<HPET.timerCount { rearm(index) }
        case Register.interruptStatus:
            // Writing 1 clears a level-triggered timer's status and its line.
            let cleared = value & mask & interruptStatus
            interruptStatus &= ~cleared
            for index in 0..<HPET.timerCount where cleared & (1 << UInt64(index)) != 0 { setOutput(index, false) }
        case Register.mainCounter:
            // Software may set the counter only while it is halted.
            guard !isEnabled else {
                Log.write(.guestErrors, "hpet: main counter written while running")
                return
            }
            counterBase = merged(counterBase)
            for index in 0..<HPET.timerCount { timers[index].wrapPending = false }
        default:
            guard let (index, field) = timerRegister(register) else { return }
            switch field {
            case Register.timerConfiguration: writeTimerConfiguration(index, merged(timers[index].configuration))
            case Register.timerComparator: writeComparator(index, value: value, mask: mask)
            default: break
            }
        }
    }

    /// (timer, offset within its block) for a timer register.
    private func timerRegister(_ register: UInt32) -> (Int, UInt32)? {
        guard register >= Register.firstTimer else { return nil }
        let index = Int((register - Register.firstTimer) / Register.timerStride)
        guard index < HPET.timerCount else { return nil }
        return (index, (register - Register.firstTimer) % Register.timerStride)
    }

    private func writeTimerConfiguration(_ index: Int, _ requested: UInt64) {
        catchUp(index)
        var timer = timers[index]
        let capabilities = timer.configuration & ~TimerConfiguration.writable
        var new = (requested & TimerConfiguration.writable) | capabilities
        // A route the timer cannot take keeps the old one.
        let route = (new & TimerConfiguration.routeMask) >> TimerConfiguration.routeShift
        if HPET.routeCapability & (1 << route) == 0 {
            Log.write(.guestErrors, "hpet: timer \(index) routed to GSI \(route), which it cannot reach")
            new = (new & ~TimerConfiguration.routeMask) | (timer.configuration & TimerConfiguration.routeMask)
        }
        let wasLevel = timer.isLevelTriggered
        timer.configuration = new
        if timer.is32Bit { timer.comparator &= 0xFFFF_FFFF; timer.period &= 0xFFFF_FFFF }
        timers[index] = timer
        // A line held for a level-triggered interrupt drops when that is no longer so.
        if wasLevel && !timer.isLevelTriggered || !timer.interruptsEnabled {
            interruptStatus &= ~(1 << UInt64(index))
            setOutput(index, false)
        }
        if assertedGSI[index] != nil && assertedGSI[index] != gsi(of: index) { setOutput(index, false) }
        rearm(index)
    }

    private func writeComparator(_ index: Int, value: UInt64, mask: UInt64) {
        catchUp(index)
        var timer = timers[index]
        let width: UInt64 = timer.is32Bit ? 0xFFFF_FFFF : ~0
        let written = ((timer.comparator & ~mask) | (value & mask)) & width
        // Periodic timers take the value as their period; with SETVAL (once) as the comparator too.
        if !timer.isPeriodic || timer.configuration & TimerConfiguration.setValue != 0 {
            timer.comparator = written
        }
        timer.period = ((timer.period & ~mask) | (value & mask)) & width
        timer.configuration &= ~TimerConfiguration.setValue
        timer.wrapPending = false
        timers[index] = timer
        rearm(index)
    }

    // MARK: matches and interrupts

    /// The GSI a timer drives now.
    func gsi(of index: Int) -> Int {
        if legacyReplacement && index < HPET.legacyRoutes.count { return HPET.legacyRoutes[index] }
        return timers[index].route
    }

    /// Arms the timer's event for its next match (or the 32-bit wrap), if it
    /// runs. `snapshot` is the counter the comparator was computed against:
    /// on host time the counter moves on meanwhile, and a periodic comparator
    /// it has already passed is due at once, not after the counter wraps.
    private func rearm(_ index: Int, counterAt snapshot: UInt64? = nil) {
        scheduler.cancel(matchEvents[index])
        timers[index].idleSince = nil
        guard isEnabled else { return }
        let timer = timers[index]
        let now = snapshot ?? counter
        guard timer.interruptsEnabled else {
            // Nothing sees a match: only a periodic comparator's steps, made up later.
            timers[index].wrapPending = false
            if timer.isPeriodic { timers[index].idleSince = now }
            return
        }
        var target: UInt64
        if timer.is32Bit {
            let low = now & 0xFFFF_FFFF
            let ahead = (timer.comparator &- low) & 0xFFFF_FFFF
            target = now &+ (ahead == 0 ? 0x1_0000_0000 : ahead)
            if !timer.isPeriodic {
                // A one-shot 32-bit timer also fires when the low half wraps.
                let wrap = (now | 0xFFFF_FFFF) &+ 1
                if wrap < target { target = wrap; timers[index].wrapPending = true } else { timers[index].wrapPending = false }
            }
        } else {
            // A comparator already passed matches again only after the 64-bit wrap.
            guard timer.comparator > now else { return }
            target = timer.comparator
        }
        let deadline = time(ofCounter: target)
        if deadline < Int64.max { scheduler.schedule(matchEvents[index], at: deadline) }
    }

    /// Brings a periodic comparator whose interrupt is off up to date: the
    /// steps of a period its matches since `idleSince` would have made.
    func catchUp(_ index: Int) {
        guard let since = timers[index].idleSince, isEnabled else { return }
        let timer = timers[index]
        let now = counter
        timers[index].idleSince = now
        let width: UInt64 = timer.is32Bit ? 0xFFFF_FFFF : ~0
        // The first match after `since`: a 32-bit comparator matches its
        // low half again after a wrap, a 64-bit one already passed never.
        var ahead = (timer.comparator &- since) & width
        if timer.is32Bit && ahead == 0 { ahead = 1 << 32 }
        let elapsed = now &- since
        guard timer.period != 0, ahead != 0, elapsed >= ahead else { return }
        let matches = 1 &+ (elapsed &- ahead) / timer.period
        timers[index].comparator = (timer.comparator &+ matches &* timer.period) & width
    }

    private func comparatorMatched(_ index: Int) {
        guard isEnabled else { return }
        var timer = timers[index]
        let snapshot = counter
        if timer.wrapPending {
            timers[index].wrapPending = false
        } else if timer.isPeriodic && timer.period != 0 {
            let width: UInt64 = timer.is32Bit ? 0xFFFF_FFFF : ~0
            let now = snapshot & width
            timer.comparator = (timer.comparator &+ timer.period) & width
            // Late (the host was busy): skip the periods already past, whose
            // matches the hardware would have made, so the next lies ahead.
            let behind = (now &- timer.comparator) & width
            let isBehind = timer.is32Bit ? behind < 1 << 31 : timer.comparator <= now
            if isBehind { timer.comparator = (timer.comparator &+ (behind / timer.period + 1) &* timer.period) & width }
            timers[index] = timer
        }
        fire(index)
        rearm(index, counterAt: snapshot)
    }

    /// What a match does: level-triggered timers set their status bit and hold
    /// the line until software clears it; edge-triggered ones pulse it.
    private func fire(_ index: Int) {
        let timer = timers[index]
        guard timer.interruptsEnabled else { return }
        if timer.isLevelTriggered {
            interruptStatus |= 1 << UInt64(index)
            setOutput(index, true)
        } else {
            let line = gsi(of: index)
            interrupt(line, true)
            interrupt(line, false)
        }
    }

    private func setOutput(_ index: Int, _ level: Bool) {
        if level {
            let line = gsi(of: index)
            if let old = assertedGSI[index], old != line { interrupt(old, false) }
            if assertedGSI[index] != line { interrupt(line, true) }
            assertedGSI[index] = line
        } else if let old = assertedGSI[index] {
            interrupt(old, false)
            assertedGSI[index] = nil
        }
    }
}

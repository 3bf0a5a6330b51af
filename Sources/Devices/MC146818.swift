import Foundation
import Memory
import PCEmuSupport
import Timing

/// The MC146818 real-time clock and its 128 bytes of battery-backed CMOS RAM,
/// behind an index port (0x70, bit 7 also masks NMI) and a data port (0x71).
/// The time is kept as "calendar seconds at a guest instant" and rendered
/// into the time registers when they are read, so nothing ticks while the
/// guest does not look; timers are armed only for enabled interrupts.
public final class MC146818: PortHandler {
    public static let base: UInt16 = 0x70
    public static let portCount = 2
    public static let ramSize = 128
    /// The time base crystal (Hz) the divider chain and periodic rates derive from.
    static let crystalHz: Int64 = 32_768
    static let nanosecondsPerSecond: Int64 = 1_000_000_000
    /// UIP rises this long before each update.
    static let updateInProgressLead: Int64 = 244_000
    /// After the divider leaves reset, the first update comes half a second later.
    static let firstUpdateDelay: Int64 = 500_000_000

    enum Port {
        static let index: UInt16 = 0
        static let data: UInt16 = 1
    }

    enum IndexBit {
        static let nmiDisable: UInt8 = 0x80
        static let register: UInt8 = 0x7F
    }

    enum Register {
        static let seconds = 0x00
        static let secondsAlarm = 0x01
        static let minutes = 0x02
        static let minutesAlarm = 0x03
        static let hours = 0x04
        static let hoursAlarm = 0x05
        static let dayOfWeek = 0x06
        static let dayOfMonth = 0x07
        static let month = 0x08
        static let year = 0x09
        static let a = 0x0A
        static let b = 0x0B
        static let c = 0x0C
        static let d = 0x0D
        static let century = 0x32
    }

    enum RegisterA {
        static let updateInProgress: UInt8 = 0x80
        static let dividerMask: UInt8 = 0x70
        /// Divider values up to this one keep time (0x20 is the 32.768 kHz setting).
        static let lastRunningDivider: UInt8 = 0x20
        static let rateMask: UInt8 = 0x0F
        static let powerOn: UInt8 = 0x26
    }

    enum RegisterB {
        static let set: UInt8 = 0x80
        static let periodicEnable: UInt8 = 0x40
        static let alarmEnable: UInt8 = 0x20
        static let updateEndedEnable: UInt8 = 0x10
        static let squareWaveEnable: UInt8 = 0x08
        static let binary: UInt8 = 0x04
        static let hours24: UInt8 = 0x02
        static let interruptEnables: UInt8 = 0x70
        static let powerOn: UInt8 = hours24
    }

    enum RegisterC {
        static let interruptRequest: UInt8 = 0x80
        static let periodic: UInt8 = 0x40
        static let alarm: UInt8 = 0x20
        static let updateEnded: UInt8 = 0x10
    }

    enum RegisterD {
        static let validRAM: UInt8 = 0x80
    }

    static let hourPM: UInt8 = 0x80
    /// An alarm byte with both top bits set matches every value.
    static let alarmDontCare: UInt8 = 0xC0

    /// What a reset clears (the RAM, the time and register A survive it).
    struct State {
        var index = 0
        var nmiDisabled = false
        /// When the flags in register C were last brought up to date.
        var flagsCheckedAt: Int64 = 0
    }

    let clock: VirtualClock
    let scheduler: EventScheduler
    let irq: InterruptLine
    var state = State()
    var ram = [UInt8](repeating: 0, count: MC146818.ramSize)
    /// Calendar seconds (since 1970-01-01, in the guest's notion of the RTC
    /// zone) at guest time `timeBaseNanoseconds`. Meaningful while running.
    var timeBaseSeconds: Int64 = 0
    var timeBaseNanoseconds: Int64 = 0
    private(set) var periodicTimer: TimerEvent!
    private(set) var updateTimer: TimerEvent!

    /// `irq` is IRQ 8. The clock starts at `startTime` (seconds since the Unix
    /// epoch, UTC), by default the host's time now.
    public init(clock: VirtualClock, scheduler: EventScheduler, irq: InterruptLine, startTime: Int64? = nil) {
        self.clock = clock
        self.scheduler = scheduler
        self.irq = irq
        super.init()
        periodicTimer = TimerEvent(name: "rtc-periodic") { [unowned self] in self.periodicTick() }
        updateTimer = TimerEvent(name: "rtc-update") { [unowned self] in self.updateCycle() }
        ram[Register.a] = RegisterA.powerOn
        ram[Register.b] = RegisterB.powerOn
        ram[Register.d] = RegisterD.validRAM
        let now = clock.now
        if let startTime {
            timeBaseSeconds = startTime
            timeBaseNanoseconds = now
        } else {
            var host = timespec()
            clock_gettime(CLOCK_REALTIME, &host)
            timeBaseSeconds = Int64(host.tv_sec)
            timeBaseNanoseconds = now &- Int64(host.tv_nsec)
        }
        state.flagsCheckedAt = now
    }

    /// The RESET pin: interrupt enables and flags clear; time and RAM stay.
    public func reset() {
        state = State()
        state.flagsCheckedAt = clock.now
        ram[Register.b] &= ~(RegisterB.interruptEnables | RegisterB.squareWaveEnable)
        ram[Register.c] = 0
        irq.lower()
        rearmTimers()
    }

    /// Whether the guest has masked NMI through bit 7 of port 0x70.
    public var nmiDisabled: Bool { state.nmiDisabled }

    // MARK: Machine set-up helpers

    /// Direct access to CMOS RAM for the machine (not through the time logic).
    public subscript(cmos index: Int) -> UInt8 {
        get { ram[index & Int(IndexBit.register)] }
        set { ram[index & Int(IndexBit.register)] = newValue }
    }

    /// The memory sizes SeaBIOS and older BIOSes read, as QEMU fills them in:
    /// base memory, extended memory in KiB above 1 MiB, 64 KiB blocks from
    /// 16 MiB to the top of the RAM below 4 GiB (0x34/0x35), and 64 KiB blocks
    /// of RAM above 4 GiB (0x5B-0x5D, 24 bits).
    public func setMemorySizes(belowFourGiB: UInt64, aboveFourGiB: UInt64 = 0) {
        let baseKiB: UInt64 = 640
        writeWord(baseKiB, low: 0x15, high: 0x16)
        let kibAboveOneMiB = belowFourGiB > 0x10_0000 ? (belowFourGiB - 0x10_0000) / 1024 : 0
        writeWord(min(kibAboveOneMiB, 0xFFFF), low: 0x17, high: 0x18)
        writeWord(min(kibAboveOneMiB, 0xFFFF), low: 0x30, high: 0x31)
        let blocksAbove16MiB = belowFourGiB > 0x100_0000 ? (belowFourGiB - 0x100_0000) / 0x10000 : 0
        writeWord(min(blocksAbove16MiB, 0xFFFF), low: 0x34, high: 0x35)
        let blocksAbove4GiB = min(aboveFourGiB / 0x10000, 0xFF_FFFF)
        ram[0x5B] = UInt8(truncatingIfNeeded: blocksAbove4GiB)
        ram[0x5C] = UInt8(truncatingIfNeeded: blocksAbove4GiB >> 8)
        ram[0x5D] = UInt8(truncatingIfNeeded: blocksAbove4GiB >> 16)
    }

    /// QEMU's `-boot order=` letters as SeaBIOS reads them: the first device
    /// in the low nibble of 0x3D, the second in its high nibble, the third in
    /// the high nibble of 0x38 (whose bit 0 keeps the floppy signature check).
    public func setBootOrder(_ letters: String) throws {
        var codes: [UInt8] = []
        for letter in letters.lowercased() {
            switch letter {
            case "a", "b": codes.append(1)
            case "c": codes.append(2)
            case "d": codes.append(3)
            case "n", "o", "p": codes.append(4)
            default: throw EmulatorError.badOption("-boot", "unknown boot device '\(letter)'")
            }
        }
        guard codes.count <= 3 else {
            throw EmulatorError.badOption("-boot", "the CMOS holds at most three boot devices, not \(codes.count)")
        }
        codes += [0, 0, 0]
        ram[0x3D] = codes[1] << 4 | codes[0]
        ram[0x38] = codes[2] << 4 | (ram[0x38] & 0x0F)
    }

    private func writeWord(_ value: UInt64, low: Int, high: Int) {
        ram[low] = UInt8(truncatingIfNeeded: value)
        ram[high] = UInt8(truncatingIfNeeded: value >> 8)
    }

    // MARK: Ports

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        guard offset == Port.data else { return 0xFF }  // the index is write-only
        let now = clock.now
        let index = state.index
        switch index {
        case Register.seconds, Register.minutes, Register.hours, Register.dayOfWeek,
             Register.dayOfMonth, Register.month, Register.year, Register.century:
            if isRunning { renderTime(at: now) }
            return UInt32(ram[index])
        case Register.a:
            let updating = isRunning && subsecond(at: now) >= MC146818.nanosecondsPerSecond - MC146818.updateInProgressLead
            return UInt32(ram[index] & ~RegisterA.updateInProgress | (updating ? RegisterA.updateInProgress : 0))
        case Register.c:
            catchUpFlags(at: now)
            let flags = ram[Register.c]
            ram[Register.c] = 0
            irq.lower()
            return UInt32(flags)
        case Register.d:
            return UInt32(RegisterD.validRAM)
        default:
            return UInt32(ram[index])
        }
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        guard offset == Port.data else {
            state.index = Int(byte & IndexBit.register)
            state.nmiDisabled = byte & IndexBit.nmiDisable != 0
            return
        }
        let now = clock.now
        switch state.index {
        case Register.seconds, Register.minutes, Register.hours, Register.dayOfWeek,
             Register.dayOfMonth, Register.month, Register.year, Register.century:
            if isRunning {
                // Setting one field of a running clock keeps the others and the phase.
                renderTime(at: now)
                ram[state.index] = byte
                restartTime(at: now, secondStartedAt: now &- subsecond(at: now))
            } else {
                ram[state.index] = byte
            }
        case Register.a:
            writeRegisterA(byte, at: now)
        case Register.b:
            writeRegisterB(byte, at: now)
        case Register.c, Register.d:
            Log.write(.guestErrors, "rtc: write 0x\(String(byte, radix: 16)) to read-only register \(state.index)")
        default:
            ram[state.index] = byte
        }
    }

    // MARK: Registers A and B

    private var dividerRuns: Bool { ram[Register.a] & RegisterA.dividerMask <= RegisterA.lastRunningDivider }
    /// The time advances: divider running and no SET in progress.
    private var isRunning: Bool { dividerRuns && ram[Register.b] & RegisterB.set == 0 }

    private func writeRegisterA(_ byte: UInt8, at now: Int64) {
        let wasRunning = isRunning, dividerRan = dividerRuns
        if wasRunning { renderTime(at: now) }
        catchUpFlags(at: now)
        ram[Register.a] = byte & ~RegisterA.updateInProgress
        if dividerRuns && !dividerRan {
            // Leaving divider reset: the first update comes 500 ms from now.
            restartTime(at: now, secondStartedAt: now &+ MC146818.firstUpdateDelay &- MC146818.nanosecondsPerSecond)
        }
        if ram[Register.a] & RegisterA.dividerMask != 0x20, ram[Register.a] & RegisterA.dividerMask <= 0x20 {
            Log.write(.unimplemented, "rtc: divider for a non-32 kHz crystal; keeping 32 kHz time")
        }
        rearmTimers()
    }

    private func writeRegisterB(_ byte: UInt8, at now: Int64) {
        let wasRunning = isRunning
        if wasRunning { renderTime(at: now) }
        catchUpFlags(at: now)
        var value = byte
        // Setting SET also clears the update-ended interrupt enable.
        if value & RegisterB.set != 0 { value &= ~RegisterB.updateEndedEnable }
        ram[Register.b] = value
        if isRunning && !wasRunning && dividerRuns {
            // SET released: the clock restarts from the registers, a full second to go.
            restartTime(at: now, secondStartedAt: now)
        }
        updateInterruptRequest()
        rearmTimers()
    }

    // MARK: Time keeping

    private func subsecond(at now: Int64) -> Int64 {
        let elapsed = now &- timeBaseNanoseconds
        let rest = elapsed % MC146818.nanosecondsPerSecond
        return rest < 0 ? rest + MC146818.nanosecondsPerSecond : rest
    }

    private func seconds(at now: Int64) -> Int64 {
        let elapsed = now &- timeBaseNanoseconds
        return timeBaseSeconds &+ (elapsed - subsecond(at: now)) / MC146818.nanosecondsPerSecond
    }

    /// Takes the time registers as the time of the second that began at `secondStart`.
    private func restartTime(at now: Int64, secondStartedAt secondStart: Int64) {
        timeBaseSeconds = timeFromRegisters()
        timeBaseNanoseconds = secondStart
        state.flagsCheckedAt = now
    }

    private var isBinary: Bool { ram[Register.b] & RegisterB.binary != 0 }
    private var is24Hour: Bool { ram[Register.b] & RegisterB.hours24 != 0 }

    private func encode(_ value: Int) -> UInt8 {
        isBinary ? UInt8(truncatingIfNeeded: value) : UInt8(truncatingIfNeeded: (value / 10) << 4 | value % 10)
    }

    private func decode(_ byte: UInt8) -> Int {
        isBinary ? Int(byte) : Int(byte >> 4) * 10 + Int(byte & 0x0F)
    }

    /// Writes the time at `now` into the time registers, in the guest's format.
    private func renderTime(at now: Int64) {
        let total = seconds(at: now)
        let days = MC146818.floorDivide(total, 86_400)
        let secondOfDay = Int(total - days * 86_400)
        let date = CivilDate(daysSinceEpoch: days)
        let hour = secondOfDay / 3600
        ram[Register.seconds] = encode(secondOfDay % 60)
        ram[Register.minutes] = encode(secondOfDay / 60 % 60)
        if is24Hour {
            ram[Register.hours] = encode(hour)
        } else {
            let hour12 = hour % 12 == 0 ? 12 : hour % 12
            ram[Register.hours] = encode(hour12) | (hour >= 12 ? MC146818.hourPM : 0)
        }
        // Day of week 1-7 with Sunday 1; 1970-01-01 was a Thursday.
        ram[Register.dayOfWeek] = encode(Int(MC146818.floorModulo(days + 4, 7)) + 1)
        ram[Register.dayOfMonth] = encode(date.day)
        ram[Register.month] = encode(date.month)
        ram[Register.year] = encode(Int(MC146818.floorModulo(Int64(date.year), 100)))
        ram[Register.century] = encode(Int(MC146818.floorDivide(Int64(date.year), 100)))
    }

    /// The calendar seconds the time registers say (whatever nonsense they hold).
    private func timeFromRegisters() -> Int64 {
        var hour: Int
        if is24Hour {
            hour = decode(ram[Register.hours])
        } else {
            hour = decode(ram[Register.hours] & ~MC146818.hourPM) % 12
            if ram[Register.hours] & MC146818.hourPM != 0 { hour += 12 }
        }
        let year = decode(ram[Register.century]) * 100 + decode(ram[Register.year])
        let days = CivilDate(year: year, month: decode(ram[Register.month]), day: decode(ram[Register.dayOfMonth])).daysSinceEpoch
        return days * 86_400 + Int64(hour * 3600 + decode(ram[Register.minutes]) * 60 + decode(ram[Register.seconds]))
    }

    private var alarmMatches: Bool {
        func matches(_ alarm: Int, _ current: Int) -> Bool {
            ram[alarm] & MC146818.alarmDontCare == MC146818.alarmDontCare || ram[alarm] == ram[current]
        }
        return matches(Register.secondsAlarm, Register.seconds) && matches(Register.minutesAlarm, Register.minutes)
            && matches(Register.hoursAlarm, Register.hours)
    }

    // MARK: Interrupts

    /// Sets IRQF and raises IRQ 8 when a flag is set whose interrupt is enabled.
    private func updateInterruptRequest() {
        let flags = ram[Register.c] & RegisterB.interruptEnables & ram[Register.b]
        if flags != 0 {
            ram[Register.c] |= RegisterC.interruptRequest
            irq.raise()
        }
    }

    /// Period of the periodic interrupt in 32 kHz ticks, or nil for rate 0.
    private var periodicTicks: Int64? {
        var rate = Int64(ram[Register.a] & RegisterA.rateMask)
        guard rate != 0 else { return nil }
        // Rates 1 and 2 repeat rates 8 and 9 with a 32 kHz crystal.
        if rate <= 2 { rate += 7 }
        return 1 << (rate - 1)
    }

    /// 32 kHz ticks since the divider chain's phase origin.
    private func dividerTicks(at now: Int64) -> Int64 {
        TickConversion.ticks(inNanoseconds: now &- timeBaseNanoseconds, hz: MC146818.crystalHz)
    }

    private func rearmTimers() {
        let now = clock.now
        if ram[Register.b] & RegisterB.periodicEnable != 0, dividerRuns, let period = periodicTicks {
            let next = (dividerTicks(at: now) / period + 1) * period
            scheduler.schedule(periodicTimer, at: timeBaseNanoseconds &+ TickConversion.nanoseconds(forTicks: next, hz: MC146818.crystalHz))
        } else {
            scheduler.cancel(periodicTimer)
        }
        if ram[Register.b] & (RegisterB.updateEndedEnable | RegisterB.alarmEnable) != 0, isRunning {
            scheduler.schedule(updateTimer, at: now &- subsecond(at: now) &+ MC146818.nanosecondsPerSecond)
        } else {
            scheduler.cancel(updateTimer)
        }
    }

    private func periodicTick() {
        ram[Register.c] |= RegisterC.periodic
        state.flagsCheckedAt = clock.now
        updateInterruptRequest()
        rearmTimers()
    }

    private func updateCycle() {
        let now = clock.now
        renderTime(at: now)
        ram[Register.c] |= RegisterC.updateEnded
        if alarmMatches { ram[Register.c] |= RegisterC.alarm }
        state.flagsCheckedAt = now
        updateInterruptRequest()
        rearmTimers()
    }

    /// Sets the flags of events that passed without a timer (their interrupts
    /// disabled), for guests that poll register C. The alarm is checked
    /// against the current second only.
    private func catchUpFlags(at now: Int64) {
        let since = state.flagsCheckedAt
        state.flagsCheckedAt = now
        guard now > since else { return }
        if dividerRuns, let period = periodicTicks, dividerTicks(at: now) / period != dividerTicks(at: since) / period {
            ram[Register.c] |= RegisterC.periodic
        }
        if isRunning, seconds(at: now) != seconds(at: since) {
            ram[Register.c] |= RegisterC.updateEnded
            renderTime(at: now)
            if alarmMatches { ram[Register.c] |= RegisterC.alarm }
        }
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    static func floorModulo(_ a: Int64, _ b: Int64) -> Int64 { a - floorDivide(a, b) * b }
}

/// A proleptic Gregorian date, converted to and from days since 1970-01-01
/// by counting in 400-year eras that start on March 1st (so the leap day is
/// the last day of the year).
struct CivilDate: Equatable {
    static let daysPerEra: Int64 = 146_097
    /// Days from 0000-03-01 to 1970-01-01.
    static let epochOffset: Int64 = 719_468

    var year: Int
    var month: Int
    var day: Int

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    init(daysSinceEpoch days: Int64) {
        let shifted = days + CivilDate.epochOffset
        let era = MC146818.floorDivide(shifted, CivilDate.daysPerEra)
        let dayOfEra = shifted - era * CivilDate.daysPerEra
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
        month = Int(monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9)
        year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
    }

    var daysSinceEpoch: Int64 {
        // Any month number is accepted: guests can write nonsense.
        let normalisedMonth = Int64(MC146818.floorModulo(Int64(month) - 1, 12)) + 1
        let marchYear = Int64(year) + MC146818.floorDivide(Int64(month) - 1, 12) - (normalisedMonth <= 2 ? 1 : 0)
        let era = MC146818.floorDivide(marchYear, 400)
        let yearOfEra = marchYear - era * 400
        let monthFromMarch = (normalisedMonth + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * CivilDate.daysPerEra + dayOfEra - CivilDate.epochOffset
    }
}

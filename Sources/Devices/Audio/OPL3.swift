import Foundation
import Memory
import PCEmuSupport
import Timing

/// The YMF262 (OPL3) FM synthesiser at 0x388-0x38B (and on the Sound
/// Blaster at base+0-3): two banks of registers behind an address and a data
/// port each, 18 two-operator channels, the two timers and the status
/// register AdLib detection reads.
///
/// The synthesis is computed in floating point at the host's rate: each
/// operator is a phase generator (frequency number, block, multiplier,
/// vibrato), one of the eight waveforms, and an envelope (attack, decay,
/// sustain, release with key scaling of rate and level, tremolo) whose
/// attenuation is added in decibels; the modulator's output moves the
/// carrier's phase (FM) or is added to it, and feedback moves the
/// modulator's own phase. Four-operator pairing and the rhythm mode are
/// not built: their channels play as two-operator melodic ones.
public final class OPL3: PortHandler, AudioSource {
    public static let adlibBase: UInt16 = 0x388
    public static let portCount = 4
    /// The chip's own sample rate: 14.31818 MHz / 288.
    static let chipRate = 49_716.0

    enum Register {
        static let test: Int = 0x01
        static let timer1: Int = 0x02
        static let timer2: Int = 0x03
        /// Bank 0: timer control. Bank 1: four-operator connections.
        static let timerControl: Int = 0x04
        static let opl3Mode: Int = 0x105
        static let keyboardSplit: Int = 0x08
        static let rhythm: Int = 0xBD
    }

    enum TimerControl {
        static let resetFlags: UInt8 = 0x80
        static let mask1: UInt8 = 0x40
        static let mask2: UInt8 = 0x20
        static let start2: UInt8 = 0x02
        static let start1: UInt8 = 0x01
    }

    enum Status {
        static let interrupt: UInt8 = 0x80
        static let timer1: UInt8 = 0x40
        static let timer2: UInt8 = 0x20
    }

    /// Operator offset (0x00-0x15 in a register group) → operator index in the bank.
    static let operatorAtOffset: [Int] = [0, 1, 2, 3, 4, 5, -1, -1, 6, 7, 8, 9, 10, 11, -1, -1, 12, 13, 14, 15, 16, 17]
    /// The multiplier each MULT value stands for (halves).
    static let multiples: [Double] = [0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 12, 12, 15, 15]
    /// Key-scale level attenuation by the top four bits of the F-number (in 0.75 dB... steps of the chip).
    static let keyScaleTable: [Int] = [0, 32, 40, 45, 48, 51, 53, 55, 56, 58, 59, 60, 61, 62, 63, 64]
    /// How far the KSL setting shifts that attenuation (none, 3, 1.5, 6 dB per octave).
    static let keyScaleShift: [Int] = [8, 1, 2, 0]
    static let sineTableSize = 1024
    static let sine: [Float] = (0..<OPL3.sineTableSize).map { Float(sin(Double($0) * 2 * .pi / Double(OPL3.sineTableSize))) }

    enum Stage: UInt8 { case off, attack, decay, sustain, release }

    struct Operator {
        var tremolo = false
        var vibrato = false
        var sustaining = false
        var keyScaleRate = false
        var multiple = 0
        var keyScaleLevel = 0
        var totalLevel = 0
        var attackRate = 0
        var decayRate = 0
        var sustainLevel = 0
        var releaseRate = 0
        var waveform = 0

        var stage = Stage.off
        /// Phase in cycles.
        var phase = 0.0
        /// Envelope attenuation in dB (0 loudest, 96 silent).
        var envelope: Float = 96
        /// During the attack: the linear level rising from 0 to 1.
        var attackLevel: Float = 0
        var output: Float = 0
        var previousOutput: Float = 0
    }

    struct Channel {
        var frequencyNumber = 0
        var block = 0
        var keyOn = false
        var feedback = 0
        var additive = false
        var left = true
        var right = true
    }

    struct Timer {
        var value: UInt8 = 0
        var running = false
        var masked = false
        var start: Int64 = 0
        var overflows: Int64 = 0
        var flag = false
    }

    struct State {
        var address = 0
        var registers = [UInt8](repeating: 0, count: 0x200)
        var operators = [Operator](repeating: Operator(), count: 36)
        var channels = [Channel](repeating: Channel(), count: 18)
        var timers = [Timer(), Timer()]
        var lfoTime = 0.0
    }

    let clock: VirtualClock
    var state = State()
    /// A gain the card's mixer applies (the CT1745's MIDI volume), left and right.
    public var gain: () -> (Float, Float) = { (1, 1) }
    /// Called when a silent operator is keyed on: the mixer wakes.
    public var keyedOn: () -> Void = {}

    public init(clock: VirtualClock) {
        self.clock = clock
    }

    public func reset() {
        state = State()
    }

    // MARK: Ports

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        UInt32(readPort(offset))
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        writePort(offset, UInt8(truncatingIfNeeded: value))
    }

    /// Offset 0 or 2: status; 1 and 3: nothing to read.
    public func readPort(_ offset: UInt16) -> UInt8 {
        offset & 1 == 0 ? status() : 0xFF
    }

    /// Offsets 0 and 2 select a register of bank 0 or 1; 1 and 3 write it.
    public func writePort(_ offset: UInt16, _ value: UInt8) {
        switch offset & 3 {
        case 0: state.address = Int(value)
        case 2: state.address = 0x100 | Int(value)
        default: writeRegister(state.address, value)
        }
    }

    // MARK: Timers

    /// Timer 1 counts 80 µs ticks, timer 2 320 µs, from the value up to 256.
    static func period(ofTimer index: Int, value: UInt8) -> Int64 {
        Int64(256 - Int(value)) * (index == 0 ? 80_000 : 320_000)
    }

    /// A running timer overflows once a period and reloads; an overflow sets
    /// its flag unless the timer is masked.
    private func updateTimerFlags(now: Int64) {
        for index in 0..<2 where state.timers[index].running {
            let timer = state.timers[index]
            let overflows = (now - timer.start) / OPL3.period(ofTimer: index, value: timer.value)
            if overflows > timer.overflows {
                state.timers[index].overflows = overflows
                if !timer.masked { state.timers[index].flag = true }
            }
        }
    }

    func status() -> UInt8 {
        updateTimerFlags(now: clock.now)
        let t1 = state.timers[0].flag, t2 = state.timers[1].flag
        return (t1 || t2 ? Status.interrupt : 0) | (t1 ? Status.timer1 : 0) | (t2 ? Status.timer2 : 0)
    }

    private func writeTimerControl(_ value: UInt8) {
        let now = clock.now
        updateTimerFlags(now: now)
        if value & TimerControl.resetFlags != 0 {
            state.timers[0].flag = false
            state.timers[1].flag = false
            return
        }
        for (index, (mask, start)) in [(TimerControl.mask1, TimerControl.start1), (TimerControl.mask2, TimerControl.start2)].enumerated() {
            state.timers[index].masked = value & mask != 0
            let running = value & start != 0
            if running && !state.timers[index].running {
                state.timers[index].start = now
                state.timers[index].overflows = 0
            }
            state.timers[index].running = running
        }
    }

    // MARK: Registers

    private var opl3Mode: Bool { state.registers[Register.opl3Mode] & 1 != 0 }

    func writeRegister(_ register: Int, _ value: UInt8) {
        state.registers[register] = value
        let bank = register >> 8
        let low = register & 0xFF
        switch low {
        case Register.timer1 where bank == 0:
            state.timers[0].value = value
        case Register.timer2 where bank == 0:
            state.timers[1].value = value
        case Register.timerControl where bank == 0:
            writeTimerControl(value)
        case Register.timerControl where bank == 1:
            if value & 0x3F != 0 { Log.write(.unimplemented, "opl3: four-operator channels (played as two-operator)") }
        case Register.rhythm where bank == 0:
            if value & 0x20 != 0 { Log.write(.unimplemented, "opl3: rhythm mode") }
        case 0x20...0x35, 0x40...0x55, 0x60...0x75, 0x80...0x95, 0xE0...0xF5:
            let offset = low & 0x1F
            guard offset < OPL3.operatorAtOffset.count, OPL3.operatorAtOffset[offset] >= 0 else { return }
            writeOperator(bank * 18 + OPL3.operatorAtOffset[offset], group: low & 0xE0, value)
        case 0xA0...0xA8, 0xB0...0xB8, 0xC0...0xC8:
            writeChannel(bank * 9 + (low & 0x0F), group: low & 0xF0, value)
        default:
            break
        }
    }

    private func writeOperator(_ index: Int, group: Int, _ value: UInt8) {
        var op = state.operators[index]
        switch group {
        case 0x20:
            op.tremolo = value & 0x80 != 0
            op.vibrato = value & 0x40 != 0
            op.sustaining = value & 0x20 != 0
            op.keyScaleRate = value & 0x10 != 0
            op.multiple = Int(value & 0x0F)
        case 0x40:
            op.keyScaleLevel = Int(value >> 6)
            op.totalLevel = Int(value & 0x3F)
        case 0x60:
            op.attackRate = Int(value >> 4)
            op.decayRate = Int(value & 0x0F)
        case 0x80:
            op.sustainLevel = Int(value >> 4)
            op.releaseRate = Int(value & 0x0F)
        default:
            op.waveform = Int(value & 0x07)
        }
        state.operators[index] = op
    }

    private func writeChannel(_ index: Int, group: Int, _ value: UInt8) {
        var channel = state.channels[index]
        switch group {
        case 0xA0:
            channel.frequencyNumber = channel.frequencyNumber & 0x300 | Int(value)
        case 0xB0:
            channel.frequencyNumber = channel.frequencyNumber & 0xFF | Int(value & 0x03) << 8
            channel.block = Int(value >> 2) & 0x07
            let keyOn = value & 0x20 != 0
            if keyOn != channel.keyOn {
                for op in operators(ofChannel: index) { keyOn ? keyOnOperator(op) : keyOffOperator(op) }
            }
            channel.keyOn = keyOn
        default:
            channel.feedback = Int(value >> 1) & 0x07
            channel.additive = value & 0x01 != 0
            channel.left = value & 0x10 != 0
            channel.right = value & 0x20 != 0
        }
        state.channels[index] = channel
    }

    /// The modulator and the carrier of a channel (operators 0 and 3 of its triple).
    func operators(ofChannel channel: Int) -> [Int] {
        let bank = channel / 9, inBank = channel % 9
        let first = bank * 18 + (inBank / 3) * 6 + inBank % 3
        return [first, first + 3]
    }

    private func keyOnOperator(_ index: Int) {
        if state.operators[index].stage == .off { keyedOn() }
        state.operators[index].stage = .attack
        state.operators[index].phase = 0
        state.operators[index].attackLevel = 0
        state.operators[index].envelope = 96
    }

    private func keyOffOperator(_ index: Int) {
        var op = state.operators[index]
        guard op.stage != .off else { return }
        if op.stage == .attack { op.envelope = op.attackLevel > 0 ? min(96, -20 * log10(op.attackLevel)) : 96 }
        op.stage = .release
        state.operators[index] = op
    }

    // MARK: Synthesis

    /// Seconds the envelope takes to go through its whole range at `rate`
    /// (0-15) with the key scale added; nil for a rate of 0 (it never moves).
    static func envelopeSeconds(rate: Int, keyScale: Int, attack: Bool) -> Double? {
        guard rate > 0 else { return nil }
        let effective = min(63, rate * 4 + keyScale)
        if attack && effective >= 60 { return 0 }
        let base = attack ? 2.82624 : 39.28064
        return base / pow(2, Double(effective - 4) / 4)
    }

    /// Some operator sounds (keyed on, or still releasing).
    public var isActive: Bool {
        for index in 0..<36 where state.operators[index].stage != .off { return true }
        return false
    }

    public func render(into buffer: UnsafeMutablePointer<Float>, frames: Int, rate: Int) {
        guard isActive else { return }
        let (gainLeft, gainRight) = gain()
        let sampleSeconds = 1 / Double(rate)
        let depthVibrato = state.registers[Register.rhythm] & 0x40 != 0 ? 0.0081 : 0.00405
        let depthTremolo: Float = state.registers[Register.rhythm] & 0x80 != 0 ? 4.8 : 1.0
        let noteSelect = state.registers[Register.keyboardSplit] & 0x40 != 0
        let waveformsAllowed = opl3Mode ? 7 : (state.registers[Register.test] & 0x20 != 0 ? 3 : 0)
        // Full scale of one operator: an eighth of the 16-bit range, as on the chip.
        let scale: Float = 4096

        for channelIndex in 0..<18 {
            let channel = state.channels[channelIndex]
            let pair = operators(ofChannel: channelIndex)
            guard state.operators[pair[0]].stage != .off || state.operators[pair[1]].stage != .off else { continue }
            let toLeft = !opl3Mode || channel.left, toRight = !opl3Mode || channel.right
            let frequency = Double(channel.frequencyNumber) * OPL3.chipRate / pow(2, Double(20 - channel.block))
            let keyCode = channel.block << 1 | (noteSelect ? channel.frequencyNumber >> 8 & 1 : channel.frequencyNumber >> 9 & 1)
            let ksl = max(0, OPL3.keyScaleTable[channel.frequencyNumber >> 6] * 4 - (8 - channel.block) * 32)
            var modulator = state.operators[pair[0]], carrier = state.operators[pair[1]]
            let feedbackScale: Float = channel.feedback == 0 ? 0 : Float(pow(2, Double(channel.feedback - 7)))
            let setup = [modulator, carrier].map { op -> (increment: Double, levelDB: Float, attack: Float, decay: Float, release: Float, waveform: Int) in
                let keyScale = op.keyScaleRate ? keyCode : keyCode >> 2
                let attack = OPL3.envelopeSeconds(rate: op.attackRate, keyScale: keyScale, attack: true)
                let decay = OPL3.envelopeSeconds(rate: op.decayRate, keyScale: keyScale, attack: false)
                let release = OPL3.envelopeSeconds(rate: op.releaseRate, keyScale: keyScale, attack: false)
                let levelDB = Float(op.totalLevel) * 0.75 + Float(ksl >> OPL3.keyScaleShift[op.keyScaleLevel]) * 0.1875
                return (frequency * OPL3.multiples[op.multiple] * sampleSeconds, levelDB,
                        attack.map { $0 == 0 ? 2 : Float(sampleSeconds / $0) } ?? 0,
                        decay.map { Float(96 * sampleSeconds / $0) } ?? 0,
                        release.map { Float(96 * sampleSeconds / $0) } ?? 0,
                        min(op.waveform, waveformsAllowed))
            }
            var lfoTime = state.lfoTime
            for frame in 0..<frames {
                let vibrato = 1 + depthVibrato * sin(2 * .pi * 6.07 * lfoTime)
                let tremolo = depthTremolo * Float(0.5 + 0.5 * sin(2 * .pi * 3.7 * lfoTime))
                lfoTime += sampleSeconds
                let feedback = (modulator.output + modulator.previousOutput) * feedbackScale
                let first = OPL3.step(&modulator, setup[0], phaseOffset: Double(feedback), vibrato: vibrato, tremolo: tremolo)
                modulator.previousOutput = modulator.output
                modulator.output = first
                let second = OPL3.step(&carrier, setup[1], phaseOffset: channel.additive ? 0 : Double(first) * 4,
                                       vibrato: vibrato, tremolo: tremolo)
                let sample = (channel.additive ? first + second : second) * scale
                if toLeft { buffer[2 * frame] += sample * gainLeft }
                if toRight { buffer[2 * frame + 1] += sample * gainRight }
            }
            state.operators[pair[0]] = modulator
            state.operators[pair[1]] = carrier
        }
        state.lfoTime += Double(frames) * sampleSeconds
        if state.lfoTime > 1000 { state.lfoTime = 0 }
    }

    /// One sample of one operator: advances its envelope and phase and
    /// returns its output (-1...1).
    @inline(__always)
    static func step(_ op: inout Operator, _ setup: (increment: Double, levelDB: Float, attack: Float, decay: Float, release: Float, waveform: Int),
                     phaseOffset: Double, vibrato: Double, tremolo: Float) -> Float {
        var level: Float
        switch op.stage {
        case .off:
            return 0
        case .attack:
            op.attackLevel += setup.attack
            if setup.attack == 0 { return 0 }
            if op.attackLevel >= 1 {
                op.attackLevel = 1
                op.envelope = 0
                op.stage = .decay
            }
            level = op.attackLevel
        case .decay:
            op.envelope += setup.decay
            let sustainDB = Float(op.sustainLevel == 15 ? 93 : op.sustainLevel * 3)
            if op.envelope >= sustainDB {
                op.envelope = sustainDB
                op.stage = op.sustaining ? .sustain : .release
            }
            level = 1
        case .sustain:
            level = 1
        case .release:
            op.envelope += setup.release
            if op.envelope >= 96 {
                op.envelope = 96
                op.stage = .off
                return 0
            }
            level = 1
        }
        let attenuation = (op.stage == .attack ? 0 : op.envelope) + setup.levelDB + (op.tremolo ? tremolo : 0)
        let amplitude = level * Float(exp2(Double(-attenuation) / 6.0206))
        let phase = op.phase + phaseOffset
        op.phase += setup.increment * (op.vibrato ? vibrato : 1)
        if op.phase >= 1 { op.phase -= op.phase.rounded(.down) }
        return amplitude * waveform(setup.waveform, phase: phase - phase.rounded(.down))
    }

    /// The eight waveforms at `phase` (0..<1).
    @inline(__always)
    static func waveform(_ kind: Int, phase: Double) -> Float {
        let size = Double(OPL3.sineTableSize)
        let firstHalf = phase < 0.5
        @inline(__always) func sine(_ p: Double) -> Float { OPL3.sine[Int(p * size) & (OPL3.sineTableSize - 1)] }
        switch kind {
        case 0: return sine(phase)
        case 1: return firstHalf ? sine(phase) : 0
        case 2: return abs(sine(phase))
        case 3: return phase.truncatingRemainder(dividingBy: 0.5) < 0.25 ? abs(sine(phase)) : 0
        case 4: return firstHalf ? sine(phase * 2) : 0
        case 5: return firstHalf ? abs(sine(phase * 2)) : 0
        case 6: return firstHalf ? 1 : -1
        default:
            // The "derived square": an exponential decay each half cycle.
            return firstHalf ? Float(exp(-16 * phase)) : -Float(exp(-16 * (1 - phase)))
        }
    }
}

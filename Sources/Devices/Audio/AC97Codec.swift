import Foundation

/// The AC'97 codec behind the ICH's mixer BAR (NAM): 64 sixteen-bit
/// registers with the reset values and writable bits of a SigmaTel STAC9700
/// (the codec QEMU's AC97 carries): volumes with 5-bit attenuation and a
/// mute bit, the power-down register with everything ready, variable rate
/// audio (VRA) for the PCM DAC and ADC, and the vendor ID. Registers it does
/// not have read 0 and ignore writes, which is how drivers probe for them.
public final class AC97Codec {
    public enum Register {
        public static let reset = 0x00
        public static let masterVolume = 0x02
        public static let headphoneVolume = 0x04
        public static let masterMonoVolume = 0x06
        public static let pcBeepVolume = 0x0A
        public static let phoneVolume = 0x0C
        public static let micVolume = 0x0E
        public static let lineInVolume = 0x10
        public static let cdVolume = 0x12
        public static let videoVolume = 0x14
        public static let auxVolume = 0x16
        public static let pcmOutVolume = 0x18
        public static let recordSelect = 0x1A
        public static let recordGain = 0x1C
        public static let generalPurpose = 0x20
        public static let threeDControl = 0x22
        public static let powerDown = 0x26
        public static let extendedAudioID = 0x28
        public static let extendedAudioControl = 0x2A
        public static let frontDACRate = 0x2C
        public static let adcRate = 0x32
        public static let micADCRate = 0x34
        public static let vendorID1 = 0x7C
        public static let vendorID2 = 0x7E
    }

    /// Bit 15 of every volume register mutes it.
    static let mute: UInt16 = 0x8000
    /// Extended audio ID and control: variable rate PCM audio.
    static let variableRate: UInt16 = 0x0001
    /// Power-down status: ADC, DAC, analog mixer and reference ready.
    static let allReady: UInt16 = 0x000F
    static let fixedRate: UInt16 = 48_000
    /// SigmaTel's "SGT" and the STAC9700's 0x00.
    static let vendor: (UInt16, UInt16) = (0x8384, 0x7600)

    /// Power-on value and writable bits of each register it has.
    static let layout: [Int: (reset: UInt16, writable: UInt16)] = [
        Register.masterVolume: (0x8000, 0x9F1F),
        Register.headphoneVolume: (0x8000, 0x9F1F),
        Register.masterMonoVolume: (0x8000, 0x801F),
        Register.pcBeepVolume: (0x0000, 0x801E),
        Register.phoneVolume: (0x8008, 0x801F),
        Register.micVolume: (0x8008, 0x805F),
        Register.lineInVolume: (0x8808, 0x9F1F),
        Register.cdVolume: (0x8808, 0x9F1F),
        Register.videoVolume: (0x8808, 0x9F1F),
        Register.auxVolume: (0x8808, 0x9F1F),
        Register.pcmOutVolume: (0x8808, 0x9F1F),
        Register.recordSelect: (0x0000, 0x0707),
        Register.recordGain: (0x8000, 0x8F0F),
        Register.generalPurpose: (0x0000, 0xB380),
        Register.threeDControl: (0x0000, 0x0000),
        Register.powerDown: (allReady, 0xFF00),
        Register.extendedAudioID: (variableRate, 0x0000),
        Register.extendedAudioControl: (0x0000, variableRate),
        Register.frontDACRate: (fixedRate, 0xFFFF),
        Register.adcRate: (fixedRate, 0xFFFF),
        Register.vendorID1: (vendor.0, 0x0000),
        Register.vendorID2: (vendor.1, 0x0000),
    ]

    var registers = [UInt16](repeating: 0, count: 64)
    /// Called when a DAC or ADC rate may have changed.
    public var ratesChanged: () -> Void = {}

    public init() { reset() }

    /// Every register back to its power-on value (a write to register 0 does this).
    public func reset() {
        for index in registers.indices { registers[index] = 0 }
        for (register, entry) in AC97Codec.layout { registers[register >> 1] = entry.reset }
        ratesChanged()
    }

    public func read(_ register: Int) -> UInt16 {
        guard register & 1 == 0, register < 0x80 else { return 0 }
        return registers[register >> 1]
    }

    public func write(_ register: Int, _ value: UInt16) {
        guard register & 1 == 0, register < 0x80 else { return }
        if register == Register.reset {
            reset()
            return
        }
        guard let entry = AC97Codec.layout[register] else { return }
        var value = value
        switch register {
        case Register.frontDACRate, Register.adcRate:
            // Without VRA the converters run at 48 kHz; with it at 8-48 kHz.
            guard variableRateEnabled else { return }
            value = max(8_000, min(AC97Codec.fixedRate, value))
        case Register.extendedAudioControl:
            if value & AC97Codec.variableRate == 0 {
                registers[Register.frontDACRate >> 1] = AC97Codec.fixedRate
                registers[Register.adcRate >> 1] = AC97Codec.fixedRate
            }
        default:
            break
        }
        registers[register >> 1] = registers[register >> 1] & ~entry.writable | value & entry.writable
        if register == Register.frontDACRate || register == Register.adcRate || register == Register.extendedAudioControl {
            ratesChanged()
        }
    }

    var variableRateEnabled: Bool { registers[Register.extendedAudioControl >> 1] & AC97Codec.variableRate != 0 }

    public var dacRate: Int { Int(registers[Register.frontDACRate >> 1]) }
    public var adcRate: Int { Int(registers[Register.adcRate >> 1]) }

    /// The output's left and right gains: master times PCM out, each
    /// 1.5 dB a step with its mute. PCM's gain above 0 dB (up to +12 dB) is
    /// held at 0 dB: the digital path has no headroom to amplify into.
    public var outputGains: (left: Float, right: Float) {
        let master = registers[Register.masterVolume >> 1]
        let pcm = registers[Register.pcmOutVolume >> 1]
        if master & AC97Codec.mute != 0 || pcm & AC97Codec.mute != 0 { return (0, 0) }
        func gain(_ masterSteps: UInt16, _ pcmSteps: UInt16) -> Float {
            let decibels = -1.5 * Float(masterSteps & 0x1F) + min(0, 1.5 * (8 - Float(pcmSteps & 0x1F)))
            return AC97Codec.amplitude(decibels: decibels)
        }
        return (gain(master >> 8, pcm >> 8), gain(master, pcm))
    }

    static func amplitude(decibels: Float) -> Float {
        Float(pow(10, Double(decibels) / 20))
    }
}

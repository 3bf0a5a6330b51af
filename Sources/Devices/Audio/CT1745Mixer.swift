import Foundation
import PCEmuSupport

/// The Sound Blaster 16's mixer chip (CT1745), reached through the index
/// port at base+4 and the data port at base+5. It holds the volume
/// registers (the SB Pro's 4-bit pairs at 0x04-0x2E alias the 5-bit ones at
/// 0x30-0x3A), and the card's configuration: IRQ select (0x80), DMA select
/// (0x81) and the read-only interrupt status (0x82).
public final class CT1745Mixer {
    public enum Register {
        public static let reset: UInt8 = 0x00
        static let voiceSBPro: UInt8 = 0x04
        static let micSBPro: UInt8 = 0x0A
        static let outputStereoSBPro: UInt8 = 0x0E
        static let masterSBPro: UInt8 = 0x22
        static let midiSBPro: UInt8 = 0x26
        static let cdSBPro: UInt8 = 0x28
        static let lineSBPro: UInt8 = 0x2E
        public static let masterLeft: UInt8 = 0x30
        public static let masterRight: UInt8 = 0x31
        public static let voiceLeft: UInt8 = 0x32
        public static let voiceRight: UInt8 = 0x33
        public static let midiLeft: UInt8 = 0x34
        public static let midiRight: UInt8 = 0x35
        static let mic: UInt8 = 0x3A
        public static let irqSelect: UInt8 = 0x80
        public static let dmaSelect: UInt8 = 0x81
        public static let interruptStatus: UInt8 = 0x82
        static let mpuSelect: UInt8 = 0x84
    }

    /// Bits of the IRQ select register and the IRQ each stands for.
    public static let irqBits: [(bit: UInt8, irq: Int)] = [(0x01, 9), (0x02, 5), (0x04, 7), (0x08, 10)]
    /// Bits of the DMA select register and the channel each stands for.
    public static let dma8Bits: [(bit: UInt8, channel: Int)] = [(0x01, 0), (0x02, 1), (0x08, 3)]
    public static let dma16Bits: [(bit: UInt8, channel: Int)] = [(0x20, 5), (0x40, 6), (0x80, 7)]

    /// The SB Pro registers that are views of a left/right pair of 5-bit ones.
    static let sbProPairs: [UInt8: (UInt8, UInt8)] = [
        Register.voiceSBPro: (0x32, 0x33), Register.masterSBPro: (0x30, 0x31), Register.midiSBPro: (0x34, 0x35),
        Register.cdSBPro: (0x36, 0x37), Register.lineSBPro: (0x38, 0x39),
    ]

    public internal(set) var index: UInt8 = 0
    var registers = [UInt8](repeating: 0, count: 256)
    /// Interrupt status bits, owned by the DSP (bit 0 8-bit DMA, bit 1 16-bit DMA, bit 2 MPU-401).
    public var interruptStatus: UInt8 = 0

    /// `irqSelect`/`dmaSelect`: the card's jumper-free configuration at power-on.
    public init(irqSelect: UInt8, dmaSelect: UInt8) {
        registers[Int(Register.irqSelect)] = irqSelect
        registers[Int(Register.dmaSelect)] = dmaSelect
        registers[Int(Register.mpuSelect)] = 0x02
        resetVolumes()
    }

    /// What register 0x00 does: volumes to their defaults; the IRQ and DMA
    /// selection stays.
    func resetVolumes() {
        for register in 0x30...0x35 { registers[register] = 0xC0 }
        for register in 0x36...0x3B { registers[register] = 0x00 }
        registers[0x3C] = 0x1F
        registers[0x3D] = 0x15
        registers[0x3E] = 0x0B
        for register in 0x3F...0x43 { registers[register] = 0x00 }
        for register in 0x44...0x47 { registers[register] = 0x80 }
        registers[Int(Register.outputStereoSBPro)] = 0
    }

    public func selectRegister(_ value: UInt8) { index = value }

    public func readData() -> UInt8 { read(index) }

    public func writeData(_ value: UInt8) { write(index, value) }

    public func read(_ register: UInt8) -> UInt8 {
        if let (left, right) = CT1745Mixer.sbProPairs[register] {
            return registers[Int(left)] & 0xF0 | registers[Int(right)] >> 4
        }
        switch register {
        case Register.micSBPro: return registers[Int(Register.mic)] >> 4 & 0x0E
        case Register.interruptStatus: return interruptStatus
        default: return registers[Int(register)]
        }
    }

    public func write(_ register: UInt8, _ value: UInt8) {
        if let (left, right) = CT1745Mixer.sbProPairs[register] {
            registers[Int(left)] = value & 0xF0 | 0x08
            registers[Int(right)] = value << 4 | 0x08
            return
        }
        switch register {
        case Register.reset:
            resetVolumes()
        case Register.micSBPro:
            registers[Int(Register.mic)] = (value & 0x0E) << 4
        case Register.interruptStatus:
            Log.write(.guestErrors, "sb16: write to the read-only interrupt status register")
        case Register.irqSelect:
            registers[Int(register)] = value & 0x0F
        default:
            registers[Int(register)] = value
        }
    }

    /// Left and right gains (linear) of a 5-bit pair: 2 dB a step, 31 is 0 dB,
    /// times the master pair.
    public func gains(left: UInt8, right: UInt8) -> (Float, Float) {
        func gain(_ register: UInt8, _ master: UInt8) -> Float {
            let steps = Int(registers[Int(register)] >> 3) + Int(registers[Int(master)] >> 3) - 62
            return steps <= -62 ? 0 : Float(pow(10, Double(steps) * 2 / 20))
        }
        return (gain(left, Register.masterLeft), gain(right, Register.masterRight))
    }

    /// The IRQ the select register names (the lowest if several bits are set).
    public var selectedIRQ: Int? {
        CT1745Mixer.irqBits.first { registers[Int(Register.irqSelect)] & $0.bit != 0 }?.irq
    }

    public var selectedDMA8: Int? {
        CT1745Mixer.dma8Bits.first { registers[Int(Register.dmaSelect)] & $0.bit != 0 }?.channel
    }

    public var selectedDMA16: Int? {
        CT1745Mixer.dma16Bits.first { registers[Int(Register.dmaSelect)] & $0.bit != 0 }?.channel
    }

    /// SB Pro stereo output for the 8-bit legacy commands.
    var sbProStereo: Bool { registers[Int(Register.outputStereoSBPro)] & 0x02 != 0 }
}

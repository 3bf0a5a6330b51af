import Memory

/// The 32 ports of an NE2000 board: the DP8390's registers at 0x00-0x0F,
/// the remote DMA data port at 0x10 (decoded at 0x10-0x17), and the reset
/// port at 0x18-0x1F, where a read resets the board. The ISA card and the
/// RTL8029 share this layout; only how they are placed and interrupt differs.
public final class NE2000Ports: PortHandler {
    public static let count = 0x20
    static let registerEnd: UInt16 = 0x10
    static let dataPort: UInt16 = 0x10
    static let resetPort: UInt16 = 0x18

    public let chip: DP8390

    public init(chip: DP8390) { self.chip = chip }

    public override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        switch offset {
        case ..<NE2000Ports.registerEnd:
            var value: UInt32 = 0
            for index in 0..<size.rawValue where Int(offset) + index < Int(NE2000Ports.registerEnd) {
                value |= UInt32(chip.readRegister(Int(offset) + index)) << (8 * UInt32(index))
            }
            return value
        case NE2000Ports.dataPort..<NE2000Ports.resetPort:
            return chip.readData(size: size.rawValue)
        default:
            chip.boardReset()
            return 0
        }
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        switch offset {
        case ..<NE2000Ports.registerEnd:
            for index in 0..<size.rawValue where Int(offset) + index < Int(NE2000Ports.registerEnd) {
                chip.writeRegister(Int(offset) + index, UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))))
            }
        case NE2000Ports.dataPort..<NE2000Ports.resetPort:
            chip.writeData(value, size: size.rawValue)
        default:
            break  // drivers write back what they read from the reset port; the read did the reset
        }
    }
}

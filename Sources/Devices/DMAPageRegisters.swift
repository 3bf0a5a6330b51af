import Memory

/// Ports 0x80-0x8F: the 74LS612 that holds address bits 16-23 of each DMA
/// channel. Only eight of the sixteen bytes feed a channel; the rest are plain
/// storage (0x80 is where firmware writes its POST codes).
public final class DMAPageRegisters: PortHandler {
    public static let base: UInt16 = 0x80
    public static let portCount = 16

    /// The port offset of each channel's page byte: channels 0-3 at 0x87, 0x83,
    /// 0x81, 0x82; channels 4-7 at 0x8F, 0x8B, 0x89, 0x8A.
    static let channelOffsets: [UInt16] = [0x7, 0x3, 0x1, 0x2, 0xF, 0xB, 0x9, 0xA]

    var bytes = [UInt8](repeating: 0, count: DMAPageRegisters.portCount)

    public func reset() {
        bytes = [UInt8](repeating: 0, count: DMAPageRegisters.portCount)
    }

    /// Address bits 16-23 for `channel` (0-7).
    public func page(ofChannel channel: Int) -> UInt8 {
        bytes[Int(DMAPageRegisters.channelOffsets[channel])]
    }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        UInt32(bytes[Int(offset & 0x0F)])
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        bytes[Int(offset & 0x0F)] = UInt8(truncatingIfNeeded: value)
    }
}

import Memory
import PCEmuSupport

/// The PIIX3's IDE function (8086:7010 at 01.1): two channels at their
/// legacy ports and IRQs 14 and 15 (programming interface 0x80: fixed legacy
/// mode, bus master capable) and the bus master registers at BAR4. The IDE
/// timing registers 0x40-0x43 keep their decode-enable bits set, which
/// Linux's ata_piix checks before it probes a channel.
public final class PIIX3IDE: PCIDevice {
    public static let deviceID: UInt16 = 0x7010
    public static let function = 1
    static let ideClass: UInt32 = 0x01_01_80
    static let busMasterBAR = 4
    static let busMasterPortCount: UInt32 = 16

    enum Register {
        static let primaryTiming = 0x40
        static let secondaryTiming = 0x42
        static let slaveTiming = 0x44
    }

    /// IDETIM bit 15: the channel's legacy ports decode.
    static let decodeEnable: UInt16 = 0x8000

    public let channels: [IDEChannel]
    let busMasters: [BusMasterChannel]
    let busMasterPorts: BusMasterPorts

    /// `memoryWritten` hears of every guest RAM range DMA wrote.
    public init(primary: IDEChannel, secondary: IDEChannel, memory: AddressSpace,
                memoryWritten: @escaping (PhysicalAddress, Int) -> Void) {
        channels = [primary, secondary]
        busMasters = channels.map { BusMasterChannel(memory: memory, channel: $0, memoryWritten: memoryWritten) }
        busMasterPorts = BusMasterPorts(channels: busMasters)
        super.init(name: "piix3-ide", vendorID: PIIX3.vendorID, deviceID: PIIX3IDE.deviceID, revision: 0,
                   classCode: PIIX3IDE.ideClass)
        defineBAR(PIIX3IDE.busMasterBAR, size: PIIX3IDE.busMasterPortCount, kind: .io)
        setConfig(Register.primaryTiming, word: PIIX3IDE.decodeEnable)
        setConfig(Register.secondaryTiming, word: PIIX3IDE.decodeEnable)
        setWritable(Register.primaryTiming, word: 0xFFFF)
        setWritable(Register.secondaryTiming, word: 0xFFFF)
        setWritable(Register.slaveTiming, byte: 0xFF)
    }

    /// Attaches both channels at their legacy ports. BAR4's ports follow the
    /// guest's programming through `barMoved`, which the machine wires to `mapBusMaster`.
    public func attach(to ports: IOPortBus) throws {
        try channels[0].attach(to: ports, base: IDEChannel.primaryBase, control: IDEChannel.primaryControl)
        try channels[1].attach(to: ports, base: IDEChannel.secondaryBase, control: IDEChannel.secondaryControl)
        barMoved = { [unowned ports, unowned self] _, bar, _, old, new in
            guard bar == PIIX3IDE.busMasterBAR else { return }
            if let old { ports.detach(base: UInt16(old), count: Int(PIIX3IDE.busMasterPortCount)) }
            if let new {
                do {
                    try ports.attach(self.busMasterPorts, name: "piix3-ide-bm", base: UInt16(new), count: Int(PIIX3IDE.busMasterPortCount))
                } catch {
                    Log.write(.guestErrors, "piix3-ide: bus master ports at 0x\(String(new, radix: 16)) collide: \(error)")
                }
            }
        }
    }

    /// The channels' ports are the function's: its reset resets them.
    public override var busParts: [AnyObject] { [self, busMasterPorts] + channels.flatMap { [$0, $0.controlWindow] } }

    public override func reset() {
        super.reset()
        for channel in channels { channel.reset() }
        for busMaster in busMasters { busMaster.reset() }
    }
}

import Memory

/// The general-purpose event block QEMU's PIIX4 machine places at 0xAFE0
/// (GPE0_BLK in SeaBIOS's FADT, 4 bytes): a 16-bit status register whose bits
/// clear when written with 1, then a 16-bit enable register. Nothing here
/// raises an event (there is no hot-plug), so the status reads 0. Without the
/// block a read gives all ones, and the guest's ACPI runs every GPE handler at
/// start-up: SeaBIOS's _E01 then sees every PCI slot "removed" and Linux
/// drops the devices.
public final class ACPIGPEBlock: PortHandler {
    public static let base: UInt16 = 0xAFE0
    public static let portCount = 4
    var status: UInt16 = 0
    var enable: UInt16 = 0

    public override init() { super.init() }

    public func reset() {
        status = 0
        enable = 0
    }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<size.rawValue {
            let index = Int(offset) + i
            let register = index < 2 ? status : index < 4 ? enable : 0xFFFF
            value |= UInt32(UInt8(truncatingIfNeeded: register >> (8 * UInt16(index & 1)))) << (8 * UInt32(i))
        }
        return value
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        for i in 0..<size.rawValue {
            let index = Int(offset) + i
            let byte = UInt16(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) << (8 * UInt16(index & 1))
            let lane: UInt16 = 0xFF << (8 * UInt16(index & 1))
            switch index {
            case 0, 1: status &= ~byte
            case 2, 3: enable = (enable & ~lane) | byte
            default: break
            }
        }
    }
}

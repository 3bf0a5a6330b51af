import Memory
import PCEmuSupport

/// The hot-plug registers SeaBIOS's ACPI tables read on QEMU's PIIX4
/// machine, answered for a machine whose devices never come or go:
/// - PCI at 0xAE00: slots added (0xAE00) and removed (0xAE04) read 0, an
///   eject request (0xAE08) is ignored, and no slot is removable (0xAE0C);
/// - CPUs at 0xAF00: a 32-byte bitmap of present processors, just CPU 0.
/// Unanswered, these ports read all ones: every slot reported removed and
/// 256 processors present.
public final class HotplugStatusPorts {
    public static let pciBase: UInt16 = 0xAE00
    public static let pciPortCount = 16
    public static let cpuBase: UInt16 = 0xAF00
    public static let cpuPortCount = 32

    public let pci = PCIHotplugPorts()
    public let cpus = CPUPresencePorts()

    public init() {}

    public final class PCIHotplugPorts: PortHandler {
        static let ejectOffset = 8

        public override func read(offset: UInt16, size: AccessSize) -> UInt32 { 0 }

        public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
            if Int(offset) == PCIHotplugPorts.ejectOffset {
                Log.write(.guestErrors, "acpi: eject request for PCI slots 0x\(String(value, radix: 16)) ignored (no hot-plug)")
            }
        }
    }

    public final class CPUPresencePorts: PortHandler {
        public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
            // Bit 0 of byte 0 is CPU 0; the accessed bytes start at `offset`.
            offset == 0 ? 1 : 0
        }

        public override func write(offset: UInt16, value: UInt32, size: AccessSize) {}
    }
}

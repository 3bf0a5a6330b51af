import Memory
import PCEmuSupport

/// The Realtek RTL8029, a PCI NE2000 (10ec:8029, QEMU's ne2k_pci): the
/// NE2000's 32 ports behind I/O BAR 0, its interrupt on INTA#, which the
/// PIIX3 routes to an ISA IRQ.
public final class NE2000PCI: PCIDevice {
    public static let vendorID: UInt16 = 0x10EC
    public static let deviceID: UInt16 = 0x8029
    static let ethernetClass: UInt32 = 0x02_00_00
    static let interruptPinA: UInt8 = 1

    public let chip: DP8390
    public let ports: NE2000Ports
    /// Attaches and detaches the ports as the guest moves BAR 0; set by the machine.
    public var portsMoved: (_ old: UInt16?, _ new: UInt16?) -> Void = { _, _ in }

    public init(macAddress: [UInt8]) {
        var setINTx: (Bool) -> Void = { _ in }
        chip = DP8390(name: "ne2k_pci", macAddress: macAddress, interrupt: InterruptLine { setINTx($0) })
        ports = NE2000Ports(chip: chip)
        super.init(name: "ne2k_pci", vendorID: NE2000PCI.vendorID, deviceID: NE2000PCI.deviceID, revision: 0,
                   classCode: NE2000PCI.ethernetClass, interruptPin: NE2000PCI.interruptPinA)
        setConfig(PCIConfig.subsystemVendorID, word: NE2000PCI.vendorID)
        setConfig(PCIConfig.subsystemID, word: NE2000PCI.deviceID)
        defineBAR(0, size: UInt32(NE2000Ports.count), kind: .io)
        setINTx = { [unowned self] level in self.setINTx(level) }
        barMoved = { [unowned self] _, _, _, old, new in
            self.portsMoved(old.map { UInt16(truncatingIfNeeded: $0) }, new.map { UInt16(truncatingIfNeeded: $0) })
        }
    }

    public override var busParts: [AnyObject] { [self, ports] }

    public override func reset() {
        chip.reset()
        super.reset()
    }
}

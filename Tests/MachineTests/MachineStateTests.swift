import Configuration
import Devices
import Lifecycle
import Machine
import XCTest

/// The whole machine's devices through their saved states: what still
/// cannot be saved is named, and everything else round-trips from one
/// machine into another built alike.
final class MachineStateTests: XCTestCase {
    func testWhatCannotBeSavedYetIsNamed() throws {
        let parsed = try OptionParser().parse(DeviceRegistryMachineTests.arguments.split(separator: " ").map(String.init))
        let pc = try TestMachine.make { config in
            config.nics = parsed.nics
            config.netdevs = parsed.netdevs
            config.devices = parsed.devices
            config.audiodevs = parsed.audiodevs
            config.usb = parsed.usb
        }
        // The CPU, and the cards whose state is not built yet.
        XCTAssertEqual(pc.devices.devicesWithoutState, ["cpu", "pci-bus/piix3-usb-uhci", "pci-bus/e1000", "pci-bus/ne2k_pci",
                                                        "pci-bus/intel-hda", "pci-bus/AC97", "sb16", "opl3", "ne2k_isa.0"])
        XCTAssertThrowsError(try pc.devices.save())
    }

    func testEveryDeviceButTheCPURoundTripsIntoAMachineBuiltAlike() throws {
        let edit: (inout MachineConfiguration) -> Void = { config in
            config.nics = try! OptionParser().parse(["-nic", "none"]).nics
        }
        let original = try TestMachine.make(edit), copy = try TestMachine.make(edit)
        XCTAssertEqual(original.devices.devicesWithoutState, ["cpu"])
        // Some guest-visible state away from power-on.
        original.ports.outb(0x21, 0xB8)
        original.ports.outb(0x70, 0x0B)
        original.ports.pciWriteByte(slot: 0, offset: 0x59, 0x30)
        original.ports.write(0xCF8, value: 0x8000_0840, size: .dword)
        for entry in original.devices.entries where entry.name != "cpu" {
            let device = try XCTUnwrap(entry.device as? StatefulDevice)
            let saved = try StateRecordCodec.decode(StateRecordCodec.encode(device.savedState()))
            let target = try XCTUnwrap(copy.devices.device(named: entry.name) as? StatefulDevice, entry.name)
            try target.loadState(saved)
            XCTAssertEqual(target.savedState(), device.savedState(), entry.name)
        }
        for port: UInt16 in [0x21, 0x70] { XCTAssertEqual(copy.ports.inb(port), original.ports.inb(port)) }
        XCTAssertEqual(copy.ports.pciRead(slot: 0, offset: 0x58), original.ports.pciRead(slot: 0, offset: 0x58))
    }
}

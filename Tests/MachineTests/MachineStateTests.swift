import Configuration
import Devices
import Lifecycle
import Machine
import XCTest

/// The whole machine through its registry: what still cannot be saved is
/// named, a machine without those parts round-trips into one built alike,
/// and one configured otherwise refuses the state and changes nothing.
final class MachineStateTests: XCTestCase {
    /// A machine with every kind of card (both NE2000s, the e1000, the
    /// SB16 with its OPL3, AC97, HDA, UHCI and xHCI with their USB devices)
    /// has nothing left unsaved, and round-trips through the registry into
    /// one built alike: BARs mapped where the saved configuration says.
    func testAMachineWithEveryCardRoundTripsThroughTheRegistry() throws {
        let original = try DeviceRegistryMachineTests.machine(), copy = try DeviceRegistryMachineTests.machine()
        XCTAssertEqual(original.devices.devicesWithoutState, [])
        DeviceRegistryMachineTests.programBARs(original)
        original.ports.outb(0xC200 + 0x0F, 0x3F)  // ne2k_pci: IMR
        original.ports.outb(0x220 + 0x0C, 0xE4)  // SB16: DSP write test register
        original.ports.outb(0x220 + 0x0C, 0x5A)
        let bytes = StateRecordCodec.encode(try original.devices.save())
        try copy.devices.load(try StateRecordCodec.decode(bytes))
        try assertEveryDeviceAlike(original, copy)
        XCTAssertEqual(copy.ports.inb(0xC200 + 0x0A), 0x50, "the RTL8029's ports where BAR 0 was placed")
        copy.ports.outb(0xC200, 0x80 | 0x21)  // page 2
        XCTAssertEqual(copy.ports.inb(0xC200 + 0x0F), 0x3F, "IMR as saved")
        copy.ports.outb(0x220 + 0x0C, 0xE8)
        XCTAssertEqual(copy.ports.inb(0x220 + 0x0A), 0x5A, "the DSP's test register as saved")
    }

    /// Each registered device of `copy` saves what the one of `original` saves.
    func assertEveryDeviceAlike(_ original: PCMachine, _ copy: PCMachine) throws {
        for entry in original.devices.entries {
            let device = try XCTUnwrap(entry.device as? StatefulDevice)
            let target = try XCTUnwrap(copy.devices.device(named: entry.name) as? StatefulDevice, entry.name)
            XCTAssertEqual(target.savedState(), device.savedState(), entry.name)
        }
    }

    func machine(megabytes: Int = 16) throws -> PCMachine {
        try TestMachine.make { config in
            config.memoryBytes = megabytes << 20
            config.nics = try! OptionParser().parse(["-nic", "none"]).nics
        }
    }

    /// A whole machine without those cards, RAM and the CPU included,
    /// through the registry and the byte form into a machine built alike.
    func testAWholeMachineRoundTripsThroughTheRegistry() throws {
        let original = try machine(), copy = try machine()
        XCTAssertEqual(original.devices.devicesWithoutState, [])
        // Some guest-visible state away from power-on.
        original.ports.outb(0x21, 0xB8)
        original.ports.outb(0x70, 0x0B)
        original.ports.pciWriteByte(slot: 0, offset: 0x59, 0x30)
        original.ports.write(0xCF8, value: 0x8000_0840, size: .dword)
        original.ram.base.storeBytes(of: UInt32(0xC0FF_EE00), toByteOffset: 0x7C00, as: UInt32.self)
        let bytes = StateRecordCodec.encode(try original.devices.save())
        try copy.devices.load(try StateRecordCodec.decode(bytes))
        try assertEveryDeviceAlike(original, copy)
        for port: UInt16 in [0x21, 0x70] { XCTAssertEqual(copy.ports.inb(port), original.ports.inb(port)) }
        XCTAssertEqual(copy.ports.pciRead(slot: 0, offset: 0x58), original.ports.pciRead(slot: 0, offset: 0x58))
        XCTAssertEqual(copy.ram.base.load(fromByteOffset: 0x7C00, as: UInt32.self), 0xC0FF_EE00)
    }

    /// A device registered after RAM refuses its part once RAM has loaded:
    /// RAM gets back what it held (the registry keeps a copy, since RAM
    /// lends its pages to a saved state), and so does every other device.
    func testARefusalAfterRAMLoadedPutsRAMBack() throws {
        let original = try machine(), target = try machine()
        original.ram.base.storeBytes(of: UInt32(0x1111_1111), toByteOffset: 0x7C00, as: UInt32.self)
        target.ram.base.storeBytes(of: UInt32(0x2222_2222), toByteOffset: 0x7C00, as: UInt32.self)
        target.ram.base.storeBytes(of: UInt32(0x3333_3333), toByteOffset: 0x20_0000, as: UInt32.self)
        target.ports.outb(0x21, 0x5A)
        var saved = try original.devices.save().materialized()
        let names = original.devices.entries.map(\.name)
        let ramPlace = try XCTUnwrap(names.firstIndex(of: "ram"))
        let last = try XCTUnwrap(names.last)
        XCTAssertLessThan(ramPlace, names.count - 1, "RAM loads before the last device")
        saved.put(last, StateRecord(name: "damaged", version: 0))
        XCTAssertThrowsError(try target.devices.load(saved))
        XCTAssertEqual(target.ram.base.load(fromByteOffset: 0x7C00, as: UInt32.self), 0x2222_2222)
        XCTAssertEqual(target.ram.base.load(fromByteOffset: 0x20_0000, as: UInt32.self), 0x3333_3333)
        XCTAssertEqual(target.ports.inb(0x21), 0x5A)
    }

    /// Another RAM size is another configuration: refused, and every device
    /// keeps the state it had.
    func testAMachineConfiguredOtherwiseRefusesTheStateAndChangesNothing() throws {
        let original = try machine(megabytes: 16), other = try machine(megabytes: 32)
        original.ports.outb(0x21, 0xB8)
        other.ports.outb(0x21, 0x5A)
        let saved = try original.devices.save()
        let before = try other.devices.save().materialized()
        XCTAssertThrowsError(try other.devices.load(saved)) {
            guard case .configurationMismatch(record: "ram", reason: _)? = $0 as? StateRecordError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try other.devices.save(), before)
        XCTAssertEqual(other.ports.inb(0x21), 0x5A)
    }
}

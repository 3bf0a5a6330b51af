import Lifecycle
import Memory
import XCTest
@testable import Devices

/// A card whose whole state is its configuration space, for the bus's tests.
final class ConfigOnlyTestFunction: PCIDevice, PCIFunctionState {
    static let functionStateVersion: UInt32 = 1

    init() {
        super.init(name: "test-card", vendorID: 0x10EC, deviceID: 0x8029, revision: 0, classCode: 0x02_00_00, interruptPin: 1)
        defineBAR(0, size: 0x20, kind: .io)
        defineBAR(1, size: 0x1000, kind: .memory32(prefetchable: false))
    }

    func saveFunction(into record: inout StateRecord) { saveConfigSpace(into: &record) }

    func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        let saved = try checkedConfigSpace(record)
        return { [unowned self] in apply(saved) }
    }
}

/// PCI bus 0 with the i440FX, PIIX3, PIIX4 PM, the standard VGA's function
/// and a card, programmed as SeaBIOS and Linux leave them, saved and loaded
/// into a fresh bus: BARs, the PM block and shadow areas are mapped where the
/// saved configuration says, and interrupts go on alike.
final class PCIStateTests: XCTestCase {
    final class Rig {
        let harness = PortHarness()
        let pci = PCIBus()
        let hostBridge: I440FX
        let piix3: PIIX3
        let pm: PIIX4PM
        let vga = StandardVGAFunction(romImage: [0x55, 0xAA, 0x04])
        let card = ConfigOnlyTestFunction()
        let sci = LineProbe()
        final class Log { var entries: [String] = [] }
        /// Everything the machine is told, in order.
        let log = Log()
        var events: [String] {
            get { log.entries }
            set { log.entries = newValue }
        }

        init() {
            hostBridge = I440FX()
            piix3 = PIIX3(setISAIRQ: { [log] irq, level in log.entries.append("irq \(irq) \(level)") })
            pm = PIIX4PM(clock: harness.clock, scheduler: harness.scheduler, sci: sci.line, powerOff: {})
            hostBridge.pamChanged = { [unowned self] area, mode in events.append("pam \(area.start) \(mode)") }
            pm.pmIOMoved = { [unowned self] old, new in
                if let old { harness.bus.detach(base: old, count: PIIX4PM.pmIOSize) }
                if let new { try! harness.bus.attach(pm.pmRegisters, name: "pm", base: new, count: PIIX4PM.pmIOSize) }
                events.append("pm \(String(describing: old)) \(String(describing: new))")
            }
            for device in [vga, card] as [PCIDevice] {
                device.barMoved = { [unowned self] device, bar, _, old, new in
                    events.append("\(device.name) bar\(bar) \(String(describing: old)) \(String(describing: new))")
                }
            }
            vga.romMoved = { [unowned self] old, new in events.append("rom \(String(describing: old)) \(String(describing: new))") }
            try! pci.attach(to: harness.bus)
            try! harness.bus.attach(pm.apmPorts, name: "apm", base: PIIX4PM.apmPort, count: PIIX4PM.apmPortCount)
            pci.interruptRouter = piix3
            try! pci.plug(hostBridge, slot: 0)
            try! pci.plug(piix3, slot: 1)
            try! pci.plug(pm, slot: 1, function: 3)
            try! pci.plug(vga, slot: 2)
            try! pci.plug(card, slot: 3)
        }

        /// Every function's configuration space as the guest reads it, then the address register.
        var configSpaces: [UInt32] {
            let address = harness.inl(0xCF8)
            defer { harness.outl(0xCF8, address) }
            return [(0, 0), (1, 0), (1, 3), (2, 0), (3, 0)].flatMap { slot, function in
                stride(from: 0, to: 256, by: 4).map { harness.pciReadl(slot: slot, function: function, $0) }
            } + [address]
        }
    }

    func programLikeSeaBIOSAndLinux(_ rig: Rig) {
        let h = rig.harness
        h.pciWriteb(slot: 0, 0x59, 0x30)  // the BIOS area in RAM
        h.pciWriteb(slot: 0, 0x5A, 0x13)  // 0xC0000 RAM, 0xC4000 read-only RAM
        h.pciWriteb(slot: 0, 0x72, 0x0A)
        h.pciWriteb(slot: 0, 0x72, 0x1A)  // SMRAM locked
        for (offset, irq) in [(0x60, 10), (0x61, 10), (0x62, 11), (0x63, 11)] { h.pciWriteb(slot: 1, offset, UInt8(irq)) }
        h.pciWritel(slot: 1, function: 3, 0x40, 0x601)
        h.pciWriteb(slot: 1, function: 3, 0x80, 0x01)
        h.pciWritel(slot: 2, 0x10, 0xFD00_0000)
        h.pciWritel(slot: 2, 0x18, 0xFEBF_0000)
        h.pciWritel(slot: 2, 0x30, 0xFEBE_0001)
        h.pciWritew(slot: 2, 0x04, 0x0003)
        h.pciWritel(slot: 3, 0x10, 0xC001)
        h.pciWritel(slot: 3, 0x14, 0xFEB0_0000)
        h.pciWritew(slot: 3, 0x04, 0x0007)
        h.pciWriteb(slot: 3, 0x3C, 11)
        rig.card.setINTx(true)  // PIRQC: IRQ 11
        h.out(0xB2, 0xF1)  // ACPI on
        h.outw(0x602, 0x0001)  // the PM timer's SCI
        h.run(until: 1_000_000_000)
        h.outl(0xCF8, 0x8000_1840)  // left pointing at 03.0, offset 0x40
    }

    func testRoundTripMapsWhatTheConfigurationSaysAndGoesOnAlike() throws {
        let rig = Rig()
        programLikeSeaBIOSAndLinux(rig)
        let savedClock = rig.harness.clock.savedState()
        let saved = try StateRecordCodec.decode(StateRecordCodec.encode(rig.pci.savedState()))
        XCTAssertEqual(rig.pci.partsWithoutState, [])

        let copy = Rig()
        try copy.harness.clock.loadState(savedClock)
        try copy.pci.loadState(saved)
        XCTAssertEqual(copy.pci.savedState(), rig.pci.savedState())
        XCTAssertEqual(copy.configSpaces, rig.configSpaces)
        for expected in ["vga bar0 nil Optional(4244635648)", "vga bar2 nil Optional(4273930240)", "rom nil Optional(4273864704)",
                         "test-card bar0 nil Optional(49152)", "test-card bar1 nil Optional(4272947200)", "pm nil Optional(1536)",
                         "pam 983040 ram", "pam 786432 ram", "pam 802816 readOnlyRAM", "irq 11 true"] {
            XCTAssertTrue(copy.events.contains(expected), "\(expected) in \(copy.events)")
        }
        XCTAssertEqual(copy.hostBridge.smramControl, 0x1A)
        XCTAssertEqual(copy.harness.inl(0x608), rig.harness.inl(0x608), "the PM timer")
        XCTAssertEqual(copy.harness.inw(0x600), rig.harness.inw(0x600), "PM1 status")
        XCTAssertEqual(copy.sci.level, rig.sci.level)

        // TMR_STS's next change raises the SCI at the same time in both.
        rig.events = []
        copy.events = []
        for target in [rig, copy] {
            target.harness.outw(0x600, 0x0001)
            target.harness.run(until: 9_000_000_000)
            target.card.setINTx(false)
        }
        XCTAssertEqual(copy.sci.levels.suffix(3), rig.sci.levels.suffix(3))
        XCTAssertTrue(rig.sci.level)
        XCTAssertEqual(copy.events, rig.events)
        XCTAssertEqual(copy.events.last, "irq 11 false")
        XCTAssertEqual(copy.configSpaces, rig.configSpaces)
    }

    func testADamagedRecordIsRefusedAndChangesNothing() throws {
        let rig = Rig()
        programLikeSeaBIOSAndLinux(rig)
        let saved = rig.pci.savedState()
        let target = Rig()
        target.harness.pciWritel(slot: 3, 0x10, 0xD001)
        target.harness.pciWritew(slot: 3, 0x04, 0x0001)
        target.events = []
        let before = target.pci.savedState(), spaces = target.configSpaces

        func damaged(_ place: String, _ change: (inout StateRecord) -> Void) -> StateRecord {
            var bus = saved
            var function = try! saved.record(place)
            change(&function)
            bus.put(place, function)
            return bus
        }
        let otherVendor = damaged("03.0") { record in
            var config = try! record.bytes("config")
            config[0] = 0x86
            record.put("config", config)
        }
        XCTAssertThrowsError(try target.pci.loadState(otherVendor)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "test-card", field: "config"))
        }
        let ioBARAsMemory = damaged("03.0") { record in
            var config = try! record.bytes("config")
            config[0x10] = 0x00
            record.put("config", config)
        }
        XCTAssertThrowsError(try target.pci.loadState(ioBARAsMemory))
        let reservedControl = damaged("01.3") { $0.put("control", UInt16(0x8000)) }
        XCTAssertThrowsError(try target.pci.loadState(reservedControl)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "piix4-pm", field: "control"))
        }
        let unlockedSegment = damaged("00.0") { record in
            var config = try! record.bytes("config")
            config[0x72] = 0x1C
            record.put("config", config)
        }
        XCTAssertThrowsError(try target.pci.loadState(unlockedSegment))
        var extra = saved
        extra.put("05.0", try saved.record("03.0"))
        XCTAssertThrowsError(try target.pci.loadState(extra)) {
            XCTAssertEqual($0 as? StateRecordError, .wrongRecord(expected: "a PCI function of this machine", found: "05.0"))
        }
        XCTAssertEqual(target.pci.savedState(), before)
        XCTAssertEqual(target.configSpaces, spaces)
        XCTAssertEqual(target.events, [], "no BAR, PAM or PM block moved")
    }

    func testABusWithAFunctionThatCannotBeSavedSaysSo() throws {
        let rig = Rig()
        try rig.pci.plug(TestPCIDevice(), slot: 5)
        XCTAssertEqual(rig.pci.partsWithoutState, ["test-nic"])
        let registry = DeviceRegistry()
        registry.register(rig.pci, as: "pci-bus")
        XCTAssertEqual(registry.devicesWithoutState, ["pci-bus/test-nic"])
        XCTAssertThrowsError(try registry.save())
    }
}

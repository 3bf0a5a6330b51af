import XCTest
@testable import Devices

/// A PCI function with an I/O BAR and a memory BAR, like a simple NIC.
final class TestPCIDevice: PCIDevice {
    init(pin: UInt8 = 1) {
        super.init(name: "test-nic", vendorID: 0x10EC, deviceID: 0x8139, revision: 0x20, classCode: 0x02_00_00,
                   interruptPin: pin)
        defineBAR(0, size: 0x20, kind: .io)
        defineBAR(1, size: 0x1000, kind: .memory32(prefetchable: false))
    }
}

final class PCIBusTests: XCTestCase {
    var harness: PortHarness!
    var pci: PCIBus!
    var piix3: PIIX3!
    var nic: TestPCIDevice!
    var moves: [(bar: Int, old: UInt32?, new: UInt32?)] = []
    var isaLevels: [(irq: Int, level: Bool)] = []
    var resets = 0

    override func setUp() {
        harness = PortHarness()
        moves = []
        isaLevels = []
        resets = 0
        pci = PCIBus()
        try! pci.attach(to: harness.bus)
        try! harness.bus.attach(ResetControlRegister { [unowned self] in self.resets += 1 },
                                name: "rcr", base: ResetControlRegister.port, count: 1)
        piix3 = PIIX3(setISAIRQ: { [unowned self] in self.isaLevels.append(($0, $1)) })
        pci.interruptRouter = piix3
        nic = TestPCIDevice()
        nic.barMoved = { [unowned self] _, bar, _, old, new in self.moves.append((bar, old, new)) }
        try! pci.plug(I440FX(), slot: 0)
        try! pci.plug(piix3, slot: 1)
        try! pci.plug(nic, slot: 3)
    }

    func testScanFindsFunctionsAndAllOnesElsewhere() {
        // SeaBIOS's pci_probe_devices: vendor/device dword of each function.
        XCTAssertEqual(harness.pciReadl(slot: 0, 0x00), 0x1237_8086)
        XCTAssertEqual(harness.pciReadl(slot: 1, 0x00), 0x7000_8086)
        XCTAssertEqual(harness.pciReadl(slot: 3, 0x00), 0x8139_10EC)
        XCTAssertEqual(harness.pciReadl(slot: 2, 0x00), 0xFFFF_FFFF)
        XCTAssertEqual(harness.pciReadl(slot: 1, function: 1, 0x00), 0xFFFF_FFFF)
        XCTAssertEqual(harness.pciReadb(slot: 1, 0x0E), 0x80, "the PIIX3 is multi-function")
        XCTAssertEqual(harness.pciReadb(slot: 0, 0x0E), 0x00)
        XCTAssertEqual(harness.pciReadw(slot: 1, 0x0A), 0x0601, "ISA bridge class")
        XCTAssertEqual(harness.pciReadb(slot: 3, 0x0B), 0x02)
        harness.outl(0xCF8, 0x8001_0000)          // bus 1
        XCTAssertEqual(harness.inl(0xCFC), 0xFFFF_FFFF)
        harness.outl(0xCF8, 0x0000_0000)          // enable bit clear
        XCTAssertEqual(harness.inl(0xCFC), 0xFFFF_FFFF)
    }

    func testAddressRegisterIsDwordOnlyAndLeaves0xCF9ToReset() {
        // Linux pci_check_type1.
        harness.out(0xCFB, 0x01)
        let saved = harness.inl(0xCF8)
        harness.outl(0xCF8, 0x8000_0000)
        XCTAssertEqual(harness.inl(0xCF8), 0x8000_0000)
        harness.outl(0xCF8, saved)
        harness.outl(0xCF8, 0xFFFF_FFFF)
        XCTAssertEqual(harness.inl(0xCF8), 0x80FF_FFFC, "reserved bits read 0")
        harness.out(0xCF8, 0x00)
        XCTAssertEqual(harness.inl(0xCF8), 0x80FF_FFFC, "a byte write does not touch it")
        harness.out(0xCF9, 0x06)
        XCTAssertEqual(resets, 1, "0xCF9 is the reset control register")
    }

    func testReadOnlyFieldsAndStatusWriteOneToClear() {
        harness.pciWritel(slot: 3, 0x00, 0x1234_5678)
        XCTAssertEqual(harness.pciReadl(slot: 3, 0x00), 0x8139_10EC)
        harness.pciWriteb(slot: 3, 0x3D, 4)
        XCTAssertEqual(harness.pciReadb(slot: 3, 0x3D), 1, "interrupt pin is read-only")
        harness.pciWriteb(slot: 3, 0x3C, 11)
        XCTAssertEqual(harness.pciReadb(slot: 3, 0x3C), 11)
        nic.setConfig(0x06, word: 0x2000)           // received master abort
        harness.pciWritew(slot: 3, 0x06, 0x2000)
        XCTAssertEqual(harness.pciReadw(slot: 3, 0x06), 0)
    }

    func testBARSizingAndMappingLikeSeaBIOS() {
        // pci_bios_get_bar: save, write all ones, read the mask, restore.
        let saved = harness.pciReadl(slot: 3, 0x10)
        XCTAssertEqual(saved, 0x1)
        harness.pciWritel(slot: 3, 0x10, 0xFFFF_FFFF)
        XCTAssertEqual(harness.pciReadl(slot: 3, 0x10), 0xFFFF_FFE1, "32 I/O ports")
        harness.pciWritel(slot: 3, 0x10, saved)
        harness.pciWritel(slot: 3, 0x14, 0xFFFF_FFFF)
        XCTAssertEqual(harness.pciReadl(slot: 3, 0x14), 0xFFFF_F000, "4 KiB of memory")
        XCTAssertTrue(moves.isEmpty, "nothing decodes with the command register clear")
        // pci_bios_map_devices, then the command register.
        harness.pciWritel(slot: 3, 0x10, 0xC000)
        harness.pciWritel(slot: 3, 0x14, 0xFEBF_1000)
        XCTAssertTrue(moves.isEmpty)
        harness.pciWritew(slot: 3, 0x04, 0x0003)
        XCTAssertEqual(moves.map(\.bar), [0, 1])
        XCTAssertEqual(moves[0].new, 0xC000)
        XCTAssertEqual(moves[1].new, 0xFEBF_1000)
        XCTAssertEqual(nic.mappedAddress(ofBAR: 0), 0xC000)
        // Linux sizing with decoding on: the BAR leaves and comes back.
        harness.pciWritel(slot: 3, 0x10, 0xFFFF_FFFF)
        XCTAssertEqual(moves.last?.old, 0xC000)
        XCTAssertNil(moves.last?.new)
        harness.pciWritel(slot: 3, 0x10, 0xC021)
        XCTAssertEqual(moves.last?.new, 0xC020, "the low bits are not address")
        harness.pciWritew(slot: 3, 0x04, 0x0002)
        XCTAssertEqual(moves.last?.bar, 0)
        XCTAssertNil(moves.last?.new, "I/O decoding off")
        XCTAssertEqual(nic.mappedAddress(ofBAR: 1), 0xFEBF_1000)
    }

    func testINTxGoesThroughPIRQRouting() {
        // Slot 3, INTA: PIRQ (3 - 1 + 0) mod 4 = C.
        XCTAssertEqual(PIIX3.pirq(slot: 3, pin: 1), 2)
        nic.setINTx(true)
        XCTAssertTrue(isaLevels.isEmpty, "PIRQC is not routed yet")
        var routes: [(Int, Int?)] = []
        piix3.routingChanged = { routes.append(($0, $1)) }
        harness.pciWriteb(slot: 1, 0x62, 11)          // SeaBIOS: PIRQC -> IRQ 11
        XCTAssertEqual(routes.count, 1)
        XCTAssertEqual(routes.first?.0, 2)
        XCTAssertEqual(routes.first?.1, 11)
        XCTAssertEqual(isaLevels.map(\.irq), [11])
        XCTAssertEqual(isaLevels.map(\.level), [true])
        XCTAssertEqual(piix3.routedIRQ(slot: 3, pin: 1), 11)
        harness.pciWritew(slot: 3, 0x04, 0x0400)      // interrupt disable
        XCTAssertEqual(isaLevels.last?.level, false)
        harness.pciWritew(slot: 3, 0x04, 0x0000)
        XCTAssertEqual(isaLevels.last?.level, true)
        nic.setINTx(false)
        XCTAssertEqual(isaLevels.last?.level, false)
        XCTAssertEqual(isaLevels.count, 4)
    }

    func testSharedPIRQStaysHighWhileAnyAsserts() throws {
        // Slot 7 pin A: (7 - 1) mod 4 = PIRQC as well.
        let other = TestPCIDevice()
        try pci.plug(other, slot: 7)
        harness.pciWriteb(slot: 1, 0x62, 10)
        nic.setINTx(true)
        other.setINTx(true)
        nic.setINTx(false)
        XCTAssertEqual(isaLevels.map(\.level), [true], "still asserted by the other")
        other.setINTx(false)
        XCTAssertEqual(isaLevels.map(\.level), [true, false])
    }

    func testInvalidRouteIsDisabled() {
        nic.setINTx(true)
        harness.pciWriteb(slot: 1, 0x62, 2)           // IRQ 2 is the cascade
        XCTAssertNil(piix3.routedIRQ(ofPIRQ: 2))
        XCTAssertTrue(isaLevels.isEmpty)
        harness.pciWriteb(slot: 1, 0x62, 0x8B)        // disabled
        XCTAssertNil(piix3.routedIRQ(ofPIRQ: 2))
        XCTAssertEqual(harness.pciReadb(slot: 1, 0x62), 0x8B)
    }

    func testPlugRefusesTakenSlotAndResetRestoresConfig() {
        XCTAssertThrowsError(try pci.plug(TestPCIDevice(), slot: 3))
        XCTAssertThrowsError(try pci.plug(TestPCIDevice(), slot: 32))
        harness.pciWritel(slot: 3, 0x10, 0xC000)
        harness.pciWritew(slot: 3, 0x04, 0x0001)
        pci.reset()
        XCTAssertEqual(harness.pciReadl(slot: 3, 0x10), 0x1)
        XCTAssertNil(nic.mappedAddress(ofBAR: 0))
        XCTAssertEqual(moves.last?.new, nil)
        XCTAssertEqual(harness.pciReadb(slot: 1, 0x60), 0x80)
    }
}

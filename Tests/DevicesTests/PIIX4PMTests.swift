import XCTest
import Memory
@testable import Devices

final class PIIX4PMTests: XCTestCase {
    var harness: PortHarness!
    var pci: PCIBus!
    var pm: PIIX4PM!
    var sci: LineProbe!
    var powerOffs = 0
    var moves: [(UInt16?, UInt16?)] = []

    override func setUp() {
        harness = PortHarness()
        sci = LineProbe()
        powerOffs = 0
        moves = []
        pci = PCIBus()
        try! pci.attach(to: harness.bus)
        pm = PIIX4PM(clock: harness.clock, scheduler: harness.scheduler, sci: sci.line,
                     powerOff: { [unowned self] in self.powerOffs += 1 })
        // What the machine does: follow PMBASE with the register block.
        pm.pmIOMoved = { [unowned self] old, new in
            if let old { self.harness.bus.detach(base: old, count: PIIX4PM.pmIOSize) }
            if let new { try! self.harness.bus.attach(self.pm.pmRegisters, name: "pm", base: new, count: PIIX4PM.pmIOSize) }
            self.moves.append((old, new))
        }
        try! harness.bus.attach(pm.apmPorts, name: "apm", base: PIIX4PM.apmPort, count: PIIX4PM.apmPortCount)
        try! pci.plug(pm, slot: PIIX4PM.slot, function: PIIX4PM.function)
    }

    /// SeaBIOS piix4_pm_setup with its PORT_ACPI_PM_BASE 0x600.
    func setUpLikeSeaBIOS() {
        harness.pciWritel(slot: 1, function: 3, 0x40, 0x600 | 1)
        harness.pciWriteb(slot: 1, function: 3, 0x80, 0x01)
        harness.pciWriteb(slot: 1, function: 3, 0x3C, 9)
    }

    func testIdentityAndPMBase() {
        XCTAssertEqual(harness.pciReadl(slot: 1, function: 3, 0x00), 0x7113_8086)
        XCTAssertEqual(harness.pciReadb(slot: 1, function: 3, 0x08), 0x03)
        XCTAssertEqual(harness.pciReadl(slot: 1, function: 3, 0x40), 0x1, "I/O space indicator")
        harness.pciWritel(slot: 1, function: 3, 0x40, 0x600 | 1)
        XCTAssertTrue(moves.isEmpty, "not decoded until PMREGMISC enables it")
        harness.pciWriteb(slot: 1, function: 3, 0x80, 0x01)
        XCTAssertEqual(moves.count, 1)
        XCTAssertEqual(moves.first?.1, 0x600)
        XCTAssertEqual(pm.pmBase, 0x600)
        harness.pciWritel(slot: 1, function: 3, 0x40, 0xB03F)
        XCTAssertEqual(harness.pciReadl(slot: 1, function: 3, 0x40), 0xB001, "64-port alignment")
        XCTAssertEqual(moves.last?.0, 0x600)
        XCTAssertEqual(moves.last?.1, 0xB000)
    }

    func testACPIEnableThroughSMICommandPort() {
        setUpLikeSeaBIOS()
        XCTAssertEqual(harness.inw(0x604) & 1, 0, "not in ACPI mode")
        harness.out(0xB2, 0xF1)                        // Linux acpi_enable: FADT's ACPI_ENABLE
        XCTAssertEqual(harness.inw(0x604) & 1, 1)
        harness.out(0xB2, 0xF0)
        XCTAssertEqual(harness.inw(0x604) & 1, 0)
        XCTAssertEqual(harness.inb(0xB2), 0xF0)
    }

    func testPMTimerCountsAt3579545Hz() {
        setUpLikeSeaBIOS()
        let start = harness.inl(0x608)
        harness.advance(by: 1_000_000_000)
        let end = harness.inl(0x608)
        XCTAssertEqual((end &- start) & 0xFF_FFFF, 3_579_545)
        XCTAssertEqual(end & 0xFF00_0000, 0, "24 bits")
        XCTAssertEqual(UInt32(harness.inb(0x608)) | UInt32(harness.inb(0x609)) << 8, end & 0xFFFF)
    }

    func testTimerStatusRaisesSCIWhenEnabled() {
        setUpLikeSeaBIOS()
        harness.out(0xB2, 0xF1)
        harness.outw(0x602, 0x0001)                    // TMR_EN
        XCTAssertFalse(sci.level)
        // Bit 23 changes after 2^23 ticks: 2.3435 s.
        harness.advance(by: 2_343_000_000)
        XCTAssertFalse(sci.level)
        harness.advance(by: 1_000_000)
        XCTAssertTrue(sci.level)
        XCTAssertEqual(harness.inw(0x600) & 1, 1)
        harness.outw(0x600, 0x0001)                    // write one to clear
        XCTAssertFalse(sci.level)
        XCTAssertEqual(harness.inw(0x600) & 1, 0)
        harness.advance(by: 2_344_000_000)
        XCTAssertTrue(sci.level, "again at the next change")
    }

    func testPowerButtonNeedsEnableAndACPIMode() {
        setUpLikeSeaBIOS()
        pm.pressPowerButton()
        XCTAssertFalse(sci.level)
        XCTAssertEqual(harness.inw(0x600) & 0x100, 0x100)
        harness.outw(0x602, 0x0100)
        XCTAssertFalse(sci.level, "SCI_EN still clear")
        harness.out(0xB2, 0xF1)
        XCTAssertTrue(sci.level)
        harness.outw(0x600, 0x0100)
        XCTAssertFalse(sci.level)
    }

    func testSoftOffIsSleepTypeZero() {
        setUpLikeSeaBIOS()
        harness.out(0xB2, 0xF1)
        // Linux acpi_hw_legacy_sleep: SLP_TYP first, then SLP_EN with it.
        harness.outw(0x604, 0x0001 | 1 << 10)          // S3 type: not modelled
        harness.outw(0x604, 0x0001 | 1 << 10 | 0x2000)
        XCTAssertEqual(powerOffs, 0)
        XCTAssertEqual(harness.inw(0x604) & 0x2000, 0, "SLP_EN reads 0")
        harness.outw(0x604, 0x0001)
        harness.outw(0x604, 0x2001)
        XCTAssertEqual(powerOffs, 1)
    }

    func testSoftOffWithByteWrite() {
        setUpLikeSeaBIOS()
        harness.out(0x605, 0x20)
        XCTAssertEqual(powerOffs, 1)
    }

    func testResetStopsDecodingAndClearsRegisters() {
        setUpLikeSeaBIOS()
        harness.out(0xB2, 0xF1)
        pci.reset()
        XCTAssertNil(pm.pmBase)
        XCTAssertNil(moves.last?.1)
        XCTAssertEqual(harness.inw(0x604), 0xFFFF, "the block is gone")
        setUpLikeSeaBIOS()
        XCTAssertEqual(harness.inw(0x604), 0)
    }
}

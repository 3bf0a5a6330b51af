import XCTest
@testable import Devices

/// The I/O APIC through IOREGSEL/IOWIN the way Linux's io_apic.c programs
/// it, delivering to a real local APIC over the bus.
final class IOAPICTests: XCTestCase {
    var harness: PortHarness!
    var bus: APICBus!
    var apic: LocalAPIC!
    var ioapic: IOAPIC!

    override func setUp() {
        harness = PortHarness()
        bus = APICBus()
        apic = LocalAPIC(clock: harness.clock, scheduler: harness.scheduler)
        bus.attach(apic)
        ioapic = IOAPIC(bus: bus)
        apic.write(offset: 0xF0, value: 0x1FF, size: .dword)
    }

    func readRegister(_ index: UInt32) -> UInt32 {
        ioapic.write(offset: 0x00, value: index, size: .dword)
        return ioapic.read(offset: 0x10, size: .dword)
    }

    func writeRegister(_ index: UInt32, _ value: UInt32) {
        ioapic.write(offset: 0x00, value: index, size: .dword)
        ioapic.write(offset: 0x10, value: value, size: .dword)
    }

    /// ioapic_write_entry: the high half first, then the low half.
    func program(pin: UInt32, low: UInt32, destination: UInt8 = 0) {
        writeRegister(0x11 + 2 * pin, UInt32(destination) << 24)
        writeRegister(0x10 + 2 * pin, low)
    }

    func eoi() { apic.write(offset: 0xB0, value: 0, size: .dword) }

    func testIdentificationAndResetEntries() {
        XCTAssertEqual(readRegister(0x01), 0x0017_0011, "82093AA, 24 entries")
        writeRegister(0x00, 0x0200_0000)
        XCTAssertEqual(readRegister(0x00), 0x0200_0000)
        for pin: UInt32 in [0, 2, 23] {
            XCTAssertEqual(readRegister(0x10 + 2 * pin), 0x1_0000, "masked at reset")
        }
        XCTAssertEqual(readRegister(0x40), 0, "past the table")
    }

    func testEdgeInputDeliversOncePerRisingEdge() {
        program(pin: 2, low: 0x30)               // the PIT: edge, active high, fixed, physical 0
        ioapic.setPin(2, level: true)
        XCTAssertEqual(apic.acknowledge(), 0x30)
        eoi()
        ioapic.setPin(2, level: true)
        XCTAssertFalse(apic.interruptPending, "no new edge")
        ioapic.setPin(2, level: false)
        ioapic.setPin(2, level: true)
        XCTAssertEqual(apic.acknowledge(), 0x30)
        XCTAssertEqual(apic.read(offset: 0x180 + 0x10, size: .dword) & 1, 0, "edge: TMR clear")
    }

    func testLevelInputRemoteIRRAndEOIBroadcast() {
        program(pin: 11, low: 0x8000 | 0x41)     // a PCI INTx: level, active high
        ioapic.setPin(11, level: true)
        XCTAssertEqual(readRegister(0x10 + 22) & 0x4000, 0x4000, "remote IRR set")
        XCTAssertEqual(apic.acknowledge(), 0x41)
        XCTAssertEqual(apic.read(offset: 0x180 + 0x20, size: .dword) & 2, 2, "level: TMR set")
        // The handler did not quiet the device: the EOI brings it back.
        eoi()
        XCTAssertTrue(apic.interruptPending)
        XCTAssertEqual(apic.acknowledge(), 0x41)
        ioapic.setPin(11, level: false)
        eoi()
        XCTAssertEqual(readRegister(0x10 + 22) & 0x4000, 0, "remote IRR cleared by the EOI")
        XCTAssertFalse(apic.interruptPending)
        writeRegister(0x10 + 22, 0x4000 | 0x8000 | 0x41)
        XCTAssertEqual(readRegister(0x10 + 22) & 0x4000, 0, "remote IRR is read-only")
    }

    func testMaskedLevelInputDeliversWhenUnmasked() {
        program(pin: 9, low: 0x1_0000 | 0x8000 | 0x39)
        ioapic.setPin(9, level: true)
        XCTAssertFalse(apic.interruptPending)
        program(pin: 9, low: 0x8000 | 0x39)
        XCTAssertEqual(apic.acknowledge(), 0x39)
    }

    func testActiveLowPolarityAndLogicalDestination() {
        apic.write(offset: 0xE0, value: 0xFFFF_FFFF, size: .dword)
        apic.write(offset: 0xD0, value: 0x0100_0000, size: .dword)
        program(pin: 5, low: 0x2000 | 0x0800 | 0x8000 | 0x45, destination: 0x01)  // active low, logical, level
        XCTAssertEqual(apic.acknowledge(), 0x45, "an active-low input idling low is asserted")
        ioapic.setPin(5, level: true)
        eoi()
        XCTAssertFalse(apic.interruptPending, "driven high: inactive")
        program(pin: 6, low: 0x0800 | 0x46, destination: 0x02)
        ioapic.setPin(6, level: true)
        XCTAssertFalse(apic.interruptPending, "logical destination 2 is not this APIC")
    }

    func testNonsenseSelectorsAndPinsAreHarmless() {
        writeRegister(0xFF, 0xFFFF_FFFF)
        XCTAssertEqual(readRegister(0xFF), 0)
        ioapic.setPin(24, level: true)
        ioapic.setPin(-1, level: true)
        XCTAssertFalse(apic.interruptPending)
        XCTAssertEqual(ioapic.read(offset: 0x20, size: .dword), 0)
    }
}

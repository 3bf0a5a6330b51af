import XCTest
@testable import Devices

final class I440FXTests: XCTestCase {
    var harness: PortHarness!
    var pci: PCIBus!
    var bridge: I440FX!
    var changes: [(area: I440FX.PAMArea, mode: I440FX.PAMMode)] = []

    override func setUp() {
        harness = PortHarness()
        changes = []
        pci = PCIBus()
        try! pci.attach(to: harness.bus)
        bridge = I440FX { [unowned self] in self.changes.append(($0, $1)) }
        try! pci.plug(bridge, slot: 0)
    }

    func testAreasCoverTheShadowWindow() {
        XCTAssertEqual(I440FX.pamAreas.count, 13)
        XCTAssertEqual(I440FX.pamAreas.first, I440FX.PAMArea(start: 0xF0000, size: 0x10000))
        XCTAssertEqual(I440FX.pamAreas[1], I440FX.PAMArea(start: 0xC0000, size: 0x4000))
        XCTAssertEqual(I440FX.pamAreas.last, I440FX.PAMArea(start: 0xEC000, size: 0x4000))
        for index in 0..<13 { XCTAssertEqual(bridge.pamMode(ofArea: index), .rom) }
    }

    /// SeaBIOS make_bios_writable: two dwords from 0x58 with every PAM
    /// nibble set to 3 (PAM0's high one only), 0x58 itself kept.
    func testSeaBIOSMakesTheWindowWritable() {
        harness.pciWriteb(slot: 0, 0x58, 0x10)
        let low = harness.pciReadl(slot: 0, 0x58)
        let high = harness.pciReadl(slot: 0, 0x5C)
        XCTAssertEqual(low & 0xFF, 0x10)
        harness.pciWritel(slot: 0, 0x58, low & 0x0000_00FF | 0x3333_3000)
        harness.pciWritel(slot: 0, 0x5C, high & 0xFF00_0000 | 0x0033_3333 | 0x3300_0000)
        XCTAssertEqual(harness.pciReadb(slot: 0, 0x58), 0x10, "DRAM timing untouched")
        XCTAssertEqual(harness.pciReadb(slot: 0, 0x59), 0x30, "PAM0's low nibble is reserved")
        XCTAssertEqual(changes.count, 13)
        XCTAssertTrue(changes.allSatisfy { $0.mode == .ram })
        XCTAssertEqual(Set(changes.map(\.area.start)), Set(I440FX.pamAreas.map(\.start)))
    }

    /// SeaBIOS make_bios_readonly: byte writes of 0x11 (read-only RAM).
    func testSeaBIOSWriteProtectsItsShadow() {
        for offset in 0x5A...0x5F { harness.pciWriteb(slot: 0, offset, 0x33) }
        harness.pciWriteb(slot: 0, 0x59, 0x30)
        changes = []
        harness.pciWriteb(slot: 0, 0x59, 0x10)
        XCTAssertEqual(changes.count, 1)
        XCTAssertEqual(changes.first?.area.start, 0xF0000)
        XCTAssertEqual(changes.first?.mode, .readOnlyRAM)
        harness.pciWriteb(slot: 0, 0x5A, 0x31)      // C0000 read-only, C4000 RAM
        XCTAssertEqual(changes.count, 2)
        XCTAssertEqual(changes.last?.area.start, 0xC0000)
        XCTAssertEqual(bridge.pamMode(ofArea: 1), .readOnlyRAM)
        XCTAssertEqual(bridge.pamMode(ofArea: 2), .ram)
        harness.pciWriteb(slot: 0, 0x5F, 0x20)
        XCTAssertEqual(bridge.pamMode(ofArea: 11), .rom)
        XCTAssertEqual(bridge.pamMode(ofArea: 12), .writeOnlyRAM)
    }

    func testResetReportsAreasGoingBackToROM() {
        harness.pciWriteb(slot: 0, 0x59, 0x30)
        changes = []
        pci.reset()
        XCTAssertEqual(changes.count, 1)
        XCTAssertEqual(changes.first?.mode, .rom)
    }

    func testSMRAMLock() {
        XCTAssertEqual(harness.pciReadb(slot: 0, 0x72), 0x02)
        harness.pciWriteb(slot: 0, 0x72, 0x4A)       // SeaBIOS: open the window
        XCTAssertEqual(harness.pciReadb(slot: 0, 0x72), 0x4A)
        harness.pciWriteb(slot: 0, 0x72, 0x1A)       // close and lock
        XCTAssertEqual(harness.pciReadb(slot: 0, 0x72), 0x1A)
        harness.pciWriteb(slot: 0, 0x72, 0x4A)
        XCTAssertEqual(harness.pciReadb(slot: 0, 0x72), 0x1A, "locked: no opening, lock stays")
        pci.reset()
        XCTAssertEqual(bridge.smramControl, 0x02)
    }
}

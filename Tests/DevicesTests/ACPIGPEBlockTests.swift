import XCTest
@testable import Devices

/// The GPE0 block and the hot-plug registers at the ports SeaBIOS's ACPI
/// tables name: nothing pending, status bits cleared by writing ones,
/// enables kept, no slot added or removed, only CPU 0 present.
final class ACPIGPEBlockTests: XCTestCase {
    var harness: PortHarness!
    var block: ACPIGPEBlock!

    override func setUpWithError() throws {
        harness = PortHarness()
        block = ACPIGPEBlock()
        try harness.bus.attach(block, name: "gpe0", base: ACPIGPEBlock.base, count: ACPIGPEBlock.portCount)
        let hotplug = HotplugStatusPorts()
        try harness.bus.attach(hotplug.pci, name: "pci-hotplug", base: HotplugStatusPorts.pciBase, count: HotplugStatusPorts.pciPortCount)
        try harness.bus.attach(hotplug.cpus, name: "cpu-hotplug", base: HotplugStatusPorts.cpuBase, count: HotplugStatusPorts.cpuPortCount)
    }

    func testNoEventIsPendingAndEnablesAreKept() {
        XCTAssertEqual(harness.inw(0xAFE0), 0, "no general-purpose event pending")
        harness.outw(0xAFE2, 0x0006)
        XCTAssertEqual(harness.inw(0xAFE2), 0x0006)
        XCTAssertEqual(harness.inl(0xAFE0), 0x0006_0000)
        harness.out(0xAFE3, 0x80)
        XCTAssertEqual(harness.inw(0xAFE2), 0x8006, "a byte write sets its own half")
        harness.outw(0xAFE0, 0xFFFF)
        XCTAssertEqual(harness.inw(0xAFE0), 0, "writing ones clears status and sets nothing")
        block.reset()
        XCTAssertEqual(harness.inw(0xAFE2), 0)
    }

    func testNoSlotComesOrGoesAndOnlyCPU0IsPresent() {
        XCTAssertEqual(harness.inl(0xAE00), 0, "no slot added")
        XCTAssertEqual(harness.inl(0xAE04), 0, "no slot removed")
        harness.outl(0xAE08, 0xFFFF_FFFF)
        XCTAssertEqual(harness.inl(0xAE04), 0, "an eject request changes nothing")
        XCTAssertEqual(harness.inl(0xAE0C), 0, "no removable slot")
        XCTAssertEqual(harness.inb(0xAF00), 1)
        XCTAssertEqual(harness.inl(0xAF00), 1)
        XCTAssertEqual((1..<32).map { harness.inb(0xAF00 + UInt16($0)) }, Array(repeating: 0, count: 31))
    }
}

import Lifecycle
import Memory
import XCTest
@testable import Devices

/// fw_cfg saved halfway through SeaBIOS reading the file directory: the
/// loaded copy goes on with the same bytes, and a machine whose selected
/// item differs (another configuration) refuses the record.
final class FirmwareConfigStateTests: XCTestCase {
    final class Rig {
        let harness = PortHarness()
        let memory: AddressSpace
        let fwcfg: FirmwareConfig

        init(ramSize: UInt64 = 128 << 20) {
            let ram = try! GuestRAM(size: 0x10_0000)
            memory = AddressSpace(ram: ram)
            try! memory.map("ram", at: 0, size: 0x10_0000, kind: .ram(offset: 0))
            fwcfg = FirmwareConfig(memory: memory)
            try! fwcfg.attach(to: harness.bus)
            fwcfg.setRAMSize(ramSize)
            try! fwcfg.addFile(name: "etc/boot-fail-wait", data: [0x10, 0x27, 0, 0])
            try! fwcfg.addFile(name: "bootorder", data: Array("/pci@i0cf8/ide@1,1/drive@0/disk@0\n".utf8))
        }

        func read(_ count: Int) -> [UInt8] { (0..<count).map { _ in harness.inb(0x511) } }
    }

    func testRoundTripGoesOnReadingWhereItStopped() throws {
        let rig = Rig()
        rig.harness.outw(0x510, 0x19)  // the file directory
        _ = rig.read(4 + 64 + 10)
        let saved = try StateRecordCodec.decode(StateRecordCodec.encode(rig.fwcfg.savedState()))
        let copy = Rig()
        copy.harness.outw(0x510, 0x00)
        try copy.fwcfg.loadState(saved)
        XCTAssertEqual(copy.fwcfg.savedState(), rig.fwcfg.savedState())
        XCTAssertEqual(copy.read(100), rig.read(100))
        XCTAssertEqual(copy.read(100), rig.read(100), "past the end: zeros in both")
    }

    func testAnotherConfigurationOrADamagedOffsetIsRefused() throws {
        let rig = Rig()
        rig.harness.outw(0x510, 0x19)
        _ = rig.read(4)
        rig.harness.outw(0x510, 0x03)  // the RAM size, then two of its bytes
        _ = rig.read(2)
        let saved = rig.fwcfg.savedState()
        let other = Rig()
        try other.fwcfg.addFile(name: "etc/extra", data: [1])
        other.harness.outw(0x510, 0x19)
        _ = other.read(3)
        let before = other.fwcfg.savedState()
        var otherItem = saved
        otherItem.put("selector", UInt16(0x19))  // the directory: a file more here
        XCTAssertThrowsError(try other.fwcfg.loadState(otherItem)) {
            guard case .configurationMismatch(record: "fw-cfg", reason: _)? = $0 as? StateRecordError else { return XCTFail("\($0)") }
        }
        var negative = saved
        negative.put("offset", -1)
        XCTAssertThrowsError(try other.fwcfg.loadState(negative)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "fw-cfg", field: "offset"))
        }
        XCTAssertEqual(other.fwcfg.savedState(), before)
        XCTAssertEqual(other.read(1), [3], "still at the directory count's last byte: three files")
    }
}

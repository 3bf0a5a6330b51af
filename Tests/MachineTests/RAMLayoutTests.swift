import Devices
import Lifecycle
import Machine
import Memory
import XCTest

/// RAM above 4 GiB as QEMU's pc machine lays it out. The expected splits and
/// e820 RAM ranges are what SeaBIOS printed under qemu-system-i386 7.2 with
/// -m 3583M (all below, up to 0xDFF00000), -m 3584M (3 GiB below, 512 MiB
/// from 4 GiB), -m 4G and -m 5G (3 GiB below, 1 and 2 GiB from 4 GiB).
final class RAMLayoutTests: XCTestCase {
    func testTheSplitFollowsQEMUsPCMachine() {
        let cases: [(megabytes: UInt64, below: UInt64, above: UInt64)] = [
            (128, 128 << 20, 0),
            (3583, 3583 << 20, 0),
            (3584, 3 << 30, 512 << 20),
            (4096, 3 << 30, 1 << 30),
            (5120, 3 << 30, 2 << 30),
            (63 << 10, 3 << 30, 60 << 30),
        ]
        for (megabytes, below, above) in cases {
            let layout = RAMLayout(ramBytes: megabytes << 20)
            XCTAssertEqual(layout.belowFourGiB, below, "-m \(megabytes)M")
            XCTAssertEqual(layout.aboveFourGiB, above, "-m \(megabytes)M")
        }
        XCTAssertEqual(RAMLayout.maximumBytes, 63 << 30, "the 36-bit space less the hole")
    }

    func testE820ForSeveralSizes() {
        func ramRanges(_ megabytes: UInt64) -> [[UInt64]] {
            E820Map(ramBytes: megabytes << 20, firmwareBytes: 256 << 10).entries
                .filter { $0.type == FirmwareConfig.E820Entry.ram }.map { [$0.address, $0.address + $0.length] }
        }
        XCTAssertEqual(ramRanges(3583), [[0, 0x9FC00], [0x10_0000, 0xDFF0_0000]])
        XCTAssertEqual(ramRanges(3584), [[0, 0x9FC00], [0x10_0000, 0xC000_0000], [0x1_0000_0000, 0x1_2000_0000]])
        XCTAssertEqual(ramRanges(4096), [[0, 0x9FC00], [0x10_0000, 0xC000_0000], [0x1_0000_0000, 0x1_4000_0000]])
        XCTAssertEqual(ramRanges(5120), [[0, 0x9FC00], [0x10_0000, 0xC000_0000], [0x1_0000_0000, 0x1_8000_0000]])
        let whole = E820Map(ramBytes: 5 << 30, firmwareBytes: 256 << 10).entries.map { [$0.address, $0.length, UInt64($0.type)] }
        XCTAssertEqual(whole, [
            [0, 0x9FC00, 1],
            [0x9FC00, 0x400, 2],
            [0xF0000, 0x10000, 2],
            [0x10_0000, 0xC000_0000 - 0x10_0000, 1],
            [0xFFFC_0000, 0x40000, 2],
            [0x1_0000_0000, 0x8000_0000, 1],
        ])
    }

    /// -m 5G on the whole machine: the RAM block's tail at 4 GiB, the PCI
    /// hole below it empty of RAM, fw_cfg's RAM size and e820 to match.
    func testAFiveGigabyteMachineMapsItsTailAtFourGiB() throws {
        let machine = try TestMachine.make { $0.memoryBytes = 5 << 30 }
        let space = machine.addressSpace
        XCTAssertEqual(machine.ramLayout, RAMLayout(ramBytes: 5 << 30))
        XCTAssertEqual(space.region(at: 0xBFFF_FFFF)?.name, "ram-high")
        XCTAssertNotEqual(space.backingKind(at: 0xC000_0000), .ram, "the PCI hole")
        XCTAssertEqual(space.region(at: 0x1_0000_0000)?.name, "ram-above-4g")
        XCTAssertEqual(space.region(at: 0x1_7FFF_FFFF)?.name, "ram-above-4g")
        XCTAssertNil(space.region(at: 0x1_8000_0000))
        XCTAssertEqual(space.hostPointer(at: 0x1_0000_0000), machine.ram.base + (3 << 30))
        space.write(0x1_7FFF_FFFC, value: 0x600D_F00D, size: .dword)
        XCTAssertEqual(machine.ram.base.load(fromByteOffset: (5 << 30) - 4, as: UInt32.self), 0x600D_F00D)
        XCTAssertEqual(machine.ports.firmwareConfigItem(FirmwareConfig.Key.ramSize, count: 8),
                       (0..<8).map { UInt8(truncatingIfNeeded: UInt64(5 << 30) >> (8 * UInt64($0))) })
        XCTAssertEqual(machine.firmwareConfig.file(named: "etc/e820"), machine.e820.firmwareConfigRecords)
        XCTAssertEqual(machine.e820.entries.last?.address, 0x1_0000_0000)
    }

    /// A snapshot of a machine with RAM above 4 GiB gives its high pages back.
    func testRAMAboveFourGiBIsSavedAndLoaded() throws {
        let source = try TestMachine.make { $0.memoryBytes = 3584 << 20 }
        let target = try TestMachine.make { $0.memoryBytes = 3584 << 20 }
        source.addressSpace.write(0x1_1234_5678, value: 0xA5A5_5A5A, size: .dword)
        target.addressSpace.write(0x1_0000_0000, value: 0x1111_1111, size: .dword)
        let ram = try XCTUnwrap(source.devices.device(named: "ram") as? StatefulDevice)
        let record = try StateRecordCodec.decode(StateRecordCodec.encode(try ram.savedState()))
        try XCTUnwrap(target.devices.device(named: "ram") as? StatefulDevice).loadState(record)
        XCTAssertEqual(target.addressSpace.read(0x1_1234_5678, size: .dword), 0xA5A5_5A5A)
        XCTAssertEqual(target.addressSpace.read(0x1_0000_0000, size: .dword), 0, "a page the source never wrote")
    }
}

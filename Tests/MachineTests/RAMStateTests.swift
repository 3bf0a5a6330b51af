import Lifecycle
import Machine
import Memory
import XCTest

/// Guest RAM's saved state, through the machine's registry entry "ram": only
/// pages holding something are written, a load gives back every byte, and a
/// state from a machine with another RAM size, or a damaged one, is refused
/// with RAM untouched.
final class RAMStateTests: XCTestCase {
    func machine(megabytes: Int) throws -> PCMachine {
        try TestMachine.make { $0.memoryBytes = megabytes << 20 }
    }

    func ramDevice(_ pc: PCMachine) throws -> StatefulDevice {
        try XCTUnwrap(pc.devices.device(named: "ram") as? StatefulDevice)
    }

    /// A few pages with a pattern, the rest zero.
    func fill(_ ram: GuestRAM, seed: UInt8) {
        for page in [0, 1, 7, 300, ram.size / GuestRAM.pageSize - 1] {
            for offset in stride(from: 0, to: GuestRAM.pageSize, by: 97) {
                ram.base.storeBytes(of: seed &+ UInt8(truncatingIfNeeded: page &* 31 &+ offset), toByteOffset: page * GuestRAM.pageSize + offset, as: UInt8.self)
            }
        }
    }

    func bytes(_ ram: GuestRAM) -> [UInt8] { Array(UnsafeRawBufferPointer(start: ram.base, count: ram.size)) }

    func testEveryByteComesBackAndOnlyUsedPagesAreWritten() throws {
        let source = try machine(megabytes: 16), target = try machine(megabytes: 16)
        source.ram.base.initializeMemory(as: UInt8.self, repeating: 0, count: source.ram.size)
        fill(source.ram, seed: 1)
        fill(target.ram, seed: 200)  // other contents, to be replaced
        target.ram.base.storeBytes(of: 0xFF, toByteOffset: 5 * GuestRAM.pageSize, as: UInt8.self)
        let record = try ramDevice(source).savedState()
        XCTAssertEqual(try record.bytes("pageNumbers"), [0, 1, 7, 300, 4095].flatMap { withUnsafeBytes(of: UInt32($0).littleEndian, Array.init) },
                       "five pages hold something")
        XCTAssertEqual(try record.bytes("pageData").count, 5 * GuestRAM.pageSize)
        try ramDevice(target).loadState(try StateRecordCodec.decode(StateRecordCodec.encode(record)))
        XCTAssertTrue(bytes(target.ram) == bytes(source.ram))
    }

    func testAnotherRAMSizeIsRefusedWithRAMUntouched() throws {
        let source = try machine(megabytes: 16), target = try machine(megabytes: 32)
        fill(source.ram, seed: 1)
        fill(target.ram, seed: 9)
        let before = bytes(target.ram)
        XCTAssertThrowsError(try ramDevice(target).loadState(try ramDevice(source).savedState())) { error in
            XCTAssertEqual(error as? StateRecordError, .configurationMismatch(
                record: "ram", reason: "saved with 16 MiB of RAM, this machine has 32 MiB"))
        }
        XCTAssertTrue(bytes(target.ram) == before)
    }

    func testDamagedPagesAreRefusedWithRAMUntouched() throws {
        let pc = try machine(megabytes: 16)
        fill(pc.ram, seed: 3)
        let good = try ramDevice(pc).savedState().materialized()
        let numbers = try good.bytes("pageNumbers"), data = try good.bytes("pageData")
        fill(pc.ram, seed: 77)
        let before = bytes(pc.ram)
        let page = [UInt8](repeating: 1, count: GuestRAM.pageSize)
        var cut = good
        cut.put("pageData", Array(data.dropLast(1)))
        var ragged = good
        ragged.put("pageNumbers", Array(numbers.dropLast(1)))
        var beyond = good
        beyond.put("pageNumbers", [0x00, 0x10, 0x00, 0x00])  // page 4096 of 4096
        beyond.put("pageData", page)
        var twice = good
        twice.put("pageNumbers", [7, 0, 0, 0, 7, 0, 0, 0])
        twice.put("pageData", page + page)
        for (bad, field) in [(cut, "pageData"), (ragged, "pageNumbers"), (beyond, "pageNumbers"), (twice, "pageNumbers")] {
            XCTAssertThrowsError(try ramDevice(pc).loadState(bad)) { error in
                XCTAssertEqual(error as? StateRecordError, .outOfRange(record: "ram", field: field))
            }
        }
        XCTAssertTrue(bytes(pc.ram) == before)
    }
}

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
        XCTAssertEqual(try record.bytes("pages").count, 5 * (4 + GuestRAM.pageSize), "five pages hold something")
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
        let good = try ramDevice(pc).savedState()
        let pages = try good.bytes("pages")
        fill(pc.ram, seed: 77)
        let before = bytes(pc.ram)
        var cut = good
        cut.put("pages", Array(pages.dropLast(1)))
        var beyond = good
        beyond.put("pages", [0x00, 0x10, 0x00, 0x00] + [UInt8](repeating: 1, count: GuestRAM.pageSize))  // page 4096 of 4096
        var twice = good
        twice.put("pages", Array(pages.prefix(4 + GuestRAM.pageSize)) + Array(pages.prefix(4 + GuestRAM.pageSize)))
        for bad in [cut, beyond, twice] {
            XCTAssertThrowsError(try ramDevice(pc).loadState(bad)) { error in
                XCTAssertEqual(error as? StateRecordError, .outOfRange(record: "ram", field: "pages"))
            }
        }
        XCTAssertTrue(bytes(pc.ram) == before)
    }
}

import Memory
import XCTest

/// Device RAM with a dirty log, as the address space maps it: writes through
/// the bus mark their pages, cleaning tells the listeners which host bytes
/// went back to clean, and a region the log does not cover is refused.
final class DirtyPageLogTests: XCTestCase {
    static let base: UInt64 = 0xE000_0000
    static let bytes = 16 * 4096

    func testBusWritesMarkPagesAndCleaningIsReported() throws {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: DirtyPageLogTests.bytes, alignment: 4096)
        defer { storage.deallocate() }
        let log = DirtyPageLog(base: storage, bytes: DirtyPageLogTests.bytes)
        let space = AddressSpace(ram: try GuestRAM(size: 1 << 20))
        try space.map("fb", at: DirtyPageLogTests.base, size: UInt64(DirtyPageLogTests.bytes), kind: .deviceRAM(storage, dirtyLog: log))
        var reports: [(Int, Int)] = []
        space.addDirtyLogCleanedListener { host, count in reports.append((host - storage, count)) }

        XCTAssertTrue(log.isDirty(page: 3), "nothing has been drawn yet")
        log.cleanAll()
        XCTAssertEqual(log.dirtyCount, 0)
        XCTAssertEqual(reports.count, 1)
        XCTAssertEqual(reports.last?.0, 0)
        XCTAssertEqual(reports.last?.1, DirtyPageLogTests.bytes)
        XCTAssertTrue(space.isLoggedClean(DirtyPageLogTests.base + 0x3123))

        // A dword across pages 3 and 4 marks both.
        space.write(DirtyPageLogTests.base + 0x4FFE, value: 0xAABB_CCDD, size: .dword)
        XCTAssertTrue(log.isDirty(page: 4))
        XCTAssertTrue(log.isDirty(page: 5))
        XCTAssertFalse(log.isDirty(page: 3))
        XCTAssertEqual(storage.load(fromByteOffset: 0x4FFE, as: UInt16.self), 0xCCDD)
        XCTAssertFalse(space.isLoggedClean(DirtyPageLogTests.base + 0x5000))
        space.markWritten(DirtyPageLogTests.base + 0x9000)
        XCTAssertTrue(log.isDirty(offset: 0x9FFF, count: 1))
        XCTAssertEqual(log.dirtyCount, 3)

        // Cleaning pages 0-4 reports them; cleaning them again reports nothing.
        log.clean(offset: 0, count: 0x4001)
        XCTAssertEqual(reports.count, 2)
        XCTAssertEqual(reports.last?.0, 0)
        XCTAssertEqual(reports.last?.1, 5 * 4096)
        log.clean(offset: 0, count: 0x4001)
        XCTAssertEqual(reports.count, 2)
        XCTAssertEqual(log.dirtyCount, 2)
        // Ranges past the log are clipped, nonsense ranges ignored.
        log.clean(offset: 0x9000, count: Int.max)
        XCTAssertEqual(reports.last?.0, 0x9000)
        XCTAssertEqual(reports.last?.1, DirtyPageLogTests.bytes - 0x9000)
        XCTAssertFalse(log.isDirty(offset: -5, count: 3))
        XCTAssertFalse(log.isDirty(offset: DirtyPageLogTests.bytes, count: 10))
        log.markDirty(offset: DirtyPageLogTests.bytes - 1, count: 100)
        XCTAssertTrue(log.isDirty(page: 15))
        XCTAssertEqual(log.dirtyCount, 2)

        // RAM elsewhere is never logged.
        try space.map("ram", at: 0, size: 1 << 20, kind: .ram(offset: 0))
        XCTAssertFalse(space.isLoggedClean(0x1000))
    }

    func testARegionTheLogDoesNotCoverIsRefused() throws {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: DirtyPageLogTests.bytes, alignment: 4096)
        defer { storage.deallocate() }
        let log = DirtyPageLog(base: storage, bytes: DirtyPageLogTests.bytes)
        let space = AddressSpace(ram: try GuestRAM(size: 1 << 20))
        XCTAssertThrowsError(try space.map("fb", at: DirtyPageLogTests.base, size: UInt64(2 * DirtyPageLogTests.bytes),
                                           kind: .deviceRAM(storage, dirtyLog: log)))
        XCTAssertThrowsError(try space.map("fb", at: DirtyPageLogTests.base, size: 4096,
                                           kind: .deviceRAM(storage + 4096, dirtyLog: log)))
    }
}

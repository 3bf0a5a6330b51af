@testable import CPURuntime
import Memory
import Timing
import XCTest

/// The counters `info jit` prints follow what the translator really did:
/// blocks made, blocks a guest store threw away, and the whole-cache flushes.
final class TranslationStatisticsTests: XCTestCase {
    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))

    /// Real-mode code at 0x1000 (CS = DS = 0x100) that stores a byte beside
    /// its code, then rewrites its own first instruction once and runs it again.
    let program: [UInt8] = [
        0xB8, 0x11, 0x11,              // 0:  mov ax, 0x1111
        0xA2, 0x00, 0x01,              // 3:  mov [0x100], al    (data in the code's page)
        0x83, 0xFB, 0x01,              // 6:  cmp bx, 1
        0x74, 0x0A,                    // 9:  je 21
        0xBB, 0x01, 0x00,              // 11: mov bx, 1
        0xC6, 0x06, 0x01, 0x00, 0x22,  // 14: mov byte [1], 0x22  (the mov's immediate)
        0xEB, 0xEB,                    // 19: jmp 0
        0xEB, 0xFE,                    // 21: jmp $
    ]

    func makeCPU(codeCacheBytes: Int = X86CPU.defaultCodeCacheBytes) throws -> (X86CPU, GuestRAM, AddressSpace) {
        let ram = try GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: 1 << 20, kind: .ram(offset: 0))
        try program.withUnsafeBytes { try ram.load($0, at: 0x1000) }
        let cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: clock, codeCacheBytes: codeCacheBytes)
        cpu.loadRealModeSegment(.cs, selector: 0x100)
        cpu.loadRealModeSegment(.ds, selector: 0x100)
        cpu.state.pointee.eip = 0
        return (cpu, ram, space)
    }

    func testAStoreIntoCodeDropsItsBlocksAndAStoreBesideItDoesNot() throws {
        let (cpu, ram, _) = try makeCPU()
        XCTAssertEqual(cpu.run(until: clock.now + 10_000), .yielded)
        XCTAssertEqual(cpu.generalRegister(0) & 0xFFFF, 0x1122, "the rewritten instruction ran")
        XCTAssertEqual(ram.uncheckedPointer(at: 0x1100).load(as: UInt8.self), 0x22)
        let statistics = cpu.translationStatistics
        XCTAssertGreaterThanOrEqual(statistics.blocksTranslated, 3)
        XCTAssertGreaterThan(statistics.guestInstructionsTranslated, statistics.blocksTranslated)
        XCTAssertGreaterThan(statistics.hostBytesGenerated, 0)
        // The rewrite dropped the page's two blocks (to the je, and the one
        // storing); the data store beside the code dropped nothing.
        XCTAssertEqual(statistics.blocksInvalidated, 2)
        XCTAssertEqual(statistics.fullCacheFlushes, 0)
        XCTAssertEqual(statistics.codeCacheCapacity, X86CPU.defaultCodeCacheBytes)
        // The blocks (each aligned to 16 bytes) after the exits they share.
        let shared = try XCTUnwrap(cpu.jit).cache.sharedBytes
        XCTAssertGreaterThan(shared, 0)
        XCTAssertLessThanOrEqual(statistics.codeCacheUsed, shared + statistics.hostBytesGenerated + 16 * statistics.blocksTranslated)
        XCTAssertTrue(statistics.report.contains("TB invalidate count 2"), statistics.report)
    }

    func testACacheTooSmallForTheCodeIsFlushedWholeAndTheGuestRunsOn() throws {
        // 200 jumps to the next instruction, each a block of its own, then
        // mov ax, 0x3333 and jmp $: far more code than one page of cache holds.
        let (cpu, ram, _) = try makeCPU(codeCacheBytes: 4096)
        let jumps = (0..<400).map { $0 % 2 == 0 ? UInt8(0xEB) : 0 }
        let chain: [UInt8] = jumps + [0xB8, 0x33, 0x33, 0xEB, 0xFE]
        try chain.withUnsafeBytes { try ram.load($0, at: 0x2000) }
        cpu.loadRealModeSegment(.cs, selector: 0x200)
        XCTAssertEqual(cpu.run(until: clock.now + 10_000), .yielded)
        XCTAssertEqual(cpu.generalRegister(0) & 0xFFFF, 0x3333, cpu.stopReason ?? "")
        let statistics = cpu.translationStatistics
        XCTAssertGreaterThan(statistics.fullCacheFlushes, 0)
        XCTAssertGreaterThanOrEqual(statistics.blocksTranslated, 201)
        XCTAssertEqual(statistics.codeCacheCapacity, 4096)
        XCTAssertLessThan(statistics.liveBlocks, 201, "the flushes emptied the table of blocks too")
    }

    func testAChangedMemoryMapDropsEveryTranslation() throws {
        let (cpu, _, space) = try makeCPU()
        XCTAssertEqual(cpu.run(until: clock.now + 10_000), .yielded)
        let before = cpu.translationStatistics
        XCTAssertGreaterThan(before.liveBlocks, 0)
        let page = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { page.deallocate() }
        let region = try space.map("rom", at: 0x10_0000, size: 4096, kind: .rom(page))
        space.unmap(region)
        let after = cpu.translationStatistics
        XCTAssertEqual(after.memoryMapFlushes, before.memoryMapFlushes + 2)
        XCTAssertEqual(after.liveBlocks, 0)
    }
}

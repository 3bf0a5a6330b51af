import CPURuntime
import Memory
import Timing
import X86State
import XCTest

/// A region replaced under the CPU (a PAM switch, a BAR move) is seen at once:
/// the address space tells the CPU, which drops its TLB entries and the code
/// it translated from the old region, with no flush by the code that remapped.
final class MemoryMapChangeTests: XCTestCase {
    func rom(_ bytes: [UInt8]) -> UnsafeMutableRawPointer {
        let page = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        page.initializeMemory(as: UInt8.self, repeating: 0xF4, count: 4096)
        for (index, byte) in bytes.enumerated() { page.storeBytes(of: byte, toByteOffset: index, as: UInt8.self) }
        return page
    }

    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))

    /// Runs from segment:0 into the code's closing jmp $ for a while.
    func runAt(_ cpu: X86CPU, segment: UInt16) {
        cpu.loadRealModeSegment(.cs, selector: segment)
        cpu.loadRealModeSegment(.ds, selector: 0x9000)
        cpu.state.pointee.eip = 0
        XCTAssertEqual(cpu.run(until: clock.now + 10_000), .yielded)
    }

    func testRemappedCodeAndDataAreSeenWithoutAFlushByTheCaller() throws {
        let ram = try GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: 0x8_0000, kind: .ram(offset: 0))
        let cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: clock)
        // Code at 0x80000: mov ax, imm16; mov bx, [0] (DS = 0x9000, the data page); jmp $.
        let firstCode = rom([0xB8, 0x11, 0x11, 0x8B, 0x1E, 0x00, 0x00, 0xEB, 0xFE])
        let secondCode = rom([0xB8, 0x22, 0x22, 0x8B, 0x1E, 0x00, 0x00, 0xEB, 0xFE])
        let firstData = rom([0xAA, 0x0A]), secondData = rom([0xBB, 0x0B])
        defer { for page in [firstCode, secondCode, firstData, secondData] { page.deallocate() } }

        let code = try space.map("code", at: 0x8_0000, size: 4096, kind: .rom(firstCode))
        let data = try space.map("data", at: 0x9_0000, size: 4096, kind: .rom(firstData))
        runAt(cpu, segment: 0x8000)
        XCTAssertEqual(cpu.generalRegister(0) & 0xFFFF, 0x1111)
        XCTAssertEqual(cpu.generalRegister(3) & 0xFFFF, 0x0AAA)

        space.unmap(code)
        space.unmap(data)
        try space.map("code", at: 0x8_0000, size: 4096, kind: .rom(secondCode))
        try space.map("data", at: 0x9_0000, size: 4096, kind: .rom(secondData))
        runAt(cpu, segment: 0x8000)
        XCTAssertEqual(cpu.generalRegister(0) & 0xFFFF, 0x2222, "the block translated from the old region is gone")
        XCTAssertEqual(cpu.generalRegister(3) & 0xFFFF, 0x0BBB, "the TLB entry for the old region is gone")
    }
}

import CPURuntime
import Memory
import Timing
import X86State
import XCTest

/// The `-d cpu` dump: QEMU's layout, so that the two logs compare line by line.
final class StateDumpTests: XCTestCase {
    func testDumpShowsRegistersFlagsAndSegmentsInQEMULayout() throws {
        let ram = try GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        let cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
        cpu.setGeneralRegister(Register.eax.rawValue, 0x1234_5678)
        cpu.setGeneralRegister(Register.esp.rawValue, 0x7B2E)
        cpu.loadRealModeSegment(.cs, selector: 0x07C0)
        cpu.state.pointee.eip = 0x8A49
        cpu.flags = EFLAGS.reserved1 | EFLAGS.carry | EFLAGS.zero | EFLAGS.interrupt
        let lines = cpu.stateDump().split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("EAX=12345678 EBX=00000000 ECX=00000000 EDX="), lines[0])
        XCTAssertTrue(lines[1].hasSuffix("ESP=00007b2e"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("EIP=00008a49 EFL=00000243 [---Z--C] CPL=0"), lines[2])
        XCTAssertEqual(lines[4], "CS =07c0 00007c00 0000ffff 00009b00")
        XCTAssertTrue(lines.contains { $0.hasPrefix("CR0=") })
    }
}

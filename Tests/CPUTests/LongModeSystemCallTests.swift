@testable import CPURuntime
import Memory
import Timing
import X86State
import XCTest

/// SYSCALL, SYSRET, SWAPGS and RDTSCP at the runtime level. Expected values
/// follow the SDM's and AMD APM's pseudo-code, as Linux's entry code relies
/// on them: STAR 0x0023_0010_0000_0000 is Linux x86-64's (kernel CS 0x10,
/// SS 0x18; user CS 0x33, SS 0x2B).
final class LongModeSystemCallTests: XCTestCase {
    var cpu: X86CPU!
    let star: UInt64 = 0x0023_0010_0000_0000
    let lstar: UInt64 = 0xFFFF_FFFF_8100_0000

    override func setUp() {
        let ram = try! GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try! space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
        cpu.setControlRegisters(cr0: ControlRegister.protectionEnable | ControlRegister.paging | ControlRegister.extensionType,
                                cr4: ControlRegister.cr4PAE)
        cpu.extendedFeatureEnable = EFER.longModeEnable | EFER.longModeActive | EFER.systemCallEnable
        cpu.state.pointee.star = star
        cpu.state.pointee.lstar = lstar
        cpu.state.pointee.cstar = 0xFFFF_FFFF_8100_0100
        cpu.state.pointee.fmask = UInt64(EFLAGS.interrupt | EFLAGS.trap | EFLAGS.direction)
        // Ring 3, 64-bit code as SYSRET leaves it.
        cpu.setSegmentRegister(.cs, X86CPU.fastSystemCallSegment(selector: 0x33, code: true, long: true, privilege: 3))
        cpu.setSegmentRegister(.ss, X86CPU.fastSystemCallSegment(selector: 0x2B, code: false, long: false, privilege: 3))
    }

    func testSystemCallAndReturnRoundTrip() throws {
        cpu.flags = EFLAGS.reserved1 | EFLAGS.interrupt | EFLAGS.direction | EFLAGS.zero
        try cpu.systemCall(returnAddress: 0x0000_7FFF_DEAD_0002)
        XCTAssertEqual(cpu.state.pointee.eip, lstar)
        XCTAssertEqual(cpu.register64(1), 0x0000_7FFF_DEAD_0002, "RCX = the next RIP")
        XCTAssertEqual(cpu.register64(11), UInt64(EFLAGS.reserved1 | EFLAGS.interrupt | EFLAGS.direction | EFLAGS.zero))
        XCTAssertEqual(cpu.flags, EFLAGS.reserved1 | EFLAGS.zero, "SFMASK's bits cleared")
        XCTAssertEqual(cpu.segmentRegister(.cs).selector, 0x10)
        XCTAssertEqual(cpu.segmentRegister(.ss).selector, 0x18)
        XCTAssertEqual(cpu.currentPrivilege, 0)
        XCTAssertTrue(HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags).contains(.code64))

        cpu.setRegister64(11, cpu.register64(11) | UInt64(EFLAGS.resume | EFLAGS.virtual8086))
        try cpu.systemReturn(bytes: 8)
        XCTAssertEqual(cpu.state.pointee.eip, 0x0000_7FFF_DEAD_0002)
        XCTAssertEqual(cpu.segmentRegister(.cs).selector, 0x33)
        XCTAssertEqual(cpu.segmentRegister(.ss).selector, 0x2B)
        XCTAssertEqual(cpu.currentPrivilege, 3)
        XCTAssertEqual(cpu.flags, EFLAGS.reserved1 | EFLAGS.interrupt | EFLAGS.direction | EFLAGS.zero, "R11 without RF and VM")
        XCTAssertTrue(HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags).contains(.code64))
    }

    func testReturnToCompatibilityModeAndItsSystemCall() throws {
        cpu.setSegmentRegister(.cs, X86CPU.fastSystemCallSegment(selector: 0x10, code: true, long: true, privilege: 0))
        cpu.setSegmentRegister(.ss, X86CPU.fastSystemCallSegment(selector: 0x18, code: false, long: false, privilege: 0))
        cpu.setRegister64(1, 0xFFFF_FFFF_0804_8000)
        cpu.setRegister64(11, UInt64(EFLAGS.reserved1))
        try cpu.systemReturn(bytes: 4)
        XCTAssertEqual(cpu.state.pointee.eip, 0x0804_8000, "ECX only")
        XCTAssertEqual(cpu.segmentRegister(.cs).selector, 0x23)
        let flags = HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags)
        XCTAssertTrue(flags.contains(.longMode))
        XCTAssertFalse(flags.contains(.code64))
        XCTAssertTrue(flags.contains(.code32))
        try cpu.systemCall(returnAddress: 0x0804_8002)
        XCTAssertEqual(cpu.state.pointee.eip, 0xFFFF_FFFF_8100_0100, "CSTAR from compatibility mode")
    }

    func testChecks() {
        // SYSRET outside ring 0, to a non-canonical RIP, and either without SCE.
        XCTAssertThrowsError(try cpu.systemReturn(bytes: 8))
        cpu.setSegmentRegister(.cs, X86CPU.fastSystemCallSegment(selector: 0x10, code: true, long: true, privilege: 0))
        cpu.setSegmentRegister(.ss, X86CPU.fastSystemCallSegment(selector: 0x18, code: false, long: false, privilege: 0))
        cpu.setRegister64(1, 0x0000_8000_0000_0000)
        XCTAssertThrowsError(try cpu.systemReturn(bytes: 8))
        XCTAssertEqual(cpu.currentPrivilege, 0, "nothing changed")
        cpu.extendedFeatureEnable = EFER.longModeEnable | EFER.longModeActive
        XCTAssertThrowsError(try cpu.systemCall(returnAddress: 0)) { error in
            XCTAssertEqual((error as? SegmentFault)?.vector, 6)
        }
    }

    func testSwapGSAndRDTSCP() throws {
        cpu.setSegmentRegister(.cs, X86CPU.fastSystemCallSegment(selector: 0x10, code: true, long: true, privilege: 0))
        cpu.setSegmentRegister(.ss, X86CPU.fastSystemCallSegment(selector: 0x18, code: false, long: false, privilege: 0))
        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.gsBase, 0x0000_7F00_0000_0000))
        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.kernelGSBase, 0xFFFF_8880_0000_0000))
        try cpu.swapGS()
        XCTAssertEqual(cpu.segmentRegister(.gs).base, 0xFFFF_8880_0000_0000)
        XCTAssertEqual(cpu.readLongModeMSR(X86CPU.LongModeMSR.kernelGSBase), 0x0000_7F00_0000_0000)
        try cpu.swapGS()
        XCTAssertEqual(cpu.segmentRegister(.gs).base, 0x0000_7F00_0000_0000)

        XCTAssertTrue(try cpu.writeLongModeMSR(X86CPU.LongModeMSR.tscAux, 0x1_0000_0003))
        cpu.setRegister64(0, ~0)
        cpu.setRegister64(1, ~0)
        cpu.setRegister64(2, ~0)
        try cpu.readTimeStampCounterAndProcessor()
        XCTAssertEqual(cpu.register64(1), 3, "TSC_AUX keeps 32 bits; RCX's upper half cleared")
        XCTAssertEqual(cpu.register64(0) >> 32, 0)
        XCTAssertEqual(cpu.register64(2) >> 32, 0)
        // Outside 64-bit mode SWAPGS is #UD.
        cpu.setSegmentRegister(.cs, X86CPU.fastSystemCallSegment(selector: 0x10, code: true, long: false, privilege: 0))
        XCTAssertThrowsError(try cpu.swapGS())
    }
}

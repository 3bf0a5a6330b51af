import CPURuntime
import Lifecycle
import Memory
import Timing
import X86State
import XCTest

/// The CPU's saved state: a CPU stopped in the middle of a program, saved,
/// encoded, decoded and loaded into a fresh CPU, runs the rest of it to the
/// same registers and FPU as the one that was not stopped.
final class CPUStateTests: XCTestCase {
    /// fninit; mov ax, 1234h; mov bx, 5678h; fldpi; fld1; faddp st1, st0; mov cx, 3;
    /// loop: add ax, bx; fld st0; fmul st0, st1; dec cx; jnz loop; hlt
    static let program: [UInt8] = [0xDB, 0xE3, 0xB8, 0x34, 0x12, 0xBB, 0x78, 0x56, 0xD9, 0xEB, 0xD9, 0xE8, 0xDE, 0xC1,
                                   0xB9, 0x03, 0x00, 0x01, 0xD8, 0xD9, 0xC0, 0xD8, 0xC9, 0x49, 0x75, 0xF7, 0xF4]
    static let origin = 0x7C00

    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
    var space: AddressSpace!
    var ram: GuestRAM!

    override func setUpWithError() throws {
        ram = try GuestRAM(size: 1 << 20)
        space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        for (index, byte) in CPUStateTests.program.enumerated() {
            ram.base.storeBytes(of: byte, toByteOffset: CPUStateTests.origin + index, as: UInt8.self)
        }
    }

    func makeCPU() -> X86CPU {
        let cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: clock)
        for segment in [Segment.cs, .ds, .es, .ss] { cpu.loadRealModeSegment(segment, selector: 0) }
        cpu.instructionPointer = UInt32(CPUStateTests.origin)
        cpu.setGeneralRegister(Register.esp.rawValue, 0x7000)
        return cpu
    }

    func runToHalt(_ cpu: X86CPU) {
        for _ in 0..<1000 where !cpu.halted { cpu.step() }
        XCTAssertTrue(cpu.halted)
    }

    func saved(_ cpu: X86CPU) -> StateRecord {
        var record = StateRecord(name: X86CPU.stateName, version: X86CPU.stateVersion)
        cpu.save(into: &record)
        return record
    }

    func testAStoppedProgramGoesOnAlikeInAFreshCPU() throws {
        let original = makeCPU()
        for _ in 0..<10 { original.step() }  // into the loop, with two values on the FPU stack
        let bytes = StateRecordCodec.encode(saved(original))
        let copy = makeCPU()
        try copy.load(from: try StateRecordCodec.decode(bytes))
        XCTAssertEqual(saved(copy), saved(original), "the load took every field")

        runToHalt(original)
        runToHalt(copy)
        XCTAssertEqual(copy.generalRegister(Register.eax.rawValue) & 0xFFFF, (0x1234 + 3 * 0x5678) & 0xFFFF)
        XCTAssertEqual(saved(copy), saved(original))
        let x87 = copy.state.pointee.x87
        XCTAssertEqual(x87.top, 4, "pi + 1, then three copies pushed")
        XCTAssertEqual(x87.tagValid.nonzeroBitCount, 4)
    }

    func testSegmentsControlRegistersAndTheShadowComeBack() throws {
        let original = makeCPU()
        original.setSegmentRegister(.fs, SegmentCache(selector: 0x23, base: 0x1234_0000, limit: 0xF_FFFF, flags: 0xC0F300))
        original.setControlRegisters(cr0: original.controlRegister(0) | ControlRegister.protectionEnable)
        original.setPageFaultAddress(0xDEAD_B000)
        original.state.pointee.gdtBase = 0x1000
        original.state.pointee.gdtLimit = 0x37
        original.flags = EFLAGS.reserved1 | EFLAGS.direction | EFLAGS.overflow | EFLAGS.interrupt
        let copy = makeCPU()
        try copy.load(from: try StateRecordCodec.decode(StateRecordCodec.encode(saved(original))))
        XCTAssertEqual(copy.segmentRegister(.fs), original.segmentRegister(.fs))
        XCTAssertEqual(copy.controlRegister(0), original.controlRegister(0))
        XCTAssertEqual(copy.controlRegister(2), 0xDEAD_B000)
        XCTAssertEqual(copy.state.pointee.gdtLimit, 0x37)
        XCTAssertEqual(copy.flags, original.flags)
        XCTAssertEqual(copy.state.pointee.direction, -1, "DF lives apart from EFLAGS")
        XCTAssertEqual(copy.state.pointee.hiddenFlags, original.state.pointee.hiddenFlags, "the same mode bits")
    }

    func testABadRecordIsRefusedAndChangesNothing() throws {
        let cpu = makeCPU()
        for _ in 0..<5 { cpu.step() }
        let before = saved(cpu)
        var bad = before
        bad.put("a20Mask", UInt32(0x1234))
        XCTAssertThrowsError(try cpu.load(from: bad)) { XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "x86-cpu", field: "a20Mask")) }
        var tooWide = before
        tooWide.put("cr0", UInt64(1) << 40)
        XCTAssertThrowsError(try cpu.load(from: tooWide))
        var wrongKind = before
        wrongKind.put("x87", StateRecord(name: "segment", version: 1))
        XCTAssertThrowsError(try cpu.load(from: wrongKind))
        XCTAssertEqual(saved(cpu), before)
    }
}

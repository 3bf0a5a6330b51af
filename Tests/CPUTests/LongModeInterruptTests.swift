@testable import CPURuntime
import Memory
import Timing
@testable import X86Frontend
import X86State
import XCTest

/// Interrupt and exception delivery in long mode, and IRETQ, driven through
/// the CPU's delivery path with the descriptor tables, TSS and page tables
/// written into guest RAM. Expected frames and stacks follow the SDM vol. 3,
/// 6.14 (64-bit IDT gates, RSPn and ISTn, SS:RSP always pushed, RSP aligned
/// to 16), which QEMU's and Bochs's long-mode delivery implement.
final class LongModeInterruptTests: XCTestCase {
    var ram: GuestRAM!
    var cpu: X86CPU!

    // Selectors: 64-bit kernel code and data, 64-bit user code, user data, the TSS.
    let kernelCode: UInt32 = 0x08, kernelData: UInt32 = 0x10, userCode: UInt32 = 0x1B, userData: UInt32 = 0x23
    let tssSelector: UInt32 = 0x28, compatCode: UInt32 = 0x38
    let gdt: UInt32 = 0x5000, tss: UInt32 = 0x6000, idt: UInt32 = 0x7000
    let rsp0: UInt64 = 0x9_0000, ist1: UInt64 = 0xA_0008
    let handler: UInt64 = 0xFFFF_8000_0000_1000

    override func setUp() {
        ram = try! GuestRAM(size: 8 << 20)
        let space = AddressSpace(ram: ram)
        try! space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
        // Identity map of the first GiB (a 1 GiB user page), also at the top-half address of `handler`.
        put64(0x1000, 0x2000 | 7)
        put64(0x1000 + 256 * 8, 0x2000 | 7)
        put64(0x2000, 0 | 7 | 0x80)
        put64(gdt + 0x08, 0x0020_9A00_0000_0000)
        put64(gdt + 0x10, 0x00CF_9200_0000_FFFF)
        put64(gdt + 0x18, 0x0020_FA00_0000_0000)
        put64(gdt + 0x20, 0x00CF_F200_0000_FFFF)
        // 64-bit TSS at `tss`, limit 0x67: type 9, present.
        put64(gdt + 0x28, 0x0000_8900_0000_0067 | UInt64(tss) << 16)
        put64(gdt + 0x30, 0)
        put64(gdt + 0x38, 0x00CF_9A00_0000_FFFF)   // 32-bit code: not a 64-bit handler
        put64(tss + 4, rsp0)
        put64(tss + 0x24, ist1)
        cpu.state.pointee.gdtBase = LinearAddress(gdt)
        cpu.state.pointee.gdtLimit = 0x3F
        cpu.state.pointee.idtBase = LinearAddress(idt)
        cpu.state.pointee.idtLimit = 0xFFF
        cpu.extendedFeatureEnable = EFER.longModeEnable | EFER.longModeActive
        cpu.setControlRegisters(cr0: ControlRegister.protectionEnable | ControlRegister.paging | ControlRegister.extensionType,
                                cr3: 0x1000, cr4: ControlRegister.cr4PAE)
        try! cpu.perform(load: tssSelector)
        setPrivilege(3)
    }

    func put64(_ address: UInt32, _ value: UInt64) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: UInt64.self) }
    func get64(_ address: UInt64) -> UInt64 { ram.base.loadUnaligned(fromByteOffset: Int(address), as: UInt64.self) }

    /// A 16-byte gate: 64-bit interrupt (0xE) or trap (0xF) gate to `offset`.
    func gate(_ vector: UInt32, type: UInt64 = 0xE, dpl: UInt64 = 0, ist: UInt64 = 0, selector: UInt32 = 0x08, offset: UInt64? = nil) {
        let target = offset ?? handler
        let low = (target & 0xFFFF) | UInt64(selector) << 16 | ist << 32 | type << 40 | dpl << 45 | 1 << 47
            | (target & 0xFFFF_0000) << 32
        put64(idt + vector * 16, low)
        put64(idt + vector * 16 + 8, target >> 32)
    }

    /// Runs 64-bit code at `level` with the matching flat segments.
    func setPrivilege(_ level: UInt32) {
        let code = level == 3 ? userCode : kernelCode, data = level == 3 ? userData : kernelData
        let dpl = level << SegmentCache.dplShift
        cpu.setSegmentRegister(.cs, SegmentCache(selector: code, base: 0, limit: 0xFFFF_FFFF,
                                                 flags: 0xA09B00 & 0xF0FF00 | dpl | SegmentCache.long))
        cpu.setSegmentRegister(.ss, SegmentCache(selector: data, base: 0, limit: 0xFFFF_FFFF, flags: 0xC09300 | dpl))
        XCTAssertEqual(cpu.currentPrivilege, level)
        XCTAssertTrue(HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags).contains(.code64))
    }

    func testSoftwareInterruptFromUserSwitchesToRSP0() {
        gate(0x80, dpl: 3)
        cpu.setRegister64(Register.esp.rawValue, 0x5_0008)
        cpu.flags = EFLAGS.reserved1 | EFLAGS.interrupt | EFLAGS.carry
        cpu.deliverInterrupt(vector: 0x80, returnAddress: 0x0000_7000_0000_1234, kind: .software)
        XCTAssertEqual(cpu.state.pointee.pendingException, -1)
        XCTAssertEqual(cpu.state.pointee.eip, handler, "64-bit handler offset from both gate halves")
        XCTAssertEqual(cpu.segmentRegister(.cs).selector, kernelCode)
        XCTAssertEqual(cpu.currentPrivilege, 0)
        XCTAssertEqual(cpu.segmentRegister(.ss).selector, 0, "SS is null at the new CPL")
        let rsp = cpu.register64(Register.esp.rawValue)
        XCTAssertEqual(rsp, rsp0 - 40)
        XCTAssertEqual([get64(rsp), get64(rsp + 8), get64(rsp + 16), get64(rsp + 24), get64(rsp + 32)],
                       [0x0000_7000_0000_1234, UInt64(userCode), UInt64(EFLAGS.reserved1 | EFLAGS.interrupt | EFLAGS.carry),
                        0x5_0008, UInt64(userData)])
        XCTAssertEqual(cpu.flags & EFLAGS.interrupt, 0, "an interrupt gate clears IF")
        XCTAssertTrue(HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags).contains(.code64))

        // IRETQ goes back to ring 3 with the user's RSP and SS.
        XCTAssertNoThrow(try cpu.longModeInterruptReturn(bytes: 8))
        XCTAssertEqual(cpu.state.pointee.eip, 0x0000_7000_0000_1234)
        XCTAssertEqual(cpu.segmentRegister(.cs).selector, userCode)
        XCTAssertEqual(cpu.segmentRegister(.ss).selector, userData)
        XCTAssertEqual(cpu.register64(Register.esp.rawValue), 0x5_0008)
        XCTAssertEqual(cpu.currentPrivilege, 3)
        XCTAssertEqual(cpu.flags & (EFLAGS.interrupt | EFLAGS.carry), EFLAGS.interrupt | EFLAGS.carry)
    }

    func testExceptionOnAnInterruptStackIsAlignedAndKeepsSSRSP() {
        setPrivilege(0)
        gate(ExceptionVector.generalProtection, type: 0xF, ist: 1)
        cpu.setRegister64(Register.esp.rawValue, 0x8_1235)
        cpu.state.pointee.currentInstruction = 0xFFFF_8000_0000_0042
        cpu.raiseException(ExceptionVector.generalProtection, errorCode: 0x1234)
        cpu.deliverPendingException()
        XCTAssertEqual(cpu.state.pointee.pendingException, -1)
        let rsp = cpu.register64(Register.esp.rawValue)
        XCTAssertEqual(rsp, (ist1 & ~0xF) - 48, "IST1, aligned down to 16, six quadwords with the error code")
        XCTAssertEqual([get64(rsp), get64(rsp + 8), get64(rsp + 16), get64(rsp + 32), get64(rsp + 40)],
                       [0x1234, 0xFFFF_8000_0000_0042, UInt64(kernelCode), 0x8_1235, UInt64(kernelData)])
        XCTAssertEqual(cpu.segmentRegister(.ss).selector, kernelData, "no privilege change: SS stays")
    }

    func testSameLevelStackIsAlignedToo() {
        setPrivilege(0)
        gate(0x40)
        cpu.setRegister64(Register.esp.rawValue, 0x8_1238)
        cpu.deliverInterrupt(vector: 0x40, returnAddress: 0x1000, kind: .external)
        XCTAssertEqual(cpu.register64(Register.esp.rawValue), 0x8_1230 - 40)
    }

    func testGateChecks() {
        // A software INT through a DPL 0 gate from ring 3: #GP(vector*8+2).
        gate(0x81, dpl: 0)
        cpu.deliverInterrupt(vector: 0x81, returnAddress: 0, kind: .software)
        XCTAssertEqual(cpu.state.pointee.pendingException, Int32(ExceptionVector.generalProtection))
        XCTAssertEqual(cpu.state.pointee.pendingErrorCode, 0x81 * 8 + 2)
        cpu.state.pointee.pendingException = -1
        // A 32-bit target code segment cannot take a long-mode interrupt.
        gate(0x82, dpl: 3, selector: compatCode)
        cpu.deliverInterrupt(vector: 0x82, returnAddress: 0, kind: .software)
        XCTAssertEqual(cpu.state.pointee.pendingErrorCode, compatCode)
        cpu.state.pointee.pendingException = -1
        // A 32-bit gate type (0xC, a call gate) is not an interrupt gate.
        gate(0x83, type: 0xC, dpl: 3)
        cpu.deliverInterrupt(vector: 0x83, returnAddress: 0, kind: .software)
        XCTAssertEqual(cpu.state.pointee.pendingErrorCode, 0x83 * 8 + 2)
        cpu.state.pointee.pendingException = -1
        // The IDT limit covers 16-byte gates.
        cpu.state.pointee.idtLimit = 0x84 * 16 + 7
        gate(0x84, dpl: 3)
        cpu.deliverInterrupt(vector: 0x84, returnAddress: 0, kind: .software)
        XCTAssertEqual(cpu.state.pointee.pendingErrorCode, 0x84 * 8 + 2)
        XCTAssertEqual(cpu.currentPrivilege, 3, "nothing changed")
    }

    /// Compatibility-mode code (a 32-bit CS in long mode) reaches 64-bit
    /// code by a far jump or an IRET, with the whole 32-bit offset.
    func testFarJumpAndIRETFromCompatibilityModeInto64BitCode() throws {
        setPrivilege(0)
        cpu.setSegmentRegister(.cs, SegmentCache(selector: compatCode, base: 0, limit: 0xFFFF_FFFF, flags: 0xCF9B00 & 0xF0FF00))
        XCTAssertFalse(HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags).contains(.code64))
        try cpu.protectedFarJump(selector: UInt16(kernelCode), offset: 0x1234_5678, bytes: 4)
        XCTAssertEqual(cpu.state.pointee.eip, 0x1234_5678)
        XCTAssertTrue(HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags).contains(.code64))

        cpu.setSegmentRegister(.cs, SegmentCache(selector: compatCode, base: 0, limit: 0xFFFF_FFFF, flags: 0xCF9B00 & 0xF0FF00))
        cpu.setRegister64(Register.esp.rawValue, 0x8_0000)
        put64(0x8_0000, UInt64(kernelCode) << 32 | 0x0040_1000)   // EIP, CS
        put64(0x8_0008, UInt64(EFLAGS.reserved1 | EFLAGS.carry))   // EFLAGS
        try cpu.protectedInterruptReturn(bytes: 4)
        XCTAssertEqual(cpu.state.pointee.eip, 0x0040_1000)
        XCTAssertEqual(cpu.segmentRegister(.cs).selector, kernelCode)
        XCTAssertEqual(cpu.register64(Register.esp.rawValue), 0x8_000C, "same privilege from compatibility mode: three slots")
        XCTAssertEqual(cpu.flags & EFLAGS.carry, EFLAGS.carry)
        XCTAssertTrue(HiddenFlags(rawValue: cpu.state.pointee.hiddenFlags).contains(.code64))
    }

    func testAnOpcodeThatSixtyFourBitModeRemovedRaisesInvalidOpcode() {
        setPrivilege(0)
        gate(ExceptionVector.invalidOpcode)
        cpu.setRegister64(Register.esp.rawValue, 0x8_0000)
        cpu.state.pointee.eip = 0x0000_0000_0010_0000
        // PUSH ES (06): gone in 64-bit mode.
        ram.base.storeBytes(of: UInt32(0x90C3_9006), toByteOffset: 0x10_0000, as: UInt32.self)
        cpu.step()
        XCTAssertEqual(cpu.state.pointee.eip, handler)
        XCTAssertEqual(get64(0x8_0000 - 40), 0x10_0000, "#UD reported at the instruction")
    }
}

extension X86CPU {
    /// LTR as the instruction does it, for setting the CPU up.
    func perform(load taskRegister: UInt32) throws {
        _ = system(SystemCall(.loadTaskRegister, operandBytes: 2), operand: UInt64(taskRegister), address: 0)
        if state.pointee.pendingException >= 0 { throw SegmentFault(vector: UInt32(state.pointee.pendingException), errorCode: state.pointee.pendingErrorCode) }
    }
}

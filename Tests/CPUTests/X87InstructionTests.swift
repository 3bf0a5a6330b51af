import CPURuntime
import Foundation
import X86State
import X87
import XCTest

/// x87 instructions run through the translator and the `x87` helper in real
/// mode: results compared byte for byte with the same code run on the host's
/// FPU (see `X87Programs`), and the ways an x87 instruction can stop: #NM,
/// #MF or FERR#, and a memory operand fault that leaves the FPU as it was.
final class X87InstructionTests: XCTestCase {
    override class func tearDown() {
        try? FileManager.default.removeItem(at: X87Programs.directory)
        super.tearDown()
    }

    /// Runs `body` in the guest and on the host; compares the data bytes
    /// `0..<bytes` except the `ignored` ranges (FPU pointers, which hold
    /// linear addresses in real mode and the host's offsets and selectors natively).
    private func assertMatchesHost(_ body: String, bytes: Int, ignoring ignored: [Range<Int>] = [],
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try X87Programs.hostResult(body, bytes: bytes)
        let machine = try X87TestMachine()
        machine.load(try X87Programs.assemble(body, guest: true))
        machine.run()
        XCTAssertNil(machine.cpu.stopReason, file: file, line: line)
        XCTAssertNil(machine.handledVector, "the program raised an exception", file: file, line: line)
        let actual = machine.data(0, bytes)
        for offset in 0..<bytes where !ignored.contains(where: { $0.contains(offset) }) && actual[offset] != expected[offset] {
            XCTFail("byte \(String(offset, radix: 16))h: \(hexBytes(actual)) want \(hexBytes(expected))", file: file, line: line)
            return
        }
    }

    private func hexBytes(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testArithmeticTranscendentalsAndIntegerStoresMatchTheHost() throws {
        try assertMatchesHost("""
                fninit
                setdouble 0x100, 2.0
                setdouble 0x108, 3.0
                setdouble 0x110, 0.7
                fld qword [D(0x100)]
                fadd qword [D(0x108)]
                fmul st0, st0
                fdiv qword [D(0x108)]
                fsqrt
                fstp qword [D(0)]
                fld qword [D(0x110)]
                fsin
                fstp tword [D(8)]
                fld qword [D(0x110)]
                fld1
                fpatan
                fst qword [D(0x18)]
                fldpi
                fmulp st1, st0
                fld st0
                fistp dword [D(0x20)]
                mov word [D(0x120)], 0x0B7F     ; round up
                fldcw [D(0x120)]
                fist word [D(0x24)]
                fimul dword [D(0x20)]
                fchs
                fbstp tword [D(0x26)]
                fldln2
                fidivr word [D(0x24)]
                fstp dword [D(0x30)]
                fstsw [D(0x34)]
                fnstsw ax
                mov [D(0x36)], ax
                fnstcw [D(0x38)]
            """, bytes: 0x3A)
    }

    func testComparisonsIntoEFLAGSAndConditionalMovesMatchTheHost() throws {
        try assertMatchesHost("""
                fninit
                fld1
                fldpi                   ; ST0 = pi, ST1 = 1
                mov ax, 1
                cmp ax, 2               ; CF set, so a stale lazy CF would take the JB
                fcomi st0, st1
                lahf
                mov [D(0)], ah
                mov byte [D(1)], 0
                jb .below
                mov byte [D(1)], 1
            .below:
                fcmovnbe st0, st1       ; pi > 1: moves 1.0
                fst qword [D(8)]
                fld1
                fucomip st0, st1        ; equal: ZF
                lahf
                mov [D(2)], ah
                fldz
                fcmove st0, st1         ; ZF set: moves
                fstp qword [D(0x10)]
                fldz
                fcomp st1
                fnstsw ax
                mov [D(0x18)], ax
                fldz
                fldpi
                fcmovnu st0, st1        ; PF clear since FUCOMIP: moves 0.0
                fcmovu st0, st2
                fstp qword [D(0x20)]
                fxam
                fnstsw ax
                mov [D(0x1A)], ax
            """, bytes: 0x28)
    }

    /// FNSAVE/FRSTOR and FNSTENV in the 32-bit layout (o32 in the guest);
    /// bytes 12-27 of each image are the pointers, in another format natively.
    func testSaveRestoreAndEnvironmentMatchTheHost() throws {
        try assertMatchesHost("""
                fninit
                fldpi
                fld1
                fldl2e
                fadd st0, st1
                o32 fnsave [D(0)]
                fld1
                fstp qword [D(0x100)]
                fnstsw [D(0x108)]
                o32 frstor [D(0)]
                fstp qword [D(0x110)]
                fstp qword [D(0x118)]
                o32 fnstenv [D(0x120)]
                fstp tword [D(0x140)]
                fnstsw [D(0x14A)]
            """, bytes: 0x14C, ignoring: [12..<28, 0x120 + 12..<0x120 + 28])
    }

    /// The 16-bit layouts (the guest's default operand size; 32-bit natively):
    /// only what FRSTOR/FLDENV bring back is compared, not the images.
    func testSixteenBitSaveAndEnvironmentRoundTrip() throws {
        try assertMatchesHost("""
                fninit
                fldl2t
                fldlg2
                fldz
                fdivr st0, st1          ; 0 / lg2 -> 0
                fsave [D(0x100)]
                fld1
                frstor [D(0x100)]
                mov word [D(0x1F0)], 0x0E7F   ; round down, double precision
                fldcw [D(0x1F0)]
                fstenv [D(0x180)]
                fninit
                fldenv [D(0x180)]
                fstp tword [D(0)]
                fstp tword [D(0x0A)]
                fstp tword [D(0x14)]
                fnstcw [D(0x1E)]
                fnstsw [D(0x20)]
            """, bytes: 0x22)
    }

    /// Results rounded to single and double precision in every rounding mode.
    func testPrecisionAndRoundingControlMatchTheHost() throws {
        var body = "    fninit\n    setdouble 0x100, 10.0\n    setdouble 0x108, 3.0\n"
        var offset = 0
        for precision in [0, 2, 3] {
            for rounding in 0..<4 {
                let word = 0x7F | precision << 8 | rounding << 10
                body += """
                        mov word [D(0x110)], 0x\(String(word, radix: 16))
                        fldcw [D(0x110)]
                        fld qword [D(0x100)]
                        fdiv qword [D(0x108)]
                        fld st0
                        fsqrt
                        fstp tword [D(0x\(String(offset, radix: 16)))]
                        fistp word [D(0x\(String(offset + 10, radix: 16)))]

                    """
                offset += 12
            }
        }
        try assertMatchesHost(body, bytes: offset)
    }

    /// FXSAVE/FXRSTOR: control, status and abridged tag words and the
    /// registers (FOP, the pointers, MXCSR and the XMM area are not compared).
    func testFXSaveAndFXRestoreMatchTheHost() throws {
        try assertMatchesHost("""
                fninit
                fldpi
                fld1
                fldz
                fsqrt
                fxsave [D(0x200)]
                fninit
                fxrstor [D(0x200)]
                fstp qword [D(0)]
                fstp qword [D(8)]
                fstp qword [D(0x10)]
                fnstsw [D(0x18)]
            """, bytes: 0x2A0, ignoring: [0x1A..<0x200, 0x206..<0x220])
    }

    func testCPUIDDeclaresTheFPUAndFXSR() throws {
        let machine = try X87TestMachine()
        machine.load(try X87Programs.assemble("""
                mov si, bx              ; CPUID writes EBX
                mov eax, 1
                cpuid
                mov [si], edx
            """, guest: true))
        machine.run()
        XCTAssertNil(machine.handledVector)
        let edx = UInt32(machine.word(0)) | UInt32(machine.word(2)) << 16
        XCTAssertEqual(edx & (1 << 0 | 1 << 24), 1 << 0 | 1 << 24)
    }

    // MARK: #NM

    func testTaskSwitchedRaisesDeviceNotAvailableBeforeTheFPUChanges() throws {
        let machine = try X87TestMachine()
        let cr0 = ControlRegister.extensionType | ControlRegister.taskSwitched
        machine.load(try X87Programs.assemble("fld1", guest: true), cr0: cr0)
        let before = machine.cpu.state.pointee.x87.summary
        machine.run()
        XCTAssertEqual(machine.handledVector, 7)
        XCTAssertEqual(machine.pushedIP, X87Programs.bodyAddress)
        XCTAssertEqual(machine.cpu.state.pointee.x87.summary, before)
    }

    func testWaitRaisesDeviceNotAvailableOnlyWithMonitorAndTaskSwitched() throws {
        let machine = try X87TestMachine()
        let code = try X87Programs.assemble("wait", guest: true)
        machine.load(code, cr0: ControlRegister.extensionType | ControlRegister.taskSwitched)
        machine.run()
        XCTAssertNil(machine.handledVector, "TS without MP: WAIT runs")
        machine.load(code, cr0: ControlRegister.extensionType | ControlRegister.taskSwitched | ControlRegister.monitorCoprocessor)
        machine.run()
        XCTAssertEqual(machine.handledVector, 7)
        XCTAssertEqual(machine.pushedIP, X87Programs.bodyAddress)
    }

    func testEmulationRaisesDeviceNotAvailableForFXSave() throws {
        let machine = try X87TestMachine()
        machine.load(try X87Programs.assemble("fxsave [D(0x200)]", guest: true),
                     cr0: ControlRegister.extensionType | ControlRegister.emulation)
        machine.run()
        XCTAssertEqual(machine.handledVector, 7)
    }

    // MARK: pending exceptions: #MF and FERR#

    /// Divides by zero with ZE unmasked, then runs a no-wait store (which must
    /// not fault) and a waiting FLD1 at `faulting`.
    private static let pendingZeroDivide = """
            fninit
            mov word [D(0x100)], 0x037B    ; ZM clear
            fldcw [D(0x100)]
            fld1
            fldz
            fdivp st1, st0
            fnstsw [D(0)]
            mov word [D(2)], faulting
        faulting:
            fld1
            fnclex
            fld1
        """

    func testPendingExceptionRaisesFloatingPointErrorWithNumericErrorSet() throws {
        let machine = try X87TestMachine()
        machine.load(try X87Programs.assemble(Self.pendingZeroDivide, guest: true),
                     cr0: ControlRegister.extensionType | ControlRegister.numericError)
        var ferrCount = 0
        machine.cpu.ferr = { ferrCount += 1 }
        machine.run()
        XCTAssertEqual(machine.handledVector, 16)
        XCTAssertEqual(machine.pushedIP, Int(machine.word(2)))
        XCTAssertEqual(machine.word(0) & 0x80BF, 0x8084, "ZE, ES and B pending after the division")
        let x87 = machine.cpu.state.pointee.x87
        XCTAssertEqual(x87.top, 6, "the faulting FLD1 pushed nothing")
        XCTAssertEqual(ferrCount, 0)
    }

    func testPendingExceptionAssertsFERRAndContinuesWithNumericErrorClear() throws {
        let machine = try X87TestMachine()
        machine.load(try X87Programs.assemble(Self.pendingZeroDivide, guest: true), cr0: ControlRegister.extensionType)
        var ferrCount = 0
        machine.cpu.ferr = { ferrCount += 1 }
        machine.run()
        XCTAssertNil(machine.handledVector)
        XCTAssertEqual(ferrCount, 1, "once, at the waiting FLD1 (FNSTSW, FNCLEX do not wait; FNCLEX cleared it)")
        let x87 = machine.cpu.state.pointee.x87
        XCTAssertEqual(x87.top, 4, "both FLD1s ran")
        XCTAssertFalse(x87.hasPendingException)
    }

    func testWaitDeliversThePendingException() throws {
        let machine = try X87TestMachine()
        machine.load(try X87Programs.assemble("""
                fninit
                mov word [D(0x100)], 0x037E    ; IM clear
                fldcw [D(0x100)]
                fld st1                        ; empty: stack underflow, #IS pending
                mov word [D(2)], faulting
            faulting:
                fwait
            """, guest: true), cr0: ControlRegister.extensionType | ControlRegister.numericError)
        machine.run()
        XCTAssertEqual(machine.handledVector, 16)
        XCTAssertEqual(machine.pushedIP, Int(machine.word(2)))
    }

    // MARK: faulting memory operands

    /// Runs `prefix + faulting` (the faulting instruction at the end) and
    /// `prefix` alone: the fault must leave the FPU exactly as `prefix` did.
    private func assertFaultLeavesFPUUnchanged(prefix: String, faulting: String, vector: Int,
                                               file: StaticString = #filePath, line: UInt = #line) throws {
        let machine = try X87TestMachine()
        machine.load(try X87Programs.assemble(prefix, guest: true))
        machine.run()
        XCTAssertNil(machine.handledVector, file: file, line: line)
        let expected = machine.cpu.state.pointee.x87.summary
        machine.load(try X87Programs.assemble(prefix + "\n" + faulting, guest: true))
        machine.run()
        XCTAssertEqual(machine.handledVector, vector, file: file, line: line)
        XCTAssertEqual(machine.cpu.state.pointee.x87.summary, expected, file: file, line: line)
    }

    private static let twoValues = """
            fninit
            fldpi
            fld1
        """

    func testSegmentLimitFaultOnLoadLeavesTheFPUUnchanged() throws {
        try assertFaultLeavesFPUUnchanged(prefix: Self.twoValues, faulting: "fld qword [0xFFFC]", vector: 13)
        try assertFaultLeavesFPUUnchanged(prefix: Self.twoValues, faulting: "fadd dword [0xFFFE]", vector: 13)
        try assertFaultLeavesFPUUnchanged(prefix: Self.twoValues, faulting: "frstor [0xFFF0]", vector: 13)
    }

    func testSegmentLimitFaultOnStoreLeavesTheFPUUnchanged() throws {
        try assertFaultLeavesFPUUnchanged(prefix: Self.twoValues, faulting: "fstp tword [0xFFF8]", vector: 13)
        try assertFaultLeavesFPUUnchanged(prefix: Self.twoValues, faulting: "fistp dword [0xFFFD]", vector: 13)
        try assertFaultLeavesFPUUnchanged(prefix: Self.twoValues, faulting: "fnsave [0xFFC0]", vector: 13)
        try assertFaultLeavesFPUUnchanged(prefix: Self.twoValues, faulting: "fnstenv [0xFFF8]", vector: 13)
    }

    func testStackSegmentLimitFaultIsStackFault() throws {
        try assertFaultLeavesFPUUnchanged(prefix: Self.twoValues + "\n mov bp, 0xFFFC", faulting: "fst qword [bp]", vector: 12)
    }

    func testFXSaveNeedsSixteenByteAlignment() throws {
        try assertFaultLeavesFPUUnchanged(prefix: Self.twoValues, faulting: "fxrstor [D(0x208)]", vector: 13)
    }

    // MARK: real-mode layouts

    /// FNSTENV's 16-bit real-mode layout: the 20-bit linear FIP and FDP, the
    /// opcode beside FIP's top bits, of the last non-control instruction.
    func testRealModeEnvironmentHoldsLinearPointers() throws {
        let machine = try X87TestMachine()
        machine.load(try X87Programs.assemble("""
                fninit
                mov word [D(0)], last
                setdouble 0x108, 1.0
            last:
                fld qword [D(0x108)]
                fnstenv [D(0x20)]
            """, guest: true))
        machine.run()
        XCTAssertNil(machine.handledVector)
        let fip = Int(machine.word(0))
        XCTAssertEqual(machine.word(0x20), 0x037F)
        XCTAssertEqual(Int(machine.word(0x26)), fip & 0xFFFF)
        XCTAssertEqual(machine.word(0x28), 0x5 << 8 | 0x87, "FOP of FLD m64 (DD 87), FIP bits 16-19 zero")
        XCTAssertEqual(Int(machine.word(0x2A)), X87Programs.dataAddress + 0x108)
        XCTAssertEqual(machine.cpu.state.pointee.x87.controlWord, 0x037F)
    }
}

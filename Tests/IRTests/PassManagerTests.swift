import XCTest
@testable import IR

final class PassManagerTests: XCTestCase {
    /// Two x86 instructions with lazy flags and a conditional jump on ZF, as
    /// a translator would emit them: only the last flags update survives,
    /// and the jump reads the result from the register it was copied to.
    func testStandardPipelineOnTranslatedCode() {
        assertOptimized(PassManager.standardPasses, """
            insn_start $0x1000
            add_i32 t8, eax, ecx
            insn_start $0x1002
            movi_i32 t9, $0x4
            sub_i32 t10, t8, t9
            mov_i32 eax, t10
            mov_i32 cc_dst, eax
            movi_i32 cc_src, $0x4
            movi_i32 cc_op, $0x2
            insn_start $0x1005
            movi_i32 t13, $0x0
            brcond_i32 eax, t13, eq, L0
            goto_tb $0
            label L0
            goto_tb $1
            """) { f, b in
            // add eax, ecx
            b.instructionStart(0x1000)
            let sum = b.add(f.eax, f.ecx)
            b.move(into: f.eax, sum)
            b.move(into: f.ccDst, sum)
            b.move(into: f.ccSrc, f.ecx)
            b.move(into: f.ccOp, constant: 1)
            // sub eax, 4
            b.instructionStart(0x1002)
            let four = b.constant(4)
            let difference = b.sub(f.eax, four)
            b.move(into: f.eax, difference)
            b.move(into: f.ccDst, difference)
            b.move(into: f.ccSrc, four)
            b.move(into: f.ccOp, constant: 2)
            // jz: ZF is cc_dst == 0 for cc_op 2; a generic translator tests cc_op first.
            b.instructionStart(0x1005)
            let isSub = b.setcond(.eq, f.ccOp, b.constant(2))
            let zero = b.constant(0)
            let taken = b.newLabel(), generic = b.newLabel()
            b.branch(if: .eq, isSub, zero, to: generic)
            b.branch(if: .eq, f.ccDst, zero, to: taken)
            b.gotoBlock(slot: 0)
            b.setLabel(generic)
            b.call(f.helperState)
            b.exitBlock(3)
            b.setLabel(taken)
            b.gotoBlock(slot: 1)
        }
    }

    func testDumpShowsTheIRBeforeAndAfterEachPass() {
        let fixture = Fixture()
        let (block, b) = fixture.newBlock()
        let x = b.add(fixture.eax, 0)
        b.move(into: fixture.ecx, x)
        b.exitBlock(0)
        var dumps: [String] = []
        PassManager(passes: [ConstantFolding(), UnreachableCode(), DeadCodeElimination()], dump: { dumps.append($0) })
            .run(on: block)
        XCTAssertEqual(dumps, [
            "IR before optimization:\nmovi_i32 t8, $0x0\nadd_i32 t9, eax, t8\nmov_i32 ecx, t9\nexit_tb $0",
            "IR after constant folding:\nmovi_i32 t8, $0x0\nmov_i32 t9, eax\nmov_i32 ecx, t9\nexit_tb $0",
            "IR after unreachable code: unchanged",
            "IR after dead code elimination:\nmov_i32 t9, eax\nmov_i32 ecx, t9\nexit_tb $0",
        ])
    }

    /// A pass that breaks the block: drops every constant.
    private struct DropConstants: IRPass {
        var name: String { "drop constants" }
        func run(on block: IRBlock) -> Bool {
            block.ops.removeAll { $0.opcode == .movi }
            return true
        }
    }

    func testValidationNamesThePassThatBrokeTheBlock() {
        let fixture = Fixture()
        let (block, b) = fixture.newBlock()
        b.move(into: fixture.ecx, b.constant(1))
        b.exitBlock(0)
        XCTAssertThrowsError(try PassManager(passes: [DropConstants()], validates: true).runChecked(on: block)) { error in
            let failure = error as? IRValidationFailure
            XCTAssertEqual(failure?.pass, "drop constants")
            XCTAssertEqual(failure?.errors.map(\.description), ["op 0: `mov_i32 ecx, t8` reads t8 before it is written on some path"])
        }
        // Without validation the same pass goes unnoticed.
        XCTAssertNoThrow(try PassManager(passes: [DropConstants()]).runChecked(on: block))
    }

    func testInvalidInputIsReportedBeforeAnyPass() {
        let fixture = Fixture()
        let (block, b) = fixture.newBlock()
        b.move(into: fixture.ecx, b.newTemp())
        XCTAssertThrowsError(try PassManager(validates: true).runChecked(on: block)) { error in
            XCTAssertNil((error as? IRValidationFailure)?.pass)
            XCTAssertTrue("\(error)".hasPrefix("invalid IR before optimization:"))
        }
    }
}

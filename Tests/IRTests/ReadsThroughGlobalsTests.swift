import XCTest
@testable import IR

final class ReadsThroughGlobalsTests: XCTestCase {
    private let turn: [any IRPass] = [ReadsThroughGlobals()]

    func testReadsOfALocalCopiedToAGlobalReadTheGlobal() {
        assertOptimized(turn, """
            ld_state_i32 t8, u32 @64
            mov_i32 eax, t8
            add_i32 ecx, eax, eax
            mov_i32 cc_dst, eax
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32)
            b.move(into: f.eax, x)
            b.binary(.add, into: f.ecx, x, x)
            b.move(into: f.ccDst, x)
            b.exitBlock(0)
        }
    }

    func testNeverAfterTheGlobalIsWrittenAgain() {
        assertOptimized(turn, """
            ld_state_i32 t8, u32 @64
            mov_i32 eax, t8
            add_i32 eax, eax, ecx
            add_i32 edx, t8, t8
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32)
            b.move(into: f.eax, x)
            b.binary(.add, into: f.eax, x, f.ecx)
            b.binary(.add, into: f.edx, x, x)
            b.exitBlock(0)
        }
    }

    func testNeverAcrossAHelperThatMayChangeTheState() {
        assertOptimized(turn, """
            ld_state_i32 t8, u32 @64
            mov_i32 eax, t8
            call helper_state
            add_i32 edx, t8, t8
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32)
            b.move(into: f.eax, x)
            b.call(f.helperState)
            b.binary(.add, into: f.edx, x, x)
            b.exitBlock(0)
        }
    }

    func testNeverPastALabel() {
        assertOptimized(turn, """
            ld_state_i32 t8, u32 @64
            mov_i32 eax, t8
            brcond_i32 eax, ecx, eq, L0
            add_i32 edx, eax, eax
            label L0
            add_i32 ebx, t8, t8
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32)
            b.move(into: f.eax, x)
            let label = b.newLabel()
            b.branch(if: .eq, x, f.ecx, to: label)
            b.binary(.add, into: f.edx, x, x)
            b.setLabel(label)
            b.binary(.add, into: f.ebx, x, x)
            b.exitBlock(0)
        }
    }
}

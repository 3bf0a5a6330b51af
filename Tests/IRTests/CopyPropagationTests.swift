import XCTest
@testable import IR

final class CopyPropagationTests: XCTestCase {
    private let propagate: [any IRPass] = [CopyPropagation()]

    func testReadsOfACopyReadItsSource() {
        assertOptimized(propagate, """
            ld_state_i32 t8, u32 @64
            mov_i32 t9, t8
            mov_i32 t10, t8
            add_i32 eax, t8, t8
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32)
            let y = b.copy(x)
            let z = b.copy(y)
            b.binary(.add, into: f.eax, y, z)
            b.exitBlock(0)
        }
    }

    func testNeverAcrossAWriteToTheSource() {
        assertOptimized(propagate, """
            mov_i32 t8, eax
            add_i32 eax, eax, ecx
            sub_i32 edx, eax, t8
            exit_tb $0
            """) { f, b in
            let old = b.copy(f.eax)
            b.binary(.add, into: f.eax, f.eax, f.ecx)
            b.binary(.sub, into: f.edx, f.eax, old)
            b.exitBlock(0)
        }
    }

    func testNeverPropagatesAGlobalAcrossAStateTouchingOp() {
        // helper_state may change eax: t8 keeps the value from before the
        // call. The store reads eax itself, but may change it for later reads.
        assertOptimized(propagate, """
            mov_i32 t8, eax
            mov_i32 ecx, eax
            call helper_state
            add_i32 edx, t8, t8
            mov_i32 t9, eax
            st_state_i32 eax, u32 @64
            add_i32 ebx, t9, t9
            exit_tb $0
            """) { f, b in
            let old = b.copy(f.eax)
            b.move(into: f.ecx, old)
            b.call(f.helperState)
            b.binary(.add, into: f.edx, old, old)
            let again = b.copy(f.eax)
            b.storeState(again, offset: 64, .u32)
            b.binary(.add, into: f.ebx, again, again)
            b.exitBlock(0)
        }
    }

    func testPropagatesAGlobalAcrossAHelperThatLeavesTheStateAlone() {
        assertOptimized(propagate, """
            mov_i32 t8, eax
            call helper_nostate, eax
            add_i32 edx, eax, eax
            exit_tb $0
            """) { f, b in
            let old = b.copy(f.eax)
            b.call(f.helperNoState, [old])
            b.binary(.add, into: f.edx, old, old)
            b.exitBlock(0)
        }
    }

    func testAGlobalCopiedFromALocalIsReadFromTheLocal() {
        assertOptimized(propagate, """
            ld_state_i32 t8, u32 @64
            mov_i32 cc_dst, t8
            add_i32 eax, t8, ecx
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32)
            b.move(into: f.ccDst, x)
            b.binary(.add, into: f.eax, f.ccDst, f.ecx)
            b.exitBlock(0)
        }
    }

    func testNotAcrossLabels() {
        assertOptimized(propagate, """
            mov_i32 t8, eax
            brcond_i32 ecx, edx, eq, L0
            add_i32 ebx, eax, eax
            label L0
            add_i32 ebx, t8, t8
            exit_tb $0
            """) { f, b in
            let old = b.copy(f.eax)
            let label = b.newLabel()
            b.branch(if: .eq, f.ecx, f.edx, to: label)
            b.binary(.add, into: f.ebx, old, old)
            b.setLabel(label)
            b.binary(.add, into: f.ebx, old, old)
            b.exitBlock(0)
        }
    }
}

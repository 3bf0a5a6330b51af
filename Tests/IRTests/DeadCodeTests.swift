import XCTest
@testable import IR

final class DeadCodeEliminationTests: XCTestCase {
    private let dce: [any IRPass] = [DeadCodeElimination()]

    func testRemovesUnusedComputationChains() {
        assertOptimized(dce, """
            add_i32 eax, eax, ecx
            exit_tb $0
            """) { f, b in
            let x = b.add(f.eax, 5)
            let y = b.shl(x, 2)
            _ = b.xor(y, f.ecx)
            b.binary(.add, into: f.eax, f.eax, f.ecx)
            b.exitBlock(0)
        }
    }

    func testKeepsOpsWithEffectsAndRemovesPureCallsAndStateLoads() {
        assertOptimized(dce, """
            ld_guest_i32 t9, eax, u32 mmu0
            st_state_i32 eax, u32 @64
            call helper_state, t10, eax
            exit_tb $0
            """) { f, b in
            _ = b.loadState(offset: 64, .u32)
            _ = b.loadGuest(f.eax, .u32, mmu: 0)
            b.storeState(f.eax, offset: 64, .u32)
            b.call(f.helperState, [f.eax], result: .i32)
            b.call(f.helperPure, [f.eax, f.ecx], result: .i32)
            b.exitBlock(0)
        }
    }

    func testALocalUsedOnlyOnTheOtherPathIsKept() {
        assertOptimized(dce, """
            add_i32 t8, eax, ecx
            brcond_i32 eax, ecx, eq, L0
            exit_tb $0
            label L0
            mov_i32 edx, t8
            exit_tb $1
            """) { f, b in
            let sum = b.add(f.eax, f.ecx)
            let label = b.newLabel()
            b.branch(if: .eq, f.eax, f.ecx, to: label)
            b.exitBlock(0)
            b.setLabel(label)
            b.move(into: f.edx, sum)
            b.exitBlock(1)
        }
    }

    func testLiveAroundALoop() {
        // t8 is read at the loop top on the next iteration: its update stays.
        assertOptimized(dce, """
            movi_i32 t8, $0x3
            label L0
            add_i32 eax, eax, t8
            movi_i32 t9, $0x1
            sub_i32 t8, t8, t9
            movi_i32 t11, $0x0
            brcond_i32 t8, t11, ne, L0
            exit_tb $0
            """) { f, b in
            let counter = b.constant(3)
            let top = b.newLabel()
            b.setLabel(top)
            b.binary(.add, into: f.eax, f.eax, counter)
            b.binary(.sub, into: counter, counter, b.constant(1))
            _ = b.copy(counter)
            b.branch(if: .ne, counter, b.constant(0), to: top)
            b.exitBlock(0)
        }
    }

    func testLeavesGlobalWritesToTheDeadStorePass() {
        assertOptimized(dce, """
            movi_i32 cc_op, $0x1
            movi_i32 cc_op, $0x2
            exit_tb $0
            """) { f, b in
            b.move(into: f.ccOp, constant: 1)
            b.move(into: f.ccOp, constant: 2)
            b.exitBlock(0)
        }
    }
}

final class DeadGlobalStoresTests: XCTestCase {
    private let deadStores: [any IRPass] = [DeadGlobalStores()]

    func testAnOverwrittenFlagsUpdateIsRemoved() {
        assertOptimized(deadStores, """
            add_i32 t8, eax, ecx
            insn_start $0x1002
            sub_i32 t9, t8, edx
            mov_i32 cc_dst, t9
            mov_i32 cc_src, edx
            movi_i32 cc_op, $0x2
            exit_tb $0
            """) { f, b in
            let sum = b.add(f.eax, f.ecx)
            b.move(into: f.ccDst, sum)
            b.move(into: f.ccSrc, f.ecx)
            b.move(into: f.ccOp, constant: 1)
            b.instructionStart(0x1002)
            let difference = b.sub(sum, f.edx)
            b.move(into: f.ccDst, difference)
            b.move(into: f.ccSrc, f.edx)
            b.move(into: f.ccOp, constant: 2)
            b.exitBlock(0)
        }
    }

    func testFlagsBeforeAFaultingLoadAreKept() {
        // If the load faults, the exception sees the first instruction's flags.
        assertOptimized(deadStores, """
            mov_i32 cc_dst, eax
            movi_i32 cc_op, $0x1
            ld_guest_i32 t8, ecx, u32 mmu0
            mov_i32 cc_dst, t8
            movi_i32 cc_op, $0x2
            exit_tb $0
            """) { f, b in
            b.move(into: f.ccDst, f.eax)
            b.move(into: f.ccOp, constant: 1)
            let loaded = b.loadGuest(f.ecx, .u32, mmu: 0)
            b.move(into: f.ccDst, loaded)
            b.move(into: f.ccOp, constant: 2)
            b.exitBlock(0)
        }
    }

    func testHelperFlagsDecideWhetherAWriteIsSeen() {
        assertOptimized(deadStores, """
            call helper_pure, eax
            movi_i32 cc_op, $0x2
            call helper_nofault
            movi_i32 cc_op, $0x3
            call helper_nostate, eax
            movi_i32 cc_op, $0x5
            exit_tb $0
            """) { f, b in
            b.move(into: f.ccOp, constant: 1)  // dead: the pure helper cannot see it
            b.call(f.helperPure, [f.eax])
            b.move(into: f.ccOp, constant: 2)  // read through the state
            b.call(f.helperNoFault)
            b.move(into: f.ccOp, constant: 3)  // seen if the helper faults
            b.call(f.helperNoState, [f.eax])
            b.move(into: f.ccOp, constant: 4)  // read by nothing
            b.move(into: f.ccOp, constant: 5)
            b.exitBlock(0)
        }
    }

    func testAWriteSeenOnOnePathIsKept() {
        assertOptimized(deadStores, """
            movi_i32 cc_op, $0x1
            brcond_i32 eax, ecx, eq, L0
            movi_i32 cc_op, $0x2
            label L0
            exit_tb $0
            """) { f, b in
            let label = b.newLabel()
            b.move(into: f.ccOp, constant: 1)
            b.branch(if: .eq, f.eax, f.ecx, to: label)
            b.move(into: f.ccOp, constant: 2)
            b.setLabel(label)
            b.exitBlock(0)
        }
    }

    func testAWriteOverwrittenOnEveryPathIsRemoved() {
        assertOptimized(deadStores, """
            brcond_i32 eax, ecx, eq, L0
            movi_i32 cc_op, $0x2
            exit_tb $0
            label L0
            movi_i32 cc_op, $0x3
            exit_tb $1
            """) { f, b in
            let label = b.newLabel()
            b.move(into: f.ccOp, constant: 1)
            b.branch(if: .eq, f.eax, f.ecx, to: label)
            b.move(into: f.ccOp, constant: 2)
            b.exitBlock(0)
            b.setLabel(label)
            b.move(into: f.ccOp, constant: 3)
            b.exitBlock(1)
        }
    }

    func testAWriteReadBeforeItIsOverwrittenIsKept() {
        assertOptimized(deadStores, """
            mov_i32 cc_dst, eax
            add_i32 ecx, cc_dst, ecx
            mov_i32 cc_dst, ecx
            ld_state_i32 t8, u32 @64
            movi_i32 cc_dst, $0x0
            exit_tb $0
            """) { f, b in
            b.move(into: f.ccDst, f.eax)
            b.binary(.add, into: f.ecx, f.ccDst, f.ecx)
            b.move(into: f.ccDst, f.ecx)
            _ = b.loadState(offset: 64, .u32)  // may read cc_dst through the state
            b.move(into: f.ccDst, constant: 0)
            b.exitBlock(0)
        }
    }
}

final class DeadStoreRoundsTests: XCTestCase {
    func testAStoreSeenOnlyByAnUnusedStateReaderGoesWithIt() {
        assertOptimized([DeadStoreRounds()], """
            movi_i32 cc_op, $0x2
            exit_tb $0
            """) { f, b in
            // Like a rotate's flags helper: reads the state, no fault, no effect.
            let reader = f.helpers.register(Helper("helper_reader", [.noFault, .noSideEffects], { _, a, _, _ in a }))
            b.move(into: f.ccOp, constant: 1)
            _ = b.call(reader, [f.eax])
            b.move(into: f.ccOp, constant: 2)
            b.exitBlock(0)
        }
    }

    func testStoresFreedInALaterBasicBlockAreRemovedToo() {
        // The reader sits after the branch: its removal frees the store
        // before the branch only in a second liveness round.
        assertOptimized([DeadStoreRounds()], """
            brcond_i32 eax, ecx, eq, L0
            label L0
            movi_i32 cc_op, $0x2
            exit_tb $0
            """) { f, b in
            let reader = f.helpers.register(Helper("helper_reader", [.noFault, .noSideEffects], { _, a, _, _ in a }))
            let label = b.newLabel()
            b.move(into: f.ccOp, constant: 1)
            b.branch(if: .eq, f.eax, f.ecx, to: label)
            b.setLabel(label)
            _ = b.call(reader, [f.eax])
            b.move(into: f.ccOp, constant: 2)
            b.exitBlock(0)
        }
    }
}

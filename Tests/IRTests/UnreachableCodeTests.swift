import XCTest
@testable import IR

final class UnreachableCodeTests: XCTestCase {
    private let unreachable: [any IRPass] = [UnreachableCode()]

    func testCodeAfterAJumpOrExitUpToATargetedLabelIsRemoved() {
        assertOptimized(unreachable, """
            brcond_i32 eax, ecx, eq, L0
            br L1
            label L0
            exit_tb $1
            label L1
            movi_i32 edx, $0x3
            exit_tb $2
            """) { f, b in
            let (target, other, untargeted) = (b.newLabel(), b.newLabel(), b.newLabel())
            _ = untargeted
            b.branch(if: .eq, f.eax, f.ecx, to: target)
            b.branch(to: other)
            b.move(into: f.edx, constant: 1)
            b.setLabel(target)
            b.exitBlock(1)
            b.move(into: f.edx, constant: 2)
            b.setLabel(b.newLabel())  // nothing branches here: still unreachable
            b.move(into: f.edx, constant: 5)
            b.setLabel(other)
            b.move(into: f.edx, constant: 3)
            b.exitBlock(2)
            b.move(into: f.edx, constant: 4)
        }
    }

    func testAnUntargetedLabelAfterFallThroughIsRemoved() {
        assertOptimized(unreachable, """
            mov_i32 eax, ecx
            mov_i32 edx, eax
            exit_tb $0
            """) { f, b in
            b.move(into: f.eax, f.ecx)
            b.setLabel(b.newLabel())
            b.move(into: f.edx, f.eax)
            b.exitBlock(0)
        }
    }

    func testABranchToTheNextOpIsRemoved() {
        assertOptimized(unreachable, """
            mov_i32 eax, ecx
            exit_tb $0
            """) { f, b in
            let next = b.newLabel(), alsoNext = b.newLabel()
            b.branch(if: .lt, f.eax, f.ecx, to: next)
            b.setLabel(next)
            b.branch(to: alsoNext)
            b.setLabel(alsoNext)
            b.move(into: f.eax, f.ecx)
            b.exitBlock(0)
        }
    }

    func testALoopIsKept() {
        assertOptimized(unreachable, """
            label L0
            sub_i32 eax, eax, ecx
            brcond_i32 eax, ecx, ne, L0
            exit_tb $0
            """) { f, b in
            let top = b.newLabel()
            b.setLabel(top)
            b.binary(.sub, into: f.eax, f.eax, f.ecx)
            b.branch(if: .ne, f.eax, f.ecx, to: top)
            b.exitBlock(0)
        }
    }
}

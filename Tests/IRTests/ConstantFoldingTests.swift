import XCTest
@testable import IR

final class ConstantFoldingTests: XCTestCase {
    private let fold: [any IRPass] = [ConstantFolding()]

    private func hex(_ value: UInt64) -> String { "$0x" + String(value, radix: 16) }

    /// `opcode` on constant inputs becomes a `movi` of `expected` into a global.
    private func assertFolds(_ opcode: IROpcode, _ type: IRType, aux: UInt8 = 0, constant: UInt64 = 0,
                             _ inputs: [UInt64], _ expected: UInt64, line: UInt = #line) {
        let resultType = opcode.resultType(type)
        let inputType: IRType = opcode == .extu32to64 || opcode == .exts32to64 ? .i32
            : (opcode == .low64to32 || opcode == .high64to32 ? .i64 : type)
        var lines: [String] = []
        let fixture = Fixture()
        let (block, builder) = fixture.newBlock()
        var op = IROp(opcode, type, output: resultType == .i32 ? fixture.eax : fixture.rsi, aux: aux, constant: constant)
        for (position, value) in inputs.enumerated() {
            op.setInput(position, builder.constant(value, inputType))
            lines.append("movi_\(inputType) t\(8 + position), \(hex(value & inputType.mask))")
        }
        block.ops.append(op)
        builder.exitBlock(0)
        lines.append("movi_\(resultType) \(resultType == .i32 ? "eax" : "rsi"), \(hex(expected))")
        lines.append("exit_tb $0")
        optimize(block, fold, line: line)
        assertIR(block, lines.joined(separator: "\n"), line: line)
    }

    func testFoldsEveryArithmeticOpOnConstants() {
        assertFolds(.add, .i32, [0xFFFF_FFFF, 3], 2)
        assertFolds(.sub, .i64, [1, 2], ~0)
        assertFolds(.mul, .i32, [0x10001, 0x10001], 0x20001)
        assertFolds(.and, .i32, [0xF0F0, 0xFF00], 0xF000)
        assertFolds(.or, .i32, [0xF0F0, 0xFF00], 0xFFF0)
        assertFolds(.xor, .i32, [0xF0F0, 0xFF00], 0x0FF0)
        assertFolds(.shl, .i32, [3, 33], 6)
        assertFolds(.shr, .i64, [0x8000_0000_0000_0000, 63], 1)
        assertFolds(.sar, .i32, [0x8000_0000, 31], 0xFFFF_FFFF)
        assertFolds(.rotl, .i32, [0x8000_0000, 1], 1)
        assertFolds(.rotr, .i64, [1, 4], 0x1000_0000_0000_0000)
        assertFolds(.neg, .i32, [5], 0xFFFF_FFFB)
        assertFolds(.not, .i64, [0], ~0)
        assertFolds(.mov, .i32, [7], 7)
    }

    func testFoldsExtensionsAndConversions() {
        assertFolds(.ext8s, .i32, [0xF0], 0xFFFF_FFF0)
        assertFolds(.ext8u, .i32, [0x1F0], 0xF0)
        assertFolds(.ext16s, .i64, [0x8001], 0xFFFF_FFFF_FFFF_8001)
        assertFolds(.ext16u, .i32, [0x1_8001], 0x8001)
        assertFolds(.ext32s, .i64, [0xFFFF_FFFF], ~0)
        assertFolds(.ext32u, .i64, [~0], 0xFFFF_FFFF)
        assertFolds(.extu32to64, .i32, [0x8000_0000], 0x8000_0000)
        assertFolds(.exts32to64, .i32, [0x8000_0000], 0xFFFF_FFFF_8000_0000)
        assertFolds(.low64to32, .i64, [0x1_0000_0002], 2)
        assertFolds(.high64to32, .i64, [0x1_0000_0002], 1)
    }

    func testFoldsBitFieldsAndConditions() {
        assertFolds(.deposit, .i32, aux: 4, constant: 8, [0xFFFF_FFFF, 0], 0xFFFF_F00F)
        assertFolds(.extract, .i32, aux: 4, constant: 8, [0x1234], 0x23)
        assertFolds(.sextract, .i64, aux: 0, constant: 8, [0x80], 0xFFFF_FFFF_FFFF_FF80)
        assertFolds(.setcond, .i32, aux: Condition.gt.rawValue, [1, 0xFFFF_FFFF], 1)
        assertFolds(.setcond, .i32, aux: Condition.gtu.rawValue, [1, 0xFFFF_FFFF], 0)
        assertFolds(.movcond, .i32, aux: Condition.ne.rawValue, [1, 2, 3, 4], 3)
    }

    /// Each identity with one unknown input (`eax`, from a state load).
    private func assertIdentity(_ opcode: IROpcode, _ type: IRType = .i32, known: UInt64, knownFirst: Bool = false,
                                _ expected: String, line: UInt = #line) {
        assertOptimized(fold, """
            ld_state_\(type) t8, u32 @64
            movi_\(type) t9, \(hex(known))
            \(expected)
            exit_tb $0
            """, line: line) { f, b in
            let x = b.loadState(offset: 64, .u32, type)
            let c = b.constant(known, type)
            b.binary(opcode, into: type == .i32 ? f.eax : f.rsi, knownFirst ? c : x, knownFirst ? x : c, type)
            b.exitBlock(0)
        }
    }

    func testAlgebraicIdentities() {
        assertIdentity(.add, known: 0, "mov_i32 eax, t8")
        assertIdentity(.add, known: 0, knownFirst: true, "mov_i32 eax, t8")
        assertIdentity(.sub, known: 0, "mov_i32 eax, t8")
        assertIdentity(.mul, known: 0, "movi_i32 eax, $0x0")
        assertIdentity(.mul, known: 1, knownFirst: true, "mov_i32 eax, t8")
        assertIdentity(.and, known: 0, "movi_i32 eax, $0x0")
        assertIdentity(.and, known: 0xFFFF_FFFF, "mov_i32 eax, t8")
        assertIdentity(.and, .i64, known: ~0, knownFirst: true, "mov_i64 rsi, t8")
        assertIdentity(.or, known: 0, "mov_i32 eax, t8")
        assertIdentity(.or, known: 0xFFFF_FFFF, "movi_i32 eax, $0xffffffff")
        assertIdentity(.or, .i64, known: ~0, "movi_i64 rsi, $0xffffffffffffffff")
        assertIdentity(.xor, known: 0, knownFirst: true, "mov_i32 eax, t8")
        assertIdentity(.shl, known: 0, "mov_i32 eax, t8")
        assertIdentity(.shr, known: 32, "mov_i32 eax, t8")  // the count is taken modulo 32
        assertIdentity(.sar, .i64, known: 64, "mov_i64 rsi, t8")
        assertIdentity(.rotl, known: 0, "mov_i32 eax, t8")
        assertIdentity(.shl, known: 0, knownFirst: true, "movi_i32 eax, $0x0")
        assertIdentity(.sar, known: 0xFFFF_FFFF, knownFirst: true, "movi_i32 eax, $0xffffffff")
        assertIdentity(.rotr, known: 0xFFFF_FFFF, knownFirst: true, "movi_i32 eax, $0xffffffff")
        // Not identities: a partial mask, a shift of all ones.
        assertIdentity(.and, known: 0xFF, "and_i32 eax, t8, t9")
        assertIdentity(.shl, known: 0xFFFF_FFFF, knownFirst: true, "shl_i32 eax, t9, t8")
    }

    func testSameOperandIdentitiesSeeThroughCopies() {
        assertOptimized(fold, """
            ld_state_i32 t8, u32 @64
            mov_i32 t9, t8
            movi_i32 eax, $0x0
            movi_i32 ecx, $0x0
            mov_i32 edx, t8
            mov_i32 ebx, t9
            movi_i32 cc_op, $0x1
            movi_i32 cc_src, $0x0
            movi_i32 cc_dst, $0x1
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32)
            let y = b.copy(x)
            b.binary(.xor, into: f.eax, x, y)
            b.binary(.sub, into: f.ecx, y, x)
            b.binary(.and, into: f.edx, x, y)
            b.binary(.or, into: f.ebx, y, x)
            b.block.ops.append(IROp(.setcond, output: f.ccOp, inputs: (x, y, .none, .none), aux: Condition.geu.rawValue))
            b.block.ops.append(IROp(.setcond, output: f.ccSrc, inputs: (y, x, .none, .none), aux: Condition.lt.rawValue))
            b.block.ops.append(IROp(.setcond, output: f.ccDst, inputs: (y, x, .none, .none), aux: Condition.le.rawValue))
            b.exitBlock(0)
        }
    }

    func testFullWidthBitFieldsAreMoves() {
        assertOptimized(fold, """
            ld_state_i32 t8, u32 @64
            mov_i32 eax, t8
            mov_i32 ecx, t8
            deposit_i32 edx, eax, t8, 0, 31
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32)
            b.deposit(into: f.eax, f.eax, x, position: 0, size: 32)
            b.block.ops.append(IROp(.extract, output: f.ecx, inputs: (x, .none, .none, .none), aux: 0, constant: 32))
            b.deposit(into: f.edx, f.eax, x, position: 0, size: 31)
            b.exitBlock(0)
        }
    }

    func testMovcondWithKnownConditionOrEqualArms() {
        assertOptimized(fold, """
            ld_state_i32 t8, u32 @64
            ld_state_i32 t9, u32 @72
            movi_i32 t10, $0x0
            mov_i32 t11, t8
            mov_i32 eax, t11
            mov_i32 ecx, t9
            movcond_i32 edx, t8, t10, t8, t9, eq
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32), y = b.loadState(offset: 72, .u32)
            let zero = b.constant(0)
            let then1 = b.movcond(.ltu, x, zero, then: y, else: x)  // nothing is below zero
            b.move(into: f.eax, then1)
            b.block.ops.append(IROp(.movcond, output: f.ecx, inputs: (x, y, y, y), aux: Condition.lt.rawValue))
            b.block.ops.append(IROp(.movcond, output: f.edx, inputs: (x, zero, x, y), aux: Condition.eq.rawValue))
            b.exitBlock(0)
        }
    }

    func testUnsignedComparisonsWithZero() {
        assertOptimized(fold, """
            ld_state_i32 t8, u32 @64
            movi_i32 t9, $0x0
            movi_i32 eax, $0x1
            movi_i32 ecx, $0x0
            movi_i32 edx, $0x1
            setcond_i32 ebx, t8, t9, lt
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32), zero = b.constant(0)
            b.block.ops.append(IROp(.setcond, output: f.eax, inputs: (x, zero, .none, .none), aux: Condition.geu.rawValue))
            b.block.ops.append(IROp(.setcond, output: f.ecx, inputs: (zero, x, .none, .none), aux: Condition.gtu.rawValue))
            b.block.ops.append(IROp(.setcond, output: f.edx, inputs: (x, zero, .none, .none), aux: Condition.testEq.rawValue))
            // Signed comparisons with zero depend on the value.
            b.block.ops.append(IROp(.setcond, output: f.ebx, inputs: (x, zero, .none, .none), aux: Condition.lt.rawValue))
            b.exitBlock(0)
        }
    }

    func testConstantsPropagateThroughMovesAndChains() {
        assertOptimized(fold, """
            movi_i32 t8, $0x10
            movi_i32 t9, $0x10
            movi_i32 t10, $0x1
            movi_i32 t11, $0x11
            movi_i32 t12, $0x22
            movi_i32 eax, $0x22
            exit_tb $0
            """) { f, b in
            let a = b.constant(0x10)
            let c = b.copy(a)
            let sum = b.add(c, 1)
            let double = b.add(sum, sum)
            b.move(into: f.eax, double)
            b.exitBlock(0)
        }
    }

    func testRedundantConstantStoresAreDropped() {
        assertOptimized(fold, """
            movi_i32 cc_op, $0x3
            insn_start $0x1001
            mov_i32 eax, ecx
            exit_tb $0
            """) { f, b in
            b.move(into: f.ccOp, constant: 3)
            b.instructionStart(0x1001)
            b.move(into: f.ccOp, constant: 3)
            b.move(into: f.eax, f.ecx)
            b.move(into: f.eax, f.ecx)
            b.exitBlock(0)
        }
    }

    func testBranchWithKnownOutcomeBecomesJumpOrDisappears() {
        assertOptimized(fold, """
            movi_i32 t8, $0x1
            movi_i32 t9, $0x2
            movi_i32 ecx, $0x2
            br L1
            movi_i32 eax, $0x1
            label L1
            exit_tb $0
            label L0
            exit_tb $1
            """) { f, b in
            let one = b.constant(1), two = b.constant(2)
            let notTaken = b.newLabel(), taken = b.newLabel()
            b.branch(if: .eq, one, two, to: notTaken)
            b.move(into: f.ecx, constant: 2)
            b.branch(if: .ltu, one, two, to: taken)
            b.move(into: f.eax, constant: 1)
            b.setLabel(taken)
            b.exitBlock(0)
            b.setLabel(notTaken)
            b.exitBlock(1)
        }
    }

    func testBranchOnSameTempIsDecided() {
        assertOptimized(fold, """
            ld_state_i32 t8, u32 @64
            br L0
            label L0
            exit_tb $0
            """) { f, b in
            let x = b.loadState(offset: 64, .u32)
            let target = b.newLabel()
            b.branch(if: .leu, x, x, to: target)
            b.setLabel(target)
            b.exitBlock(0)
        }
    }

    func testFactsAreDroppedAtLabels() {
        // Another path may reach L0 with t8 changed.
        assertOptimized(fold, """
            movi_i32 t8, $0x1
            label L0
            add_i32 eax, t8, t8
            sub_i32 t8, t8, ecx
            brcond_i32 t8, ecx, ne, L0
            exit_tb $0
            """) { f, b in
            let x = b.constant(1)
            let top = b.newLabel()
            b.setLabel(top)
            b.binary(.add, into: f.eax, x, x)
            b.binary(.sub, into: x, x, f.ecx)
            b.branch(if: .ne, x, f.ecx, to: top)
            b.exitBlock(0)
        }
    }

    func testGlobalFactsDieAtStateTouchingOps() {
        assertOptimized(fold, """
            movi_i32 eax, $0x5
            call helper_state
            add_i32 ecx, eax, eax
            movi_i32 eax, $0x5
            call helper_nostate, ecx
            movi_i32 edx, $0xa
            exit_tb $0
            """) { f, b in
            b.move(into: f.eax, constant: 5)
            b.call(f.helperState)
            b.binary(.add, into: f.ecx, f.eax, f.eax)
            b.move(into: f.eax, constant: 5)
            b.call(f.helperNoState, [f.ecx])
            b.binary(.add, into: f.edx, f.eax, f.eax)
            b.exitBlock(0)
        }
    }
}

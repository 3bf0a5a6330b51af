import XCTest
@testable import IR

final class ValidatorTests: XCTestCase {
    private func errors(_ build: (Fixture, IRBuilder) -> Void) -> [String] {
        let fixture = Fixture()
        let (block, builder) = fixture.newBlock()
        build(fixture, builder)
        return IRValidator.validate(block).map(\.description)
    }

    func testAWellFormedBlockHasNoErrors() {
        XCTAssertEqual(errors { f, b in
            let x = b.loadGuest(f.eax, .u32, mmu: 0)
            let wide = b.unary(.extu32to64, x)
            b.binary(.add, into: f.rsi, f.rsi, wide, .i64)
            let label = b.newLabel()
            let y = b.newTemp()
            b.branch(if: .eq, x, f.ecx, to: label)
            b.move(into: y, constant: 1)
            b.exitBlock(0)
            b.setLabel(label)
            b.move(into: y, constant: 2)
            _ = b.setcond(.lt, y, x)
            b.call(f.helperState, [x, wide])
            b.gotoBlock(slot: 1)
        }, [])
    }

    func testReadingALocalNeverWritten() {
        XCTAssertEqual(errors { f, b in
            b.move(into: f.eax, b.newTemp())
            b.exitBlock(0)
        }, ["op 0: `mov_i32 eax, t8` reads t8 before it is written on some path"])
    }

    func testReadingALocalWrittenOnOnlyOnePath() {
        XCTAssertEqual(errors { f, b in
            let x = b.newTemp(), skip = b.newLabel()
            b.branch(if: .eq, f.eax, f.ecx, to: skip)
            b.move(into: x, constant: 1)
            b.setLabel(skip)
            b.move(into: f.edx, x)
            b.exitBlock(0)
        }, ["op 3: `mov_i32 edx, t8` reads t8 before it is written on some path"])
    }

    func testALocalWrittenInALoopBodyIsNotDefinedAtTheLoopTop() {
        XCTAssertEqual(errors { f, b in
            let x = b.newTemp(), top = b.newLabel()
            b.setLabel(top)
            b.binary(.add, into: f.eax, f.eax, x)
            b.move(into: x, f.ecx)
            b.branch(if: .ne, f.eax, f.ecx, to: top)
            b.exitBlock(0)
        }, ["op 1: `add_i32 eax, eax, t8` reads t8 before it is written on some path"])
    }

    func testTypeMismatches() {
        XCTAssertEqual(errors { f, b in
            b.binary(.add, into: f.eax, f.eax, f.rsi)
            b.block.ops.append(IROp(.extu32to64, .i32, output: f.eax, inputs: (f.ecx, .none, .none, .none)))
            b.block.ops.append(IROp(.ext32u, .i32, output: f.eax, inputs: (f.ecx, .none, .none, .none)))
            b.exitBlock(0)
        }, [
            "op 0: `add_i32 eax, eax, rsi`: input 2 is i64, expected i32",
            "op 1: `extu_i32_i64_i32 eax, ecx`: the output is i32, expected i64",
            "op 2: `ext32u_i32 eax, ecx`: 32-bit extension exists only in i64",
        ])
    }

    func testOperandCountsAndImmediates() {
        XCTAssertEqual(errors { f, b in
            b.block.ops.append(IROp(.add, output: f.eax, inputs: (f.eax, .none, .none, .none)))
            b.block.ops.append(IROp(.neg, output: f.eax, inputs: (f.eax, f.ecx, .none, .none)))
            b.block.ops.append(IROp(.movi, constant: 1))
            b.block.ops.append(IROp(.movi, output: f.eax, constant: 0x1_0000_0000))
            b.deposit(into: f.eax, f.eax, f.ecx, position: 24, size: 16)
            b.block.ops.append(IROp(.setcond, output: f.eax, inputs: (f.eax, f.ecx, .none, .none), aux: 99))
            b.gotoBlock(slot: 2)
        }, [
            "op 0: `add_i32 eax, eax`: lacks input 2",
            "op 1: `neg_i32 eax, eax`: has an input 2 it does not take",
            "op 2: `movi_i32 $0x1`: lacks its output",
            "op 3: `movi_i32 eax, $0x100000000`: constant does not fit i32",
            "op 4: `deposit_i32 eax, eax, ecx, 24, 16`: bit field 24, 16 does not fit i32",
            "op 5: `setcond_i32 eax, eax, ecx, never`: condition 99 does not exist",
            "op 6: `goto_tb $2`: chaining slot 2 does not exist",
        ])
    }

    func testLabels() {
        XCTAssertEqual(errors { f, b in
            let once = b.newLabel(), never = b.newLabel()
            b.setLabel(once)
            b.branch(if: .eq, f.eax, f.ecx, to: never)
            b.setLabel(once)
            b.block.ops.append(IROp(.br, constant: 7))
        }, [
            "op 3: `br L7`: label L7 was never created",
            "op 2: label L0 is already set at op 0",
            "op 1: `brcond_i32 eax, ecx, eq, L1` branches to L1, which is never set",
        ])
    }

    func testTempsThatDoNotExist() {
        XCTAssertEqual(errors { f, b in
            b.block.ops.append(IROp(.mov, output: Temp(300), inputs: (f.eax, .none, .none, .none)))
            b.exitBlock(0)
        }, ["op 0: `mov out t300, in t0 - - - #0`: its output is not a temp of this block"])
    }

    func testCallChecks() {
        XCTAssertEqual(errors { f, b in
            b.block.ops.append(IROp(.call, .i32, output: f.rsi, aux: 0, constant: UInt64(f.helperState)))
            b.block.ops.append(IROp(.call, .i64, aux: 0, constant: UInt64(f.helperPure)))
            b.block.ops.append(IROp(.call, .i64, aux: 0, constant: 40))
            b.exitBlock(0)
        }, [
            "op 0: `call helper_state, rsi`: the result is i64, expected i32",
            "op 1: `call helper_pure`: flags 0 differ from the helper's",
            "op 2: `call out -, in - - - - #40`: helper 40 is not registered",
        ])
    }
}

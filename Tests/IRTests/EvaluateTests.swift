import XCTest
@testable import IR

/// The shared value semantics, checked against hand-computed results.
final class EvaluateTests: XCTestCase {
    private func check(_ opcode: IROpcode, _ type: IRType, aux: UInt8 = 0, constant: UInt64 = 0,
                       _ inputs: [UInt64], _ expected: UInt64, line: UInt = #line) {
        let x = inputs + Array(repeating: 0, count: 4 - inputs.count)
        let result = evaluate(opcode, type: type, aux: aux, constant: constant, x[0], x[1], x[2], x[3])
        XCTAssertEqual(result, expected, "\(opcode.name)_\(type) \(inputs.map { String($0, radix: 16) })", line: line)
    }

    func testArithmeticWrapsInItsType() {
        check(.add, .i32, [0xFFFF_FFFF, 2], 1)
        check(.add, .i64, [0xFFFF_FFFF, 2], 0x1_0000_0001)
        check(.sub, .i32, [1, 2], 0xFFFF_FFFF)
        check(.sub, .i64, [1, 2], ~0)
        check(.mul, .i32, [0x1_0000, 0x1_0000], 0)
        check(.mul, .i64, [0x1_0000, 0x1_0000], 0x1_0000_0000)
        check(.neg, .i32, [1], 0xFFFF_FFFF)
        check(.not, .i32, [0], 0xFFFF_FFFF)
        check(.not, .i64, [0], ~0)
        check(.and, .i32, [0xF0F0, 0xFF00], 0xF000)
        check(.or, .i32, [0xF0F0, 0xFF00], 0xFFF0)
        check(.xor, .i32, [0xF0F0, 0xFF00], 0x0FF0)
    }

    func testInputsAreTakenModuloTheirType() {
        check(.add, .i32, [0x1_0000_0001, 0], 1)
        check(.mov, .i32, [0xAB_0000_0001], 1)
    }

    func testShiftsAndRotatesTakeTheCountModuloTheWidth() {
        check(.shl, .i32, [1, 31], 0x8000_0000)
        check(.shl, .i32, [1, 32], 1)
        check(.shl, .i32, [1, 33], 2)
        check(.shl, .i64, [1, 63], 0x8000_0000_0000_0000)
        check(.shl, .i64, [1, 64], 1)
        check(.shr, .i32, [0x8000_0000, 31], 1)
        check(.shr, .i32, [0x8000_0000, 0xFFFF_FFFF], 1)
        check(.shr, .i64, [~0, ~0], 1)
        check(.sar, .i32, [0x8000_0000, 4], 0xF800_0000)
        check(.sar, .i32, [0x4000_0000, 4], 0x0400_0000)
        check(.sar, .i64, [0x8000_0000, 4], 0x0800_0000)
        check(.sar, .i64, [0x8000_0000_0000_0000, 63], ~0)
        check(.rotl, .i32, [0x8000_0001, 1], 3)
        check(.rotl, .i32, [0x1234_5678, 32], 0x1234_5678)
        check(.rotr, .i32, [3, 1], 0x8000_0001)
        check(.rotr, .i64, [1, 1], 0x8000_0000_0000_0000)
        check(.rotl, .i64, [0x8000_0000_0000_0000, 65], 1)
    }

    func testExtensions() {
        check(.ext8s, .i32, [0x80], 0xFFFF_FF80)
        check(.ext8s, .i64, [0x7F], 0x7F)
        check(.ext8s, .i64, [0x1FF], ~0)
        check(.ext8u, .i32, [0x1FF], 0xFF)
        check(.ext16s, .i32, [0x8000], 0xFFFF_8000)
        check(.ext16u, .i64, [0x1_8000], 0x8000)
        check(.ext32s, .i64, [0x8000_0000], 0xFFFF_FFFF_8000_0000)
        check(.ext32u, .i64, [0x1_8000_0000], 0x8000_0000)
        check(.extu32to64, .i32, [0x8000_0000], 0x8000_0000)
        check(.exts32to64, .i32, [0x8000_0000], 0xFFFF_FFFF_8000_0000)
        check(.low64to32, .i64, [0x1234_5678_9ABC_DEF0], 0x9ABC_DEF0)
        check(.high64to32, .i64, [0x1234_5678_9ABC_DEF0], 0x1234_5678)
    }

    func testBitFields() {
        check(.deposit, .i32, aux: 8, constant: 8, [0x1122_3344, 0xAB], 0x1122_AB44)
        check(.deposit, .i32, aux: 0, constant: 32, [0x1122_3344, 0xAB], 0xAB)
        check(.deposit, .i64, aux: 60, constant: 4, [0, 0xFF], 0xF000_0000_0000_0000)
        check(.deposit, .i64, aux: 0, constant: 64, [5, ~0], ~0)
        check(.extract, .i32, aux: 8, constant: 8, [0x1122_3344], 0x33)
        check(.extract, .i64, aux: 0, constant: 64, [~0], ~0)
        check(.sextract, .i32, aux: 4, constant: 4, [0x80], 0xFFFF_FFF8)
        check(.sextract, .i32, aux: 4, constant: 4, [0x70], 7)
        check(.sextract, .i64, aux: 32, constant: 32, [0x8000_0000_0000_0000], 0xFFFF_FFFF_8000_0000)
    }

    func testConditions() {
        check(.setcond, .i32, aux: Condition.lt.rawValue, [0xFFFF_FFFF, 0], 1)
        check(.setcond, .i64, aux: Condition.lt.rawValue, [0xFFFF_FFFF, 0], 0)
        check(.setcond, .i32, aux: Condition.ltu.rawValue, [0xFFFF_FFFF, 0], 0)
        check(.setcond, .i32, aux: Condition.testNe.rawValue, [6, 3], 1)
        check(.setcond, .i32, aux: Condition.testEq.rawValue, [4, 3], 1)
        check(.setcond, .i32, aux: Condition.always.rawValue, [0, 0], 1)
        check(.movcond, .i32, aux: Condition.eq.rawValue, [1, 1, 10, 20], 10)
        check(.movcond, .i32, aux: Condition.gtu.rawValue, [1, 2, 10, 20], 20)
    }

    func testMoves() {
        check(.movi, .i32, constant: 42, [], 42)
        check(.mov, .i64, [~0], ~0)
    }
}

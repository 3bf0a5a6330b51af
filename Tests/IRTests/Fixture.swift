import XCTest
@testable import IR

/// A small guest for the tests: a few 32-bit registers, one 64-bit one,
/// lazy-flags globals, and helpers with each combination of flags.
final class Fixture {
    let globals: GlobalSet
    let helpers = HelperTable()
    let eax, ecx, edx, ebx, rsi, ccSrc, ccDst, ccOp: Temp
    /// Reads and writes the state, may fault.
    let helperState: UInt32
    /// Leaves the state alone but may fault.
    let helperNoState: UInt32
    /// Removable when unused.
    let helperPure: UInt32
    /// Touches the state, never faults.
    let helperNoFault: UInt32
    /// State offsets outside the globals.
    let scratchOffsets = [64, 72]

    init() {
        var set = GlobalSet()
        eax = set.declare("eax", .i32, offset: 0)
        ecx = set.declare("ecx", .i32, offset: 8)
        edx = set.declare("edx", .i32, offset: 16)
        ebx = set.declare("ebx", .i32, offset: 24)
        rsi = set.declare("rsi", .i64, offset: 32)
        ccSrc = set.declare("cc_src", .i32, offset: 40)
        ccDst = set.declare("cc_dst", .i32, offset: 48)
        ccOp = set.declare("cc_op", .i32, offset: 56)
        globals = set
        // The optimizer never calls helpers; the reference evaluator models them by index.
        helperState = helpers.register(Helper("helper_state", [], { _, a, _, _ in a }))
        helperNoState = helpers.register(Helper("helper_nostate", [.noState], { _, a, _, _ in a }))
        helperPure = helpers.register(Helper("helper_pure", .pure, { _, a, b, _ in a &+ b }))
        helperNoFault = helpers.register(Helper("helper_nofault", [.noFault], { _, a, _, _ in a }))
    }

    var globals32: [Temp] { [eax, ecx, edx, ebx, ccSrc, ccDst, ccOp] }
    var globals64: [Temp] { [rsi] }

    func newBlock() -> (IRBlock, IRBuilder) {
        let block = IRBlock(globals: globals, helpers: helpers)
        return (block, IRBuilder(block))
    }
}

/// Runs `passes` with validation on, failing the test on invalid output.
func optimize(_ block: IRBlock, _ passes: [any IRPass], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertNoThrow(try PassManager(passes: passes, validates: true).runChecked(on: block), file: file, line: line)
}

/// Compares the printed block with `expected` (surrounding blank lines and
/// each line's indentation ignored, so expectations can be indented literals).
func assertIR(_ block: IRBlock, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    let wanted = expected.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }.joined(separator: "\n")
    XCTAssertEqual(block.description, wanted, "\n--- got:\n\(block.description)\n--- expected:\n\(wanted)",
                   file: file, line: line)
}

/// Builds a block, optimizes it with `passes` and compares the result.
func assertOptimized(_ passes: [any IRPass], _ expected: String, file: StaticString = #filePath, line: UInt = #line,
                     build: (Fixture, IRBuilder) -> Void) {
    let fixture = Fixture()
    let (block, builder) = fixture.newBlock()
    build(fixture, builder)
    XCTAssertEqual(IRValidator.validate(block), [], "test input is invalid", file: file, line: line)
    optimize(block, passes, file: file, line: line)
    assertIR(block, expected, file: file, line: line)
}

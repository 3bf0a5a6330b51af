import XCTest
@testable import IR

/// Random blocks must do exactly the same thing before and after
/// optimization: same exit (or fault at the same instruction), same globals,
/// same CPU state and memory, from many random starting states.
final class OptimizerPropertyTests: XCTestCase {
    private let pipelines: [(String, [any IRPass])] = [
        ("constant folding", [ConstantFolding()]),
        ("copy propagation", [CopyPropagation()]),
        ("dead code elimination", [DeadCodeElimination()]),
        ("dead global stores", [DeadGlobalStores()]),
        ("unreachable code", [UnreachableCode()]),
        ("standard", PassManager.standardPasses),
        ("standard twice", PassManager.standardPasses + PassManager.standardPasses),
    ]

    func testStraightLineBlocksKeepTheirMeaning() {
        checkRandomBlocks(seeds: 0..<300, branchy: false)
    }

    func testBranchyBlocksKeepTheirMeaning() {
        checkRandomBlocks(seeds: 1000..<1300, branchy: true)
    }

    private func checkRandomBlocks(seeds: Range<UInt64>, branchy: Bool) {
        var before = 0, after = 0
        var outcomes: [String: Int] = [:]
        for seed in seeds {
            for (name, passes) in pipelines {
                let fixture = Fixture()
                var generator = RandomBlockGenerator(seed: seed, fixture: fixture, branchy: branchy)
                let block = generator.generate()
                let errors = IRValidator.validate(block)
                guard errors.isEmpty else {
                    return XCTFail("seed \(seed): the generator made invalid IR: \(errors)\n\(block)")
                }
                let original = block.ops, originalText = block.description
                do {
                    try PassManager(passes: passes, validates: true).runChecked(on: block)
                } catch {
                    return XCTFail("seed \(seed), \(name): \(error)\noriginal:\n\(originalText)")
                }
                XCTAssertLessThanOrEqual(block.ops.count, original.count, "seed \(seed), \(name)")
                if name == "standard" { before += original.count; after += block.ops.count }

                var rng = SplitMix64(state: seed &* 31 &+ 7)
                let evaluator = ReferenceEvaluator(block: block, fixture: fixture)
                for _ in 0..<8 {
                    let globals = (0..<block.globalCount).map { index -> UInt64 in
                        (rng.chance(50) ? rng.pick(interestingValues) : rng.next()) & block.temps[index].type.mask
                    }
                    var expectedState = MachineState(globals: globals), actualState = expectedState
                    let expected = evaluator.run(original, &expectedState)
                    let actual = evaluator.run(block.ops, &actualState)
                    outcomes[outcomeKind(expected), default: 0] += 1
                    if expected != actual || expectedState != actualState {
                        return XCTFail("""
                            seed \(seed), \(name): behaviour changed from globals \(globals.map { String($0, radix: 16) })
                            expected \(expected), \(expectedState.globals.map { String($0, radix: 16) })
                            got      \(actual), \(actualState.globals.map { String($0, radix: 16) })
                            original:
                            \(originalText)
                            optimized:
                            \(block)
                            """)
                    }
                }
            }
        }
        // The pipeline must actually have had something to do.
        XCTAssertLessThan(Double(after), 0.9 * Double(before), "the optimizer removed almost nothing: \(before) -> \(after) ops")
        // And the blocks must have exercised every way out.
        for kind in ["exit", "goto", "fault"] {
            XCTAssertGreaterThan(outcomes[kind, default: 0], 0, "no run ended with \(kind): \(outcomes)")
        }
        XCTAssertEqual(outcomes["fellOffEnd", default: 0] + outcomes["tooLong", default: 0], 0, "\(outcomes)")
        print("\(branchy ? "branchy" : "straight-line") blocks: \(before) ops before, \(after) after the standard passes;"
              + " runs ended \(outcomes.sorted { $0.key < $1.key })")
    }

    private func outcomeKind(_ outcome: BlockOutcome) -> String {
        switch outcome {
        case .exit: return "exit"
        case .goto: return "goto"
        case .fault: return "fault"
        case .fellOffEnd: return "fellOffEnd"
        case .tooLong: return "tooLong"
        }
    }
}

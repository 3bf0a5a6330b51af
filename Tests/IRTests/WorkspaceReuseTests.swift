import XCTest
@testable import IR

/// Passes keep their working arrays from one block to the next: a pass
/// that has run on many blocks, large and small, straight and branchy,
/// must rewrite the next one exactly as a pass that never ran before.
final class WorkspaceReuseTests: XCTestCase {
    func testAReusedPipelineOptimizesLikeAFreshOne() {
        let reused = PassManager()
        var compared = 0
        for seed in UInt64(0)..<400 {
            let branchy = seed % 2 == 1
            var first = RandomBlockGenerator(seed: seed, fixture: Fixture(), branchy: branchy)
            var second = RandomBlockGenerator(seed: seed, fixture: Fixture(), branchy: branchy)
            let viaReused = first.generate(), viaFresh = second.generate()
            XCTAssertEqual(viaReused.description, viaFresh.description, "seed \(seed): the generator is not deterministic")
            reused.run(on: viaReused)
            PassManager().run(on: viaFresh)
            XCTAssertEqual(viaReused.description, viaFresh.description, "seed \(seed)\(branchy ? " (branchy)" : "")")
            compared += 1
        }
        XCTAssertEqual(compared, 400)
    }
}

import XCTest
import IR
@testable import X64Backend

/// `X64Backend.compile` keeps one code generator (its tables, label lists
/// and code buffer) from block to block: after any number of other blocks,
/// a block must get exactly the bytes a new generator gives it.
final class GeneratorReuseTests: XCTestCase {
    func testAReusedGeneratorEmitsWhatAFreshOneEmits() throws {
        for tlb in [nil, TestMachine.tlbLayout] {
            let configuration = X64BackendConfiguration(TestMachine.configuration, tlb: tlb)
            let shared = X64CodeGenerator.SharedExits(epilogue: 64, lookup: nil, loadCall: 96, storeCall: 128)
            var reused: X64CodeGenerator?
            for seed in UInt64(0)..<300 {
                var generator = RandomIRBlocks(seed: seed, guest: TestGuest())
                let block = generator.generate()
                if seed % 3 == 0 { try PassManager(validates: true).runChecked(on: block) }
                let fresh = try X64CodeGenerator(block, configuration: configuration)
                fresh.sharedExits = shared
                let expected = try fresh.generate()
                if let reused { try reused.prepare(block) } else { reused = try X64CodeGenerator(block, configuration: configuration) }
                reused!.sharedExits = shared
                XCTAssertEqual(try reused!.generate(), expected, "seed \(seed)\(tlb == nil ? "" : " (inline TLB)")")
                XCTAssertEqual(reused!.sharedJumps.map(\.site), fresh.sharedJumps.map(\.site), "seed \(seed)")
            }
        }
    }

    /// The shared exits sit at the start of the cache and survive flushes;
    /// blocks compiled before and after a flush leave through them.
    func testSharedExitsSurviveAFlush() throws {
        let backend = X64Backend(configuration: X64BackendConfiguration(TestMachine.configuration),
                                 cache: try CodeCache(capacity: 4096))
        let guest = TestGuest()
        for index in 0..<100 {
            let (block, builder) = guest.newBlock()
            builder.move(into: guest.eax, constant: UInt64(index))
            builder.exitBlock(UInt64(index))
            let compiled = try backend.compile(block)
            let state = TestState()
            XCTAssertEqual(backend.run(compiled, state: state.base), UInt64(index))
            XCTAssertEqual(state.u32(TestMachine.eax), UInt32(index))
        }
        XCTAssertGreaterThan(backend.cache.generation, 0)
        XCTAssertGreaterThan(backend.cache.sharedBytes, 0)
        XCTAssertGreaterThanOrEqual(backend.cache.used, backend.cache.sharedBytes)
    }
}

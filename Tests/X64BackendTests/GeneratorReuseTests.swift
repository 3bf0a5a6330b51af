import XCTest
import IR
@testable import X64Backend

/// `X64Backend.compile` keeps one code generator (its tables, label lists
/// and code buffer) from block to block: after any number of other blocks,
/// a block must get exactly the bytes a new generator gives it.
final class GeneratorReuseTests: XCTestCase {
    func testAReusedGeneratorEmitsWhatAFreshOneEmits() throws {
        for tlb in [nil, TestMachine.tlbLayout] {
            let backend = X64Backend(configuration: X64BackendConfiguration(TestMachine.configuration, tlb: tlb),
                                     cache: try CodeCache(capacity: 4 << 20))
            for seed in UInt64(0)..<300 {
                var generator = RandomIRBlocks(seed: seed, guest: TestGuest())
                let block = generator.generate()
                if seed % 3 == 0 { try PassManager(validates: true).runChecked(on: block) }
                let compiled = try backend.compile(block)
                let installed = Array(UnsafeRawBufferPointer(start: compiled.entry, count: compiled.size))
                XCTAssertEqual(installed, try backend.generateCode(block), "seed \(seed)\(tlb == nil ? "" : " (inline TLB)")")
            }
        }
    }
}

import XCTest
import IR
@testable import X64Backend

/// Random blocks run on the IR interpreter and on the JIT from the same
/// random state must leave the same state (globals, other fields, the fault
/// word, the instruction address, guest memory) and return the same code;
/// before and after the optimizer.
final class DifferentialTests: XCTestCase {
    func testRandomBlocksMatchTheInterpreter() throws {
        try checkRandomBlocks(seeds: 0..<1500, runsPerBlock: 4, tlb: nil)
    }

    /// The same with the JIT's inline TLB hit path, against load/store
    /// functions doing the same lookup (so hits never fault, misses may).
    func testRandomBlocksWithTheInlineTLBMatchTheInterpreter() throws {
        try checkRandomBlocks(seeds: 0..<1500, runsPerBlock: 4, tlb: TestMachine.tlbLayout)
    }

    private func checkRandomBlocks(seeds: Range<UInt64>, runsPerBlock: Int, tlb: TLBLayout?) throws {
        let backend = X64Backend(configuration: X64BackendConfiguration(TestMachine.configuration, tlb: tlb),
                                 cache: try CodeCache(capacity: 4 << 20))
        let interpreter = IRInterpreter(configuration: TestMachine.configuration)
        var outcomes: [String: Int] = [:]
        var blocks = 0, runs = 0, interpreterHits = 0
        for seed in seeds {
            let guest = TestGuest()
            var generator = RandomIRBlocks(seed: seed, guest: guest)
            let block = generator.generate()
            let errors = IRValidator.validate(block)
            guard errors.isEmpty else { return XCTFail("seed \(seed): invalid IR from the generator: \(errors)\n\(block)") }
            for optimized in [false, true] {
                if optimized { try PassManager(validates: true).runChecked(on: block) }
                let interpreted = try InterpretedBlock(block, configuration: TestMachine.configuration)
                let compiled = try backend.compile(block)
                blocks += 1
                var rng = SplitMix64(state: seed &* 0x9E37 &+ 11)
                for run in 0..<runsPerBlock {
                    let initial = randomState(&rng)
                    let expectedState = TestState(), actualState = TestState()
                    expectedState.copy(from: initial)
                    actualState.copy(from: initial)
                    TestMachine.functionHits = 0
                    let expected = interpreter.run(interpreted, state: expectedState.base)
                    interpreterHits += TestMachine.functionHits
                    TestMachine.functionHits = 0
                    let actual = backend.run(compiled, state: actualState.base)
                    if tlb != nil && TestMachine.functionHits != 0 {
                        return XCTFail("seed \(seed) run \(run): a TLB hit reached the load/store functions\n\(block)")
                    }
                    runs += 1
                    outcomes[kind(expected), default: 0] += 1
                    if expected != actual || expectedState.observed != actualState.observed {
                        let code = try backend.generateCode(block)
                        // objdump -D -b binary -mi386:x86-64 -M intel /tmp/x64backend-failure.bin
                        FileManager.default.createFile(atPath: "/tmp/x64backend-failure.bin", contents: Data(code))
                        return XCTFail("""
                            seed \(seed) run \(run)\(optimized ? " (optimized)" : ""): exit \(hexString(expected)) vs JIT \(hexString(actual))
                            \(differences(expectedState, actualState))
                            IR:
                            \(block)
                            """)
                    }
                }
            }
        }
        print("DifferentialTests\(tlb == nil ? "" : " (inline TLB)"): \(blocks) blocks, \(runs) runs agree; "
              + "exits \(outcomes.sorted { $0.key < $1.key }); \(interpreterHits) TLB hits in the interpreter's runs")
        if tlb != nil { XCTAssertGreaterThan(interpreterHits, 1000) }
        for required in ["exit", "goto", "fault"] { XCTAssertGreaterThan(outcomes[required, default: 0], 0, required) }
    }

    private func randomState(_ rng: inout SplitMix64) -> TestState {
        let state = TestState()
        for offset in stride(from: 0, to: TestMachine.observedBytes, by: 8) {
            state.set64(offset, rng.chance(30) ? rng.pick(edgeValues) : rng.next())
        }
        state.set32(TestMachine.faultOffset, UInt32(bitPattern: -1))
        state.set32(TestMachine.faultOffset + 4, 0)
        state.set64(TestMachine.instructionOffset, 0)
        randomTLB(state, &rng)
        // Garbage in the scratch slots: the JIT must not depend on them.
        for offset in stride(from: TestMachine.scratchOffset, to: TestMachine.tlbOffset, by: 8) { state.set64(offset, rng.next()) }
        return state
    }

    /// Per entry: invalid, valid for reads and writes, read-only, or tagged
    /// for the slow path (MMIO) or as a code page; the page is usually the
    /// one the test's constant addresses use (page 0), the 4 GiB wrap's last
    /// page for the last entry, or a random page of the right index. Hits
    /// stay inside the observed bytes.
    private func randomTLB(_ state: TestState, _ rng: inout SplitMix64) {
        for index in 0..<TestMachine.tlbMMUs * TestMachine.tlbEntries {
            let slot = UInt32(index % TestMachine.tlbEntries)
            var page = UInt32(truncatingIfNeeded: rng.next()) & ~0xF_FFFF | slot << 12
            if slot == 0 && rng.chance(70) { page = 0 }
            if slot == UInt32(TestMachine.tlbEntries - 1) && rng.chance(50) { page = 0xFFFF_F000 }
            // Half the valid entries map the page 2 KiB further on than the
            // functions' miss path does, so a wrong hit-or-miss decision shows.
            let shift = rng.chance(50) ? 0 : 0x800
            let addend = Int(bitPattern: state.base + TestMachine.memoryOffset + shift) &- Int(page)
            let (read, write): (UInt64, UInt64)
            let page64 = UInt64(page)
            switch rng.below(7) {
            case 0: (read, write) = (1, 1)
            case 1: (read, write) = (page64, 1)
            case 2: (read, write) = (page64 | 2, page64 | 2)
            case 3: (read, write) = (page64, page64 | 4)
            // The page 4 GiB further on: tags are 64 bits, no 32-bit address matches it.
            case 4: (read, write) = (page64 | 1 << 32, page64 | 1 << 32)
            default: (read, write) = (page64, page64)
            }
            state.setTLB(index, read: read, write: write, addend: addend)
        }
    }

    private func kind(_ exit: UInt64) -> String {
        if exit == BlockExit.fault { return "fault" }
        if exit & BlockExit.gotoSlot != 0 { return "goto" }
        return "exit"
    }

    /// The differing fields, named where they are known.
    private func differences(_ expected: TestState, _ actual: TestState) -> String {
        let names = [TestMachine.eax: "eax", TestMachine.ecx: "ecx", TestMachine.edx: "edx", TestMachine.ebx: "ebx",
                     TestMachine.rsi: "rsi", TestMachine.ccSrc: "cc_src", TestMachine.ccDst: "cc_dst", TestMachine.ccOp: "cc_op",
                     TestMachine.rdi: "rdi", TestMachine.faultOffset: "fault", TestMachine.instructionOffset: "insn"]
        var lines: [String] = []
        for offset in stride(from: 0, to: TestMachine.observedBytes, by: 4) where expected.u32(offset) != actual.u32(offset) {
            lines.append("  [\(offset)] \(names[offset] ?? names[offset - 4].map { $0 + ".hi" } ?? "state") interpreter "
                         + "\(String(expected.u32(offset), radix: 16)), JIT \(String(actual.u32(offset), radix: 16))")
        }
        return lines.joined(separator: "\n")
    }
}

func hexString(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

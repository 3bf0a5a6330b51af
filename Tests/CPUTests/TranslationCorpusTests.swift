import IR
@testable import CPURuntime
import X86Frontend
import X86State
import XCTest

/// Every opcode of the one- and two-byte maps through the whole translator:
/// each instruction the CPU has reaches a routine (no #UD), the extensions
/// it lacks raise #UD, nothing traps in any mode; and how fast it goes.
final class TranslationCorpusTests: XCTestCase {
    /// Whether the block raises #UD: a call of `raiseInterrupt` with vector 6.
    private func raisesInvalidOpcode(_ block: IRBlock) -> Bool {
        var constants: [Temp: UInt64] = [:]
        for op in block.ops {
            if op.opcode == .movi { constants[op.output] = op.constant }
            if op.opcode == .call, op.constant == UInt64(X86Helper.raiseInterrupt.index),
               constants[op.input(0)] == UInt64(ExceptionVector.invalidOpcode) {
                return true
            }
        }
        return false
    }

    func testEveryInstructionOfTheCPUHasATranslationAndTheRestRaiseInvalidOpcode() throws {
        let translator = TranslationCorpus.translator()
        // Encoded but not on this CPU: RSM (no SMM) and RDPMC (no counters).
        let notImplemented: Set<UInt16> = [0x0FAA, 0x0F33]
        for mode in TranslationCorpus.modes where mode.name == "pm32" {
            var checked = 0
            for bytes in TranslationCorpus.instructions(code32: true) {
                guard case let .instruction(decoded) = decode(bytes, codeSize32: true) else { continue }
                let code = try XCTUnwrap(translator.translate(eip: 0x1000, codeSegmentBase: 0, flags: mode.flags,
                                                              reader: TranslationCorpus.Code(bytes: bytes), maximumInstructions: 1))
                let built: [InstructionSet] = [.base, .x87, .mmx, .fxsr, .sse, .sse2, .sse3, .ssse3, .sse41, .sse42, .popcnt]
                let expectUD = !built.contains(decoded.isa)
                    || notImplemented.contains(decoded.opcode)
                XCTAssertEqual(raisesInvalidOpcode(code.block), expectUD,
                               bytes.map { String($0, radix: 16) }.joined(separator: " ") + " (\(decoded.isa))")
                checked += 1
            }
            XCTAssertGreaterThan(checked, 10_000)
        }
    }

    /// Translates the corpus in every mode (a trap fails the whole run), then
    /// times the 32-bit protected-mode pass: the best of five.
    func testTranslationOfTheCorpusInEveryModeAndItsSpeed() throws {
        let translator = TranslationCorpus.translator()
        for mode in TranslationCorpus.modes {
            let corpus = TranslationCorpus.instructions(code32: mode.flags.contains(.code32))
            for bytes in corpus {
                XCTAssertNotNil(translator.translate(eip: 0x1000, codeSegmentBase: 0, flags: mode.flags,
                                                     reader: TranslationCorpus.Code(bytes: bytes), maximumInstructions: 1))
            }
        }
        let flags = TranslationCorpus.modes[1].flags
        let readers = TranslationCorpus.instructions(code32: true).map { TranslationCorpus.Code(bytes: $0) }
        var best = Double.infinity
        var ops = 0
        for _ in 0..<5 {
            ops = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for reader in readers {
                let code = translator.translate(eip: 0x1000, codeSegmentBase: 0, flags: flags, reader: reader, maximumInstructions: 1)
                ops &+= code?.block.ops.count ?? 0
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start))
        }
        print("translation: \(readers.count) one-instruction blocks (\(ops) IR ops) in \(Int(best / 1e6)) ms, "
              + "\(Int(best / Double(readers.count))) ns a block")
        XCTAssertGreaterThan(ops, readers.count)
    }

    /// Times the translation of full blocks (up to 64 instructions) of the
    /// corpus's instructions that do not end a block, packed into pages.
    func testTranslationSpeedOfLongBlocks() throws {
        let translator = TranslationCorpus.translator()
        let flags = TranslationCorpus.modes[1].flags
        // An instruction that does not end its block lets the NOP after it in.
        let flowing = TranslationCorpus.instructions(code32: true).filter { bytes in
            translator.translate(eip: 0x1000, codeSegmentBase: 0, flags: flags, reader: TranslationCorpus.Code(bytes: bytes + [0x90]),
                                 maximumInstructions: 2)?.instructionCount == 2
        }
        var pages: [TranslationCorpus.Code] = [TranslationCorpus.Code(bytes: [])]
        for bytes in flowing {
            if pages[pages.count - 1].bytes.count + bytes.count > 4096 { pages.append(TranslationCorpus.Code(bytes: [])) }
            pages[pages.count - 1].bytes += bytes
        }
        var best = Double.infinity
        var instructions = 0
        for _ in 0..<5 {
            instructions = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for page in pages {
                var eip: UInt32 = 0x1000
                while eip < 0x1000 + UInt32(page.bytes.count) {
                    let code = try XCTUnwrap(translator.translate(eip: UInt64(eip), codeSegmentBase: 0, flags: flags, reader: page))
                    instructions += code.instructionCount
                    eip = UInt32(code.endLinear)
                }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start))
        }
        print("translation: \(instructions) instructions in blocks of up to 64 in \(Int(best / 1e6)) ms, "
              + "\(Int(best / Double(instructions))) ns an instruction")
        XCTAssertGreaterThan(instructions, 10_000)
    }
}

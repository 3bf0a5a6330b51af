@testable import CPURuntime
import Foundation
import X86State
import XCTest

/// The comparison every SIMD instruction test makes: the program for one
/// form (`SSEPrograms`) run natively by the host CPU and as guest code on the
/// JIT and on the interpreter, the data after it compared byte for byte.
extension XCTestCase {
    func assertMatchesHost(_ template: SSEPrograms.Template, seed: UInt64, modes: [UInt32] = SSEPrograms.allModes,
                           memoryForms: Bool = true, memoryOnly: Bool = false,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        let pairs = SSEPrograms.pairs(seed: seed)
        let body = SSEPrograms.body(template, pairs: pairs, modes: modes, memoryForms: memoryForms, memoryOnly: memoryOnly)
        let bytes = SSEPrograms.resultBytes(pairs: pairs.count, modes: modes.count)
        let expected = try X87Programs.hostResult(body, bytes: bytes)
        let code = try X87Programs.assemble(body, guest: true)
        XCTAssertLessThan(code.count, X87Programs.dataAddress - X87Programs.codeAddress, "the program runs into its data", file: file, line: line)
        for backend in [X86CPU.Backend.jit, .interpreter] {
            let machine = try SSETestMachine(backend: backend)
            machine.load(code)
            machine.run()
            XCTAssertTrue(machine.cpu.halted, "\(backend): the program did not finish", file: file, line: line)
            XCTAssertNil(machine.handledVector, "\(backend): exception \(machine.handledVector ?? -1) at \(String(machine.pushedIP, radix: 16))h",
                         file: file, line: line)
            let actual = machine.data(0, bytes)
            guard actual != expected else { continue }
            for offset in stride(from: SSEPrograms.resultsOffset, to: bytes, by: 32)
            where actual[offset..<offset + 32] != expected[offset..<offset + 32] {
                let index = (offset - SSEPrograms.resultsOffset) / 32
                XCTFail("\(backend): case \(index) (mode \(index / pairs.count), pair \(index % pairs.count)): "
                        + "\(hex(actual[offset..<offset + 20])) want \(hex(expected[offset..<offset + 20]))", file: file, line: line)
                return
            }
            XCTFail("\(backend): the data differs outside the results", file: file, line: line)
        }
    }

    private func hex(_ bytes: ArraySlice<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

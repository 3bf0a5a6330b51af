import IR
@testable import CPURuntime
import X86Frontend
import X86State
import XCTest

/// Where a block whose x87 instructions run on the host FPU checks that the
/// guest's FPU is there: at the block's very start, ahead of its first
/// instruction, unless an x87 instruction before went through the helper
/// (which takes the FPU back); then just before the first host one.
final class X87AcquirePlacementTests: XCTestCase {
    /// `bytes` at linear 0x1000; nothing elsewhere.
    private struct Code: GuestCodeReader {
        let bytes: [UInt8]
        func readCode(linear: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
            let start = Int(linear) - 0x1000
            guard start >= 0, start < bytes.count else { return 0 }
            let count = min(buffer.count, bytes.count - start)
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<start + count])) }
            return count
        }
    }

    /// The block's ops for 32-bit flat protected-mode code at CPL 3.
    private func ops(_ bytes: [UInt8]) throws -> [IROp] {
        let helpers = HelperTable()
        X86Helpers.register(into: helpers)
        let flags: HiddenFlags = [.protectedMode, .code32, .stack32, .x87OnHost, HiddenFlags(rawValue: 3)]
        let code = try XCTUnwrap(X86Translator(helpers: helpers).translate(eip: 0x1000, codeSegmentBase: 0, flags: flags,
                                                                         reader: Code(bytes: bytes), maximumInstructions: 8))
        return code.block.ops
    }

    private func residenceCheck(in ops: [IROp]) -> Int? {
        ops.firstIndex { $0.opcode == .loadState && Int($0.constant) == CPUStateLayout.x87Residence }
    }

    func testTheCheckComesFirstInTheBlock() throws {
        // mov eax, 1; fld1; ret
        let ops = try ops([0xB8, 1, 0, 0, 0, 0xD9, 0xE8, 0xC3])
        let check = try XCTUnwrap(residenceCheck(in: ops))
        let firstInstruction = try XCTUnwrap(ops.firstIndex { $0.opcode == .insnStart })
        XCTAssertLessThan(check, firstInstruction)
        XCTAssertEqual(ops.filter { $0.opcode == .loadState && Int($0.constant) == CPUStateLayout.x87Residence }.count, 1)
    }

    func testAfterAnX87HelperTheCheckFollowsIt() throws {
        // fxsave [eax] (through the helper); fld1
        let ops = try ops([0x0F, 0xAE, 0x00, 0xD9, 0xE8, 0xC3])
        let helperCall = try XCTUnwrap(ops.firstIndex { $0.opcode == .call })
        let check = try XCTUnwrap(residenceCheck(in: ops))
        XCTAssertGreaterThan(check, helperCall)
    }
}

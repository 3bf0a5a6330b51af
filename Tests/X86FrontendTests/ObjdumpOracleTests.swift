import Foundation
import XCTest
@testable import X86Frontend

/// Lengths and validity checked against GNU objdump over the whole one- and
/// two-byte opcode maps. Where objdump and an i686 disagree, the case must be
/// explained by `ObjdumpDisagreements`.
final class ObjdumpOracleTests: XCTestCase {
    func testAgreesWithObjdumpIn32BitCode() throws {
        try compareWithObjdump(OracleCases.generate(count: 4096, seed: 32), codeSize32: true)
    }

    func testAgreesWithObjdumpIn16BitCode() throws {
        try compareWithObjdump(OracleCases.generate(count: 3072, seed: 16), codeSize32: false)
    }

    /// Every 0F xx opcode with no prefix, 66, F3 and F2: the SIMD variant tables.
    func testTwoByteMapWithEveryMandatoryPrefix() throws {
        try compareWithObjdump(OracleCases.twoByteVariants(perVariant: 2, seed: 15), codeSize32: true)
    }

    /// A much larger run for checking table changes: DECODER_ORACLE_LARGE=1 swift test ...
    func testLargeRunWhenAsked() throws {
        guard ProcessInfo.processInfo.environment["DECODER_ORACLE_LARGE"] != nil else { return }
        try compareWithObjdump(OracleCases.twoByteVariants(perVariant: 32, seed: 7), codeSize32: true)
        try compareWithObjdump(OracleCases.generate(count: 60000, seed: 3), codeSize32: true)
        try compareWithObjdump(OracleCases.generate(count: 60000, seed: 4), codeSize32: false)
    }

    private func compareWithObjdump(_ cases: [[UInt8]], codeSize32: Bool) throws {
        guard let objdump = ObjdumpOracle.find() else {
            XCTFail("objdump not found on PATH: install binutils (apt-get install binutils), it is part of the set-up")
            return
        }
        let count = cases.count
        let verdicts = try objdump.verdicts(for: cases, codeSize32: codeSize32)
        var failures: [String] = []
        var agreed = 0, explained = 0
        for (bytes, verdict) in zip(cases, verdicts) {
            let ours = decode(bytes, codeSize32: codeSize32)
            if let problem = disagreement(ours, verdict) {
                if ObjdumpDisagreements.reason(bytes: bytes, codeSize32: codeSize32, ours: ours,
                                               objdump: verdict) != nil {
                    explained += 1
                } else {
                    failures.append("\(hex(bytes)): \(problem)")
                }
            } else {
                agreed += 1
                if case .instruction(let decoded) = ours, let problem = mnemonicDisagreement(decoded, verdict) {
                    failures.append("\(hex(bytes)): \(problem)")
                }
            }
        }
        // Enough of the cases must be real comparisons, not excuses.
        XCTAssertGreaterThan(agreed, count * 3 / 4, "only \(agreed) of \(count) agreed, \(explained) explained")
        XCTAssert(failures.isEmpty, "\(failures.count) disagreements with objdump (\(codeSize32 ? 32 : 16)-bit):\n"
                  + failures.prefix(ProcessInfo.processInfo.environment["DECODER_ORACLE_LARGE"] != nil ? 5000 : 60).joined(separator: "\n"))
    }

    /// Compares the mnemonic of `description` with objdump's, where both name the
    /// same instruction the same way (see `ObjdumpDisagreements.mnemonicsDiffer`).
    private func mnemonicDisagreement(_ decoded: DecodedInstruction, _ objdump: ObjdumpOracle.Verdict) -> String? {
        let ours = decoded.description.split(separator: " ")
            .first { !["lock", "rep", "repe", "repne"].contains($0) }.map(String.init) ?? ""
        let theirs = objdump.text.split(separator: " ")
            .first { !ObjdumpOracle.Verdict.prefixNames.contains($0) }.map(String.init) ?? ""
        guard ours != theirs, !ObjdumpDisagreements.mnemonicsMayDiffer(decoded, ours: ours, objdump: theirs) else { return nil }
        return "mnemonic \(ours) (\(decoded.description)), objdump \(objdump.text)"
    }

    /// Nil when the decoder and objdump agree, else what differs.
    private func disagreement(_ ours: DecodeResult, _ objdump: ObjdumpOracle.Verdict) -> String? {
        switch ours {
        case .instruction(let instruction):
            if objdump.isBad || objdump.isPrefixesOnly {
                return "decoded (length \(instruction.length)) but objdump says \(objdump.text)"
            }
            if Int(instruction.length) != objdump.length {
                return "length \(instruction.length), objdump \(objdump.length) (\(objdump.text))"
            }
            return nil
        case .invalid:
            // A line of bare prefixes is objdump giving up, as good as (bad).
            return objdump.isBad || objdump.isPrefixesOnly ? nil : "invalid but objdump says \(objdump.text) (length \(objdump.length))"
        case .tooLong:
            return objdump.isBad || objdump.isPrefixesOnly ? nil
                : "too long but objdump says \(objdump.text) (length \(objdump.length))"
        case .truncated:
            return "truncated with 15 bytes given"
        }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        .joined(separator: " ")
}

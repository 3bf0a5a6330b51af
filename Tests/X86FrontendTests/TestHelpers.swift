import XCTest
import X86Frontend

/// Decodes `bytes` and fails the test unless it is an instruction.
func instruction(_ bytes: [UInt8], code32: Bool = true,
                 file: StaticString = #filePath, line: UInt = #line) -> DecodedInstruction? {
    let result = decode(bytes, codeSize32: code32)
    guard case .instruction(let decoded) = result else {
        XCTFail("\(hex(bytes)): expected an instruction, got \(result)", file: file, line: line)
        return nil
    }
    return decoded
}

/// Asserts the decoded length.
func assertLength(_ bytes: [UInt8], _ length: UInt8, code32: Bool = true,
                  file: StaticString = #filePath, line: UInt = #line) {
    guard let decoded = instruction(bytes, code32: code32, file: file, line: line) else { return }
    XCTAssertEqual(decoded.length, length, "\(hex(bytes))", file: file, line: line)
}

func assertResult(_ bytes: [UInt8], _ expected: DecodeResult, code32: Bool = true,
                  file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(decode(bytes, codeSize32: code32), expected, "\(hex(bytes))", file: file, line: line)
}

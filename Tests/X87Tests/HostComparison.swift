import X87
import XCTest

/// Runs cases natively and through the X87 module and reports the differences.
func assertMatchesHost(_ cases: [ScriptCase], maxReports: Int = 8,
                       file: StaticString = #filePath, line: UInt = #line) throws {
    let native = try NativeX87.run(cases.map(\.text))
    XCTAssertEqual(native.count, cases.count, "native output lines", file: file, line: line)
    var failing = [ScriptCase]()
    for (index, testCase) in cases.enumerated() where index < native.count {
        if testCase.runThroughModule() != native[index] { failing.append(testCase) }
    }
    // Shorten each failing sequence to the first instruction that differs.
    var shortest = failing
    for (index, testCase) in failing.enumerated() where testCase.instructions.count > 1 {
        let prefixes = (1...testCase.instructions.count).map {
            ScriptCase(image: testCase.image, instructions: Array(testCase.instructions[0..<$0]))
        }
        let hostPrefixes = try NativeX87.run(prefixes.map(\.text))
        if let first = prefixes.indices.first(where: { prefixes[$0].runThroughModule() != hostPrefixes[$0] }) {
            shortest[index] = prefixes[first]
        }
    }
    let failures = failing.count
    if failures > 0 {
        let hostShort = try NativeX87.run(shortest.map(\.text))
        for (index, testCase) in shortest.enumerated().prefix(maxReports) {
            XCTFail("\(describe(testCase))\n  host:   \(summarize(hostShort[index]))\n  module: \(summarize(testCase.runThroughModule()))",
                    file: file, line: line)
        }
        var counts = [String: Int]()
        for testCase in shortest { counts[hex([testCase.instructions.last!.escape + 0xD8, testCase.instructions.last!.modrm]), default: 0] += 1 }
        print("differing instructions: " + counts.sorted { $0.value > $1.value }.map { "\($0.key)x\($0.value)" }.joined(separator: " "))
    }
    if failures > maxReports {
        XCTFail("\(failures) of \(cases.count) cases differ", file: file, line: line)
    }
}

/// The instructions of a case and its control word, for failure messages.
private func describe(_ testCase: ScriptCase) -> String {
    let cw = UInt16(testCase.image[0]) | UInt16(testCase.image[1]) << 8
    let sw = UInt16(testCase.image[4]) | UInt16(testCase.image[5]) << 8
    let regs = (0..<3).map { st in hex(Array(testCase.image[28 + st * 10 ..< 38 + st * 10].reversed())) }
    return "cw=\(String(cw, radix: 16)) sw=\(String(sw, radix: 16)) st0-2=\(regs) "
        + testCase.instructions.map { "\(hex([$0.escape + 0xD8, $0.modrm]))" + ($0.operand.isEmpty ? "" : ":" + hex($0.operand)) }
            .joined(separator: " ")
}

/// An output line with the FNSAVE image split into fields.
private func summarize(_ output: String) -> String {
    let parts = output.components(separatedBy: " | ")
    var text = parts[0].split(separator: " ").map { step -> String in
        let fields = step.split(separator: ":")
        return String(fields[0].prefix(20)) + ":" + fields.dropFirst().joined(separator: ":")
    }.joined(separator: " ")
    if parts.count > 1 {
        let tail = parts[1].split(separator: " ")
        if tail.count == 2 {
            let image = Array(tail[1].utf8)
            func field(_ from: Int, _ count: Int) -> String { String(decoding: image[from * 2 ..< (from + count) * 2], as: UTF8.self) }
            text += " | cw \(field(0, 4)) sw \(field(4, 4)) tw \(field(8, 4)) st: "
                + (0..<8).map { field(28 + $0 * 10, 10) }.joined(separator: " ")
            text += " fx: " + String(tail[0].prefix(16))
        }
    }
    return text
}

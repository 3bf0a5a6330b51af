import Foundation

/// Assembles Intel-syntax lines with GNU `as` and returns the .text bytes:
/// the oracle for the assembler's encodings.
enum GNUAssembler {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func assemble(_ lines: [String]) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("x64-as-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("code.s")
        let object = directory.appendingPathComponent("code.o")
        let binary = directory.appendingPathComponent("code.bin")
        let text = ".intel_syntax noprefix\n.text\n" + lines.joined(separator: "\n") + "\n"
        try text.write(to: source, atomically: true, encoding: .utf8)
        try run("/usr/bin/as", ["--64", "-o", object.path, source.path])
        try run("/usr/bin/objcopy", ["-O", "binary", "--only-section=.text", object.path, binary.path])
        return [UInt8](try Data(contentsOf: binary))
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(tool) failed: " + (String(data: message, encoding: .utf8) ?? ""))
        }
    }
}

import Foundation

/// What a test program of Tests/GuestPrograms prints when the host CPU runs
/// it: built with gcc -m32 -static -O2, as the guest images build it, so the
/// guest's run can be compared with the host's.
public func hostProgramOutput(_ name: String) throws -> String {
    let directory = try makeTemporaryDirectory("pcemu-\(name)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let binary = directory.appendingPathComponent(name).path
    let source = DefaultGuest.repository.appendingPathComponent("Tests/GuestPrograms/\(name).c").path
    let build = try ChildProcess.run("/usr/bin/gcc", ["-m32", "-static", "-O2", "-o", binary, source])
    guard build.status == 0 else { throw TestSetupError("gcc -m32 \(name).c: \(build.stderr)") }
    let output = try ChildProcess.run(binary, []).stdout.trimmingCharacters(in: .newlines)
    guard output.hasSuffix("\(name) done") else { throw TestSetupError("\(name) on the host ended early: \(output.suffix(300))") }
    return output
}

/// A small deterministic generator (SplitMix64) for tests' random inputs.
public struct SplitMix64 {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

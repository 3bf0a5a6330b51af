import CPURuntime
import Foundation
import Memory
import Timing

/// Runs a boot-sector workload (firmware/tests/integer-workload.asm, assembled
/// by nasm) on the CPU and reports guest instructions per second, and the
/// same workload's time on qemu-system-i386 when it is installed.
///
/// usage: pcemu-bench [--interp] [BOOT_SECTOR.bin]

/// Collects the bytes a program writes to its report port.
final class ReportPort: PortHandler {
    var bytes: [UInt8] = []
    override func write(offset: UInt16, value: UInt32, size: AccessSize) { bytes.append(UInt8(truncatingIfNeeded: value)) }
}

func assembleDefaultWorkload() throws -> URL {
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("firmware/tests/integer-workload.asm")
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("pcemu-bench-\(getpid()).bin")
    let nasm = Process()
    nasm.executableURL = URL(fileURLWithPath: "/usr/bin/nasm")
    nasm.arguments = ["-f", "bin", "-o", output.path, source.path]
    try nasm.run()
    nasm.waitUntilExit()
    guard nasm.terminationStatus == 0 else { throw CocoaError(.fileReadCorruptFile) }
    return output
}

func runOnPCEmu(_ image: Data, backend: X86CPU.Backend) throws -> (seconds: Double, instructions: UInt64, output: String) {
    let ram = try GuestRAM(size: 4 << 20)
    let space = AddressSpace(ram: ram)
    try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
    let ports = IOPortBus()
    let report = ReportPort()
    try ports.attach(report, name: "debugcon", base: 0xE9, count: 1)
    try ports.attach(ReportPort(), name: "exit", base: 0xF4, count: 1)
    image.withUnsafeBytes { ram.base.advanced(by: 0x7C00).copyMemory(from: $0.baseAddress!, byteCount: image.count) }
    let cpu = X86CPU(addressSpace: space, ports: ports, clock: VirtualClock(), backend: backend)
    cpu.loadRealModeSegment(.cs, selector: 0)
    cpu.state.pointee.eip = 0x7C00
    let start = VirtualClock.hostMonotonicNanoseconds()
    while !cpu.halted && cpu.stopReason == nil { _ = cpu.run(until: .max) }
    let seconds = Double(VirtualClock.hostMonotonicNanoseconds() - start) / 1e9
    return (seconds, cpu.state.pointee.instructionCount, String(decoding: report.bytes, as: UTF8.self))
}

func runOnQEMU(_ image: URL) -> (seconds: Double, output: String)? {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-i386") else { return nil }
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("pcemu-bench-qemu-\(getpid()).out")
    let qemu = Process()
    qemu.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-i386")
    qemu.arguments = ["-drive", "file=\(image.path),format=raw,if=floppy", "-display", "none", "-no-reboot",
                      "-debugcon", "file:\(output.path)", "-device", "isa-debug-exit,iobase=0xf4,iosize=1"]
    let start = VirtualClock.hostMonotonicNanoseconds()
    guard (try? qemu.run()) != nil else { return nil }
    qemu.waitUntilExit()
    let seconds = Double(VirtualClock.hostMonotonicNanoseconds() - start) / 1e9
    defer { try? FileManager.default.removeItem(at: output) }
    return (seconds, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
}

do {
    var arguments = Array(CommandLine.arguments.dropFirst())
    let backend: X86CPU.Backend = arguments.first == "--interp" ? .interpreter : .jit
    if arguments.first == "--interp" { arguments.removeFirst() }
    let imageURL = try arguments.first.map { URL(fileURLWithPath: $0) } ?? assembleDefaultWorkload()
    let image = try Data(contentsOf: imageURL)
    let ours = try runOnPCEmu(image, backend: backend)
    let mips = Double(ours.instructions) / ours.seconds / 1e6
    print(String(format: "pcemu (%@): %.3f s, %llu guest instructions, %.1f million instructions/s, checksum %@",
                 backend == .jit ? "x86-64 JIT" : "IR interpreter", ours.seconds, ours.instructions, mips, ours.output))
    if let qemu = runOnQEMU(imageURL) {
        print(String(format: "qemu-system-i386 -accel tcg (whole run, BIOS included): %.3f s, checksum %@; pcemu/qemu time ratio %.2f",
                     qemu.seconds, qemu.output, ours.seconds / qemu.seconds))
        if qemu.output != ours.output { print("CHECKSUMS DIFFER"); exit(1) }
    }
} catch {
    FileHandle.standardError.write("pcemu-bench: \(error)\n".data(using: .utf8)!)
    exit(1)
}

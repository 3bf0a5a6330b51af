import CPURuntime
import Foundation
import Memory
import Timing
import X86State
import X87
import XCTest

/// x87 test programs written once in NASM syntax and run two ways: as
/// real-mode guest code on an `X86CPU` (org 1000h, data at 2000h through BX,
/// ending in HLT) and natively, as 32-bit code called from a gcc -m32 -static
/// program with its data pointer in EBX, which prints the data bytes. A body
/// addresses data as `[D(offset)]`; `setdouble offset, value` stores a double.
enum X87Programs {
    static let codeAddress = 0x1000
    static let dataAddress = 0x2000
    /// The guest prelude `mov bx, 2000h` is 3 bytes: bodies start here.
    static let bodyAddress = codeAddress + 3

    static let macros = """
        %macro setdouble 2
            mov dword [D(%1)], __float64__(%2) & 0xFFFFFFFF
            mov dword [D(%1)+4], __float64__(%2) >> 32
        %endmacro
        """

    static func source(_ body: String, guest: Bool) -> String {
        guest ? """
            bits 16
            org 0x\(String(codeAddress, radix: 16))
            %define D(x) bx+x
            \(macros)
                mov bx, 0x\(String(dataAddress, radix: 16))
            \(body)
                hlt
            """ : """
            bits 32
            %define D(x) ebx+x
            \(macros)
                push ebx
                mov ebx, [esp+8]
            \(body)
                pop ebx
                ret
            """
    }

    /// A scratch directory for this test run.
    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pcemu-x87-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    static func assemble(_ body: String, guest: Bool) throws -> [UInt8] {
        let name = "\(guest ? "guest" : "host")-\(UInt32(truncatingIfNeeded: body.hashValue))"
        let input = directory.appendingPathComponent(name + ".asm"), output = directory.appendingPathComponent(name + ".bin")
        try source(body, guest: guest).write(to: input, atomically: true, encoding: .utf8)
        let messages = try run("/usr/bin/env", ["nasm", "-f", "bin", "-o", output.path, input.path])
        guard let code = FileManager.default.contents(atPath: output.path) else {
            throw ReferenceToolFailure("nasm could not assemble the program: \(messages)")
        }
        return [UInt8](code)
    }

    static let harnessSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/mman.h>
        int main(int argc, char **argv) {
            FILE *f = fopen(argv[1], "rb");
            int n = atoi(argv[2]);
            unsigned char *code = mmap(0, 65536, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            unsigned char *data = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (!f || code == MAP_FAILED || data == MAP_FAILED) return 2;
            fread(code, 1, 65536, f);
            ((void (*)(unsigned char *))code)(data);
            for (int i = 0; i < n; i++) printf("%02x", data[i]);
            printf("\\n");
            return 0;
        }
        """

    /// The native harness, built once per run.
    static let harness: String? = {
        let source = directory.appendingPathComponent("harness.c"), binary = directory.appendingPathComponent("harness")
        guard (try? harnessSource.write(to: source, atomically: true, encoding: .utf8)) != nil,
              (try? run("/usr/bin/env", ["gcc", "-m32", "-static", "-O1", "-o", binary.path, source.path])) != nil,
              FileManager.default.isExecutableFile(atPath: binary.path) else { return nil }
        return binary.path
    }()

    /// The data area's first `bytes` bytes after the body ran on the host CPU.
    static func hostResult(_ body: String, bytes: Int) throws -> [UInt8] {
        guard let harness else { throw ReferenceToolFailure("gcc -m32 -static could not build the native harness") }
        let code = directory.appendingPathComponent("host-\(UInt32(truncatingIfNeeded: body.hashValue)).flat")
        try Data(try assemble(body, guest: false)).write(to: code)
        let output = try run(harness, [code.path, String(bytes)]).trimmingCharacters(in: .whitespacesAndNewlines)
        var result: [UInt8] = []
        var index = output.startIndex
        while index < output.endIndex, let next = output.index(index, offsetBy: 2, limitedBy: output.endIndex) {
            result.append(UInt8(output[index..<next], radix: 16) ?? 0)
            index = next
        }
        guard result.count == bytes else { throw ReferenceToolFailure("the native harness printed \(output)") }
        return result
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A real-mode machine for one program: 1 MiB of RAM, every segment 0, the
/// stack at 8000h, and each of the 32 exception vectors pointing at its own
/// HLT at 600h + vector, so a program stops at its end or in a handler.
final class X87TestMachine {
    static let handlerBase = 0x600
    static let stackTop: UInt32 = 0x8000
    let ram: GuestRAM
    let cpu: X86CPU

    init() throws {
        ram = try GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
    }

    /// Loads `code` at 1000h and resets the CPU with CR0 = `cr0` (reset's when nil).
    func load(_ code: [UInt8], cr0: UInt64? = nil) {
        ram.base.initializeMemory(as: UInt8.self, repeating: 0, count: 0x10000)
        for vector in 0..<32 {
            let handler = Self.handlerBase + vector
            ram.base.storeBytes(of: UInt16(handler), toByteOffset: vector * 4, as: UInt16.self)
            ram.base.storeBytes(of: UInt8(0xF4), toByteOffset: handler, as: UInt8.self)
        }
        (ram.base + X87Programs.codeAddress).copyMemory(from: code, byteCount: code.count)
        cpu.reset()
        for segment in [Segment.es, .cs, .ss, .ds] { cpu.loadRealModeSegment(segment, selector: 0) }
        cpu.state.pointee.eip = UInt64(X87Programs.codeAddress)
        cpu.setGeneralRegister(Register.esp.rawValue, Self.stackTop)
        if let cr0 { cpu.setControlRegisters(cr0: cr0) }
    }

    /// Runs until a HLT (the program's last, or a handler's).
    func run(maxSteps: Int = 10_000) {
        var steps = 0
        while !cpu.halted && cpu.stopReason == nil && steps < maxSteps {
            cpu.step()
            steps += 1
        }
    }

    /// The exception vector whose handler stopped the program, or nil.
    var handledVector: Int? {
        let eip = Int(cpu.state.pointee.eip)
        let vector = eip - 1 - Self.handlerBase
        return (0..<32).contains(vector) ? vector : nil
    }

    /// The IP the last interrupt pushed (the faulting instruction's for faults).
    var pushedIP: Int { Int(ram.base.load(fromByteOffset: Int(cpu.generalRegister(Register.esp.rawValue) & 0xFFFF), as: UInt16.self)) }

    func data(_ offset: Int, _ count: Int) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: ram.base + X87Programs.dataAddress + offset, count: count))
    }

    func word(_ offset: Int) -> UInt16 { ram.base.load(fromByteOffset: X87Programs.dataAddress + offset, as: UInt16.self) }
}

extension X87State {
    /// Every architectural field, for comparing states (the registers' padding bytes left out).
    var summary: String {
        var text = "cw=\(String(controlWord, radix: 16)) sw=\(String(statusWord, radix: 16)) tags=\(String(tagValid, radix: 2))"
        text += " fop=\(String(fop, radix: 16)) fip=\(String(fip, radix: 16)) fdp=\(String(fdp, radix: 16))"
        for index in 0..<8 {
            let value = self[physical: index]
            text += " r\(index)=\(String(value.signExponent, radix: 16)):\(String(value.significand, radix: 16))"
        }
        return text
    }
}

/// A reference tool (nasm, gcc) the set-up installs did not do its job: the
/// test fails, since without the host's answer it proves nothing.
struct ReferenceToolFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

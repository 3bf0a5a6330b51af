import CPURuntime
import Foundation
import Memory
import Timing
import X86State
import XCTest

/// DAA, DAS, AAA, AAS, AAM and AAD on every AX value, under each AF/CF
/// combination, against the host CPU. One NASM loop runs the instruction
/// 65,536 times and records AX and FLAGS after each: natively in a
/// gcc -m32 -static harness (the reference) and as real-mode guest code,
/// on the JIT and on the IR interpreter. Only the flags the SDM defines for
/// the instruction are compared; its undefined ones vary between CPU models.
final class BCDInstructionTests: XCTestCase {
    static let (carry, parity, auxiliary, zero, sign, overflow): (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) =
        (0x001, 0x004, 0x010, 0x040, 0x080, 0x800)
    /// The flag inputs the adjustments read (AF and CF), each combination.
    static let adjustInputs: [UInt16] = [0, carry, auxiliary, carry | auxiliary]
    /// AAM and AAD read no flags: all clear, and all arithmetic flags set.
    static let multiplyInputs: [UInt16] = [0, carry | parity | auxiliary | zero | sign | overflow]

    /// Runs `instruction` under each flags value on the host and on both backends.
    func assertMatchesHost(_ instruction: String, flagInputs: [UInt16], defined: UInt16,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        for flagsIn in flagInputs {
            let reference = try BCDPrograms.hostResults(instruction, flags: flagsIn)
            for backend in [X86CPU.Backend.jit, .interpreter] {
                let ours = try BCDPrograms.guestResults(instruction, flags: flagsIn, backend: backend)
                var mismatches: [String] = []
                for input in 0..<65_536 {
                    let (hostAX, hostFlags) = reference[input]
                    let (guestAX, guestFlags) = ours[input]
                    if hostAX != guestAX || hostFlags & defined != guestFlags & defined {
                        mismatches.append(String(format: "AX=%04x: AX %04x flags %03x, host AX %04x flags %03x",
                                                 input, guestAX, guestFlags & defined, hostAX, hostFlags & defined))
                    }
                }
                XCTAssertEqual(mismatches.count, 0, "\(instruction) with flags \(String(flagsIn, radix: 16)) on \(backend): "
                               + mismatches.prefix(4).joined(separator: "; "), file: file, line: line)
            }
        }
    }

    func testDAA() throws {
        try assertMatchesHost("daa", flagInputs: Self.adjustInputs, defined: Self.carry | Self.auxiliary | Self.zero | Self.sign | Self.parity)
    }

    func testDAS() throws {
        try assertMatchesHost("das", flagInputs: Self.adjustInputs, defined: Self.carry | Self.auxiliary | Self.zero | Self.sign | Self.parity)
    }

    func testAAA() throws {
        try assertMatchesHost("aaa", flagInputs: Self.adjustInputs, defined: Self.carry | Self.auxiliary)
    }

    func testAAS() throws {
        try assertMatchesHost("aas", flagInputs: Self.adjustInputs, defined: Self.carry | Self.auxiliary)
    }

    /// AAM with the usual base and others (the immediate is any byte; 0 raises #DE, below).
    func testAAM() throws {
        for base in [10, 16, 7, 1, 255] {
            try assertMatchesHost("aam \(base)", flagInputs: Self.multiplyInputs, defined: Self.zero | Self.sign | Self.parity)
        }
    }

    func testAAD() throws {
        for base in [10, 16, 7, 0, 255] {
            try assertMatchesHost("aad \(base)", flagInputs: Self.multiplyInputs, defined: Self.zero | Self.sign | Self.parity)
        }
    }

    /// AAM 0 divides by zero: #DE at the instruction, AX unchanged.
    func testAAMZeroRaisesDivideError() throws {
        let machine = try X87TestMachine()
        let code = try X87Programs.assemble("mov ax, 1234h\naam 0", guest: true)
        machine.load(code)
        machine.run()
        XCTAssertEqual(machine.handledVector, 0)
        XCTAssertEqual(machine.cpu.generalRegister(0) & 0xFFFF, 0x1234)
        XCTAssertEqual(machine.pushedIP, X87Programs.bodyAddress + 3)
    }
}

/// The loop, assembled for both sides, and the runs that give each side's results.
enum BCDPrograms {
    static let guestDataSegment = 0x1000

    /// The loop over every AX value: set FLAGS, run the instruction, store AX
    /// and FLAGS as two words. The guest steps ES by 64 KiB; the host's EBX
    /// points at its buffer.
    static func source(_ instruction: String, flags: UInt16, guest: Bool) -> String {
        guest ? """
            bits 16
            org 0x\(String(X87Programs.codeAddress, radix: 16))
                mov ax, 0x\(String(guestDataSegment, radix: 16))
                mov es, ax
                xor di, di
                xor cx, cx
            next:
                push word 0x\(String(flags | 2, radix: 16))
                popf
                mov ax, cx
                \(instruction)
                pushf
                pop dx
                mov [es:di], ax
                mov [es:di+2], dx
                add di, 4
                jnz same_segment
                mov bx, es
                add bx, 0x1000
                mov es, bx
            same_segment:
                inc cx
                jnz next
                hlt
            """ : """
            bits 32
                push ebx
                mov ebx, [esp+8]
                xor ecx, ecx
            next:
                push dword 0x\(String(flags | 2, radix: 16))
                popfd
                mov eax, ecx
                \(instruction)
                pushfd
                pop edx
                mov [ebx], ax
                mov [ebx+2], dx
                add ebx, 4
                inc ecx
                cmp ecx, 0x10000
                jne next
                pop ebx
                ret
            """
    }

    static func assemble(_ source: String, name: String) throws -> URL {
        let input = X87Programs.directory.appendingPathComponent(name + ".asm")
        let output = X87Programs.directory.appendingPathComponent(name + ".bin")
        try source.write(to: input, atomically: true, encoding: .utf8)
        let messages = try X87Programs.run("/usr/bin/env", ["nasm", "-f", "bin", "-o", output.path, input.path])
        guard FileManager.default.fileExists(atPath: output.path) else {
            throw ReferenceToolFailure("nasm could not assemble the program: \(messages)")
        }
        return output
    }

    static func name(_ instruction: String, flags: UInt16, guest: Bool) -> String {
        "bcd-\(guest ? "guest" : "host")-\(instruction.replacingOccurrences(of: " ", with: "-"))-\(flags)"
    }

    /// Calls the flat code with a 256 KiB buffer and writes the buffer to stdout.
    static let harnessSource = """
        #include <stdio.h>
        #include <sys/mman.h>
        int main(int argc, char **argv) {
            FILE *f = fopen(argv[1], "rb");
            unsigned char *code = mmap(0, 65536, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            unsigned char *data = mmap(0, 262144, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (argc < 2 || !f || code == MAP_FAILED || data == MAP_FAILED) return 2;
            fread(code, 1, 65536, f);
            ((void (*)(unsigned char *))code)(data);
            return fwrite(data, 1, 262144, stdout) == 262144 ? 0 : 3;
        }
        """

    static let harness: String? = {
        let source = X87Programs.directory.appendingPathComponent("bcd-harness.c")
        let binary = X87Programs.directory.appendingPathComponent("bcd-harness")
        guard (try? harnessSource.write(to: source, atomically: true, encoding: .utf8)) != nil,
              (try? X87Programs.run("/usr/bin/env", ["gcc", "-m32", "-static", "-O1", "-o", binary.path, source.path])) != nil,
              FileManager.default.isExecutableFile(atPath: binary.path) else { return nil }
        return binary.path
    }()

    static func decode(_ bytes: [UInt8]) -> [(ax: UInt16, flags: UInt16)] {
        (0..<65_536).map { index in
            let at = index * 4
            return (UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8, (UInt16(bytes[at + 2]) | UInt16(bytes[at + 3]) << 8) & 0xFFF)
        }
    }

    static func hostResults(_ instruction: String, flags: UInt16) throws -> [(ax: UInt16, flags: UInt16)] {
        guard let harness else { throw ReferenceToolFailure("gcc -m32 -static could not build the native harness") }
        let code = try assemble(source(instruction, flags: flags, guest: false), name: name(instruction, flags: flags, guest: false))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: harness)
        process.arguments = [code.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, data.count == 262_144 else {
            throw ReferenceToolFailure("the native harness ended with \(process.terminationStatus) after \(data.count) bytes")
        }
        return decode([UInt8](data))
    }

    static func guestResults(_ instruction: String, flags: UInt16, backend: X86CPU.Backend) throws -> [(ax: UInt16, flags: UInt16)] {
        let code = try Data(contentsOf: assemble(source(instruction, flags: flags, guest: true), name: name(instruction, flags: flags, guest: true)))
        let ram = try GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        code.withUnsafeBytes { (ram.base + X87Programs.codeAddress).copyMemory(from: $0.baseAddress!, byteCount: code.count) }
        let cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)),
                         backend: backend)
        for segment in [Segment.es, .cs, .ss, .ds] { cpu.loadRealModeSegment(segment, selector: 0) }
        cpu.state.pointee.eip = UInt64(X87Programs.codeAddress)
        cpu.setGeneralRegister(Register.esp.rawValue, 0x8000)
        var runs = 0
        while cpu.run(until: Int64.max) != .halted && runs < 1_000_000 { runs += 1 }
        let guestEnd = Int(cpu.state.pointee.eip)
        let expectedEnd = X87Programs.codeAddress + code.count
        guard guestEnd == expectedEnd else {
            throw ReferenceToolFailure("the guest loop stopped at \(String(guestEnd, radix: 16)), not at its end \(String(expectedEnd, radix: 16))")
        }
        return decode([UInt8](UnsafeRawBufferPointer(start: ram.base + guestDataSegment * 16, count: 262_144)))
    }
}

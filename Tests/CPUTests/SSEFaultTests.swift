@testable import CPURuntime
import Foundation
import X86State
import XCTest

/// How an SSE instruction stops: #GP(0) for a misaligned operand of an
/// aligned form, #UD without CR4.OSFXSR or with CR0.EM, #NM with CR0.TS,
/// #XM (or #UD without CR4.OSXMMEXCPT) for an unmasked SIMD exception with
/// the destination left as it was and MXCSR's flags as the host CPU sets
/// them (a native program catching the host's own SIGFPE), LDMXCSR's #GP,
/// and the FXSAVE image's SSE part against the host's.
final class SSEFaultTests: XCTestCase {
    private let backends: [X86CPU.Backend] = [.jit, .interpreter]

    private func run(_ body: String, backend: X86CPU.Backend, cr0: UInt64? = nil,
                     cr4: UInt64 = ControlRegister.cr4OSFXSR | ControlRegister.cr4OSXMMEXCPT) throws -> SSETestMachine {
        let machine = try SSETestMachine(backend: backend)
        machine.load(try X87Programs.assemble(body, guest: true), cr0: cr0, cr4: cr4)
        machine.run()
        XCTAssertTrue(machine.cpu.halted)
        return machine
    }

    func testMisalignedOperandsOfAlignedFormsRaiseGeneralProtection() throws {
        for backend in backends {
            for instruction in ["movaps xmm0, [D(8)]", "addps xmm0, [D(8)]", "movdqa [D(8)], xmm0", "pxor xmm0, [D(4)]",
                                "movntps [D(8)], xmm0", "cvtps2dq xmm0, [D(8)]"] {
                let machine = try run("nop\n\(instruction)\nmov byte [D(0)], 1", backend: backend)
                XCTAssertEqual(machine.handledVector, 13, "\(backend): \(instruction)")
                XCTAssertEqual(machine.pushedIP, X87Programs.bodyAddress + 1, "\(backend): \(instruction)")
                XCTAssertEqual(machine.data(0, 1), [0])
            }
            for instruction in ["movups xmm0, [D(8)]", "movdqu [D(9)], xmm0", "addss xmm0, [D(2)]", "movsd xmm0, [D(4)]",
                                "movlps xmm0, [D(12)]", "cvtps2pd xmm0, [D(8)]"] {
                let machine = try run("\(instruction)\nmov byte [D(0)], 1", backend: backend)
                XCTAssertNil(machine.handledVector, "\(backend): \(instruction)")
                XCTAssertEqual(machine.data(0, 1), [1], "\(backend): \(instruction)")
            }
        }
    }

    func testAvailabilityFollowsCR4OSFXSRAndCR0EMAndTS() throws {
        let cr0 = ControlRegister.extensionType
        for backend in backends {
            XCTAssertEqual(try run("addps xmm0, xmm1", backend: backend, cr4: 0).handledVector, 6)
            XCTAssertEqual(try run("ldmxcsr [D(0)]", backend: backend, cr4: 0).handledVector, 6)
            XCTAssertEqual(try run("addps xmm0, xmm1", backend: backend, cr0: cr0 | ControlRegister.emulation).handledVector, 6)
            XCTAssertEqual(try run("movdqa xmm0, xmm1", backend: backend, cr0: cr0 | ControlRegister.taskSwitched).handledVector, 7)
            XCTAssertNil(try run("addps xmm0, xmm1\nsfence\nlfence\nmfence\nprefetcht0 [D(0)]\nclflush [D(0)]",
                                 backend: backend).handledVector)
            // Fences and MOVNTI need no OSFXSR.
            XCTAssertNil(try run("mfence\nmovnti [D(0)], eax", backend: backend, cr4: 0).handledVector)
        }
    }

    func testLoadMXCSRWithAReservedBitRaisesGeneralProtection() throws {
        for backend in backends {
            let machine = try run("mov dword [D(0)], 0x11F80\nmov dword [D(4)], 0x7F80\nldmxcsr [D(4)]\nldmxcsr [D(0)]",
                                  backend: backend)
            XCTAssertEqual(machine.handledVector, 13)
            XCTAssertEqual(machine.cpu.state.pointee.simd.mxcsr, 0x7F80)
        }
    }

    /// One unmasked-exception case: MXCSR, operands A and B (four singles each), and the instruction.
    private struct Unmasked {
        let mxcsr: UInt32
        let a: [UInt32]
        let b: [UInt32]
        let instruction: String
    }

    private let unmaskedCases = [
        // 0/0 (invalid) beside 1/3 (inexact), invalid unmasked: no result, and which flags?
        Unmasked(mxcsr: 0x1F00, a: [0, 0x3F80_0000, 0x4000_0000, 0x4040_0000], b: [0, 0x4040_0000, 0x3F80_0000, 0x3F80_0000],
                 instruction: "divps xmm0, xmm1"),
        // Inexact unmasked.
        Unmasked(mxcsr: 0x0F80, a: [0x3F80_0000, 0, 0, 0], b: [0x4040_0000, 0x3F80_0000, 0x3F80_0000, 0x3F80_0000],
                 instruction: "divps xmm0, xmm1"),
        // Overflow unmasked (with inexact masked).
        Unmasked(mxcsr: 0x1B80, a: [0x7F7F_FFFF, 0, 0, 0], b: [0x7F7F_FFFF, 0, 0, 0], instruction: "addss xmm0, xmm1"),
        // Overflow unmasked in two lanes, inexact unmasked too.
        Unmasked(mxcsr: 0x0B80, a: [0x7F7F_FFFF, 0xFF7F_FFFF, 0, 0], b: [0x7F7F_FFFF, 0xFF7F_FFFF, 0, 0], instruction: "addps xmm0, xmm1"),
        // Divide by zero unmasked beside an overflow that is masked.
        Unmasked(mxcsr: 0x1D80, a: [0x3F80_0000, 0x7F7F_FFFF, 0, 0], b: [0, 0x0080_0000, 0x3F80_0000, 0x3F80_0000],
                 instruction: "divps xmm0, xmm1"),
        // Denormal operand unmasked.
        Unmasked(mxcsr: 0x1E80, a: [0x0000_0001, 0x3F80_0000, 0, 0], b: [0x3F80_0000, 0x3F80_0000, 0x3F80_0000, 0x3F80_0000],
                 instruction: "mulps xmm0, xmm1"),
        // Underflow unmasked: tiny and inexact.
        Unmasked(mxcsr: 0x1780, a: [0x0080_0001, 0, 0, 0], b: [0x3F00_0000, 0, 0, 0], instruction: "mulss xmm0, xmm1"),
        // Invalid unmasked through a conversion of a NaN.
        Unmasked(mxcsr: 0x1F00, a: [0, 0, 0, 0], b: [0x7FC0_0000, 0, 0, 0], instruction: "cvttps2dq xmm0, xmm1"),
    ]

    /// A native program runs each case with the exception unmasked, catches
    /// the SIGFPE and prints MXCSR from the signal's context and XMM0.
    private static let nativeSource = """
        #define _GNU_SOURCE
        #include <setjmp.h>
        #include <signal.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <ucontext.h>
        static sigjmp_buf back;
        static volatile unsigned int faulted[5];
        static void handler(int sig, siginfo_t *info, void *context) {
            struct _libc_fpstate *fpu = ((ucontext_t *)context)->uc_mcontext.fpregs;
            faulted[0] = fpu->mxcsr;
            for (int i = 0; i < 4; i++) faulted[i + 1] = fpu->_xmm[0].element[i];
            siglongjmp(back, 1);
        }
        int main(int argc, char **argv) {
            struct sigaction action = {0};
            action.sa_sigaction = handler;
            action.sa_flags = SA_SIGINFO;
            sigaction(SIGFPE, &action, 0);
            unsigned int data[12] __attribute__((aligned(16)));
            for (int i = 0; i < 9; i++) data[i] = strtoul(argv[i + 1], 0, 16);
            unsigned int mxcsr = data[0], out = 0, clean = 0x1F80;
            if (!sigsetjmp(back, 1)) {
                __asm__ volatile("movups 4(%0), %%xmm0\\n movups 20(%0), %%xmm1\\n ldmxcsr %1\\n INSTRUCTION\\n stmxcsr %2\\n movups %%xmm0, 4(%0)"
                                 : : "r"(data), "m"(mxcsr), "m"(out) : "xmm0", "xmm1", "memory");
            } else {
                out = faulted[0];
                for (int i = 0; i < 4; i++) data[i + 1] = faulted[i + 1];
            }
            __asm__ volatile("ldmxcsr %0" : : "m"(clean));
            printf("%x %x %x %x %x\\n", out, data[1], data[2], data[3], data[4]);
            return 0;
        }
        """

    private func hostOutcome(_ test: Unmasked) throws -> [UInt32] {
        let directory = X87Programs.directory
        let name = "unmasked-\(UInt32(truncatingIfNeeded: test.instruction.hashValue))"
        let source = directory.appendingPathComponent(name + ".c"), binary = directory.appendingPathComponent(name)
        try Self.nativeSource.replacingOccurrences(of: "INSTRUCTION", with: Self.att(test.instruction))
            .write(to: source, atomically: true, encoding: .utf8)
        try X87Programs.run("/usr/bin/env", ["gcc", "-O1", "-o", binary.path, source.path])
        let arguments = ([test.mxcsr] + test.a + test.b).map { String($0, radix: 16) }
        let output = try X87Programs.run(binary.path, arguments).split(separator: " ").compactMap {
            UInt32($0.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)
        }
        guard output.count == 5 else { throw ReferenceToolFailure("the native program printed \(output)") }
        return output
    }

    /// The instruction in AT&T syntax for gcc's asm: operands reversed, registers with %%.
    private static func att(_ instruction: String) -> String {
        let parts = instruction.split(separator: " ", maxSplits: 1)
        let operands = parts[1].split(separator: ",").map { "%%" + $0.trimmingCharacters(in: .whitespaces) }
        return "\(parts[0]) \(operands.reversed().joined(separator: ", "))"
    }

    func testUnmaskedExceptionsRaiseXMWithTheHostsFlagsAndNoResult() throws {
        for test in unmaskedCases {
            let expected = try hostOutcome(test)
            XCTAssertNotEqual(expected[0] & 0x3F, 0, "the host raised no exception for \(test.instruction)")
            var body = "mov dword [D(0)], 0x\(String(test.mxcsr, radix: 16))\n"
            for (index, value) in (test.a + test.b).enumerated() {
                body += "mov dword [D(0x\(String(0x10 + 4 * index, radix: 16)))], 0x\(String(value, radix: 16))\n"
            }
            body += "movups xmm0, [D(0x10)]\nmovups xmm1, [D(0x20)]\nldmxcsr [D(0)]\n\(test.instruction)\nmov byte [D(0x40)], 1"
            for backend in backends {
                for (cr4, vector) in [(ControlRegister.cr4OSFXSR | ControlRegister.cr4OSXMMEXCPT, 19), (ControlRegister.cr4OSFXSR, 6)] {
                    let machine = try run(body, backend: backend, cr4: cr4)
                    XCTAssertEqual(machine.handledVector, vector, "\(backend): \(test.instruction)")
                    let simd = machine.cpu.state.pointee.simd
                    let xmm0 = simd.register(0)
                    let lanes = [UInt32(truncatingIfNeeded: xmm0.low), UInt32(truncatingIfNeeded: xmm0.low >> 32),
                                 UInt32(truncatingIfNeeded: xmm0.high), UInt32(truncatingIfNeeded: xmm0.high >> 32)]
                    XCTAssertEqual([simd.mxcsr] + lanes, expected, "\(backend): \(test.instruction) (MXCSR, XMM0)")
                }
            }
        }
    }

    func testFXSAVEStoresMXCSRItsMaskAndTheXMMRegistersAsTheHostDoes() throws {
        var body = "mov dword [D(0x300)], 0x9FC0\nldmxcsr [D(0x300)]\n"
        for index in 0..<32 { body += "mov dword [D(0x\(String(0x310 + 4 * index, radix: 16)))], 0x\(String(0x1234_5678 &* UInt32(index + 1), radix: 16))\n" }
        for register in 0..<8 { body += "movups xmm\(register), [D(0x\(String(0x310 + 16 * (register % 8), radix: 16)))]\n" }
        body += "pshufd xmm3, xmm3, 0x1b\naddps xmm5, xmm6\nfxsave [D(0)]"
        let expected = try X87Programs.hostResult(body, bytes: 512)
        for backend in backends {
            let machine = try run(body, backend: backend)
            XCTAssertNil(machine.handledVector)
            let image = machine.data(0, 512)
            // MXCSR_MASK: bits 0-15 as the host's; this host (AMD) also has bit 17
            // (its misaligned-SSE mask), which the emulated CPU does not.
            XCTAssertEqual(Array(image[24..<30]), Array(expected[24..<30]), "\(backend): MXCSR and MXCSR_MASK")
            XCTAssertEqual(Array(image[30..<32]), [0, 0])
            XCTAssertEqual(Array(image[160..<288]), Array(expected[160..<288]), "\(backend): XMM0-7")
        }
        // FXRSTOR brings them back; one with a reserved MXCSR bit raises #GP(0) and changes nothing.
        for backend in backends {
            let machine = try run(body + "\nfxsave [D(0x400)]\nmov dword [D(0x400+24)], 0x1F80\nmov dword [D(0x400+160)], 7\nfxrstor [D(0x400)]"
                                  + "\nmovd eax, xmm0\nmov [D(0x380)], eax\nstmxcsr [D(0x384)]"
                                  + "\nmov dword [D(0x400+24)], 0x10000\nfxrstor [D(0x400)]", backend: backend)
            XCTAssertEqual(machine.handledVector, 13)
            XCTAssertEqual(machine.data(0x380, 8), [7, 0, 0, 0, 0x80, 0x1F, 0, 0])
            XCTAssertEqual(machine.cpu.state.pointee.simd.mxcsr, 0x1F80)
        }
    }

    /// Blocks are translated for MXCSR's masks (every exception masked, or
    /// not): an FXRSTOR or LDMXCSR that changes them takes effect at the next
    /// instruction, though it sits in the same block.
    func testNewMasksTakeEffectAtTheNextInstruction() throws {
        // 1.0 / 0.0 in XMM1's and XMM0's low lanes.
        let setup = "mov dword [D(0x10)], 0x3F800000\nmovss xmm0, [D(0x10)]\nxorps xmm1, xmm1\nfxsave [D(0x200)]\n"
        for backend in backends {
            // FXRSTOR of an image whose MXCSR unmasks divide-by-zero: DIVSS traps, XMM0 unchanged.
            let unmasking = try run(setup + "mov dword [D(0x200+24)], 0x1D80\nfxrstor [D(0x200)]\ndivss xmm0, xmm1\nmov byte [D(0)], 1",
                                    backend: backend)
            XCTAssertEqual(unmasking.handledVector, 19, "\(backend)")
            XCTAssertEqual(unmasking.data(0, 1), [0], "\(backend)")
            XCTAssertEqual(unmasking.cpu.state.pointee.simd.register(0).low & 0xFFFF_FFFF, 0x3F80_0000, "\(backend)")
            XCTAssertEqual(unmasking.cpu.state.pointee.simd.mxcsr, 0x1D84, "\(backend)")
            // Masked again by LDMXCSR: the quotient is infinity and the flag is recorded.
            let masking = try run(setup + "mov dword [D(0x200+24)], 0x1D80\nfxrstor [D(0x200)]\nmov dword [D(4)], 0x1F80\n"
                                  + "ldmxcsr [D(4)]\ndivss xmm0, xmm1\nmov byte [D(0)], 1", backend: backend)
            XCTAssertNil(masking.handledVector, "\(backend)")
            XCTAssertEqual(masking.data(0, 1), [1], "\(backend)")
            XCTAssertEqual(masking.cpu.state.pointee.simd.register(0).low & 0xFFFF_FFFF, 0x7F80_0000, "\(backend)")
            XCTAssertEqual(masking.cpu.state.pointee.simd.mxcsr, 0x1F84, "\(backend)")
        }
    }
}

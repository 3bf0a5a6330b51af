@testable import CPURuntime
import Foundation
import X86State
import XCTest

/// How SSE3, SSSE3, SSE4.1, SSE4.2 and POPCNT instructions stop: #UD when
/// the CPU model's CPUID leaves their extension out, #UD/#NM by CR4.OSFXSR
/// and CR0 as SSE (but CRC32 and POPCNT, which touch no XMM state), #GP(0)
/// for a misaligned 16-byte operand where the host CPU faults.
final class SSE4FaultTests: XCTestCase {
    private let backends: [X86CPU.Backend] = [.jit, .interpreter]

    private func run(_ body: String, backend: X86CPU.Backend, model: String = "max", cr0: UInt64? = nil,
                     cr4: UInt64 = ControlRegister.cr4OSFXSR | ControlRegister.cr4OSXMMEXCPT) throws -> SSETestMachine {
        let machine = try SSETestMachine(backend: backend, model: model)
        machine.load(try X87Programs.assemble(body, guest: true), cr0: cr0, cr4: cr4)
        machine.run()
        XCTAssertTrue(machine.cpu.halted)
        return machine
    }

    func testExtensionsTheModelLeavesOutRaiseInvalidOpcode() throws {
        // pentium3 declares SSE only; each line's extension is then missing.
        let cases: [(String, String)] = [
            ("haddps xmm0, xmm1", "pni"), ("movddup xmm0, xmm1", "pni"), ("fisttp dword [D(0)]", "pni"),
            ("pshufb xmm0, xmm1", "ssse3"), ("palignr xmm0, xmm1, 3", "ssse3"),
            ("pmulld xmm0, xmm1", "sse4.1"), ("roundps xmm0, xmm1, 1", "sse4.1"), ("pextrd eax, xmm0, 1", "sse4.1"),
            ("pcmpistri xmm0, xmm1, 0", "sse4.2"), ("crc32 eax, cl", "sse4.2"), ("popcnt eax, ecx", "popcnt"),
        ]
        for backend in backends {
            for (instruction, feature) in cases {
                let without = try run("fninit\n\(instruction)\nmov byte [D(4)], 1", backend: backend, model: "pentium3")
                XCTAssertEqual(without.handledVector, 6, "\(backend): \(instruction) without \(feature)")
                XCTAssertEqual(without.data(4, 1), [0])
                let machine = try SSETestMachine(backend: backend, model: "pentium3")
                XCTAssertFalse(machine.cpu.model.features.contains(feature))
                let with = try run("fninit\n\(instruction)\nmov byte [D(4)], 1", backend: backend)
                XCTAssertNil(with.handledVector, "\(backend): \(instruction) with \(feature)")
                XCTAssertEqual(with.data(4, 1), [1])
            }
        }
    }

    func testAvailabilityFollowsCR4OSFXSRAndCR0ButNotForCRC32AndPOPCNT() throws {
        let cr0 = ControlRegister.extensionType
        for backend in backends {
            for instruction in ["pshufb xmm0, xmm1", "ptest xmm0, xmm1", "pcmpestri xmm0, xmm1, 0", "addsubps xmm0, xmm1"] {
                XCTAssertEqual(try run(instruction, backend: backend, cr4: 0).handledVector, 6, "\(backend): \(instruction)")
                XCTAssertEqual(try run(instruction, backend: backend, cr0: cr0 | ControlRegister.taskSwitched).handledVector, 7,
                               "\(backend): \(instruction)")
            }
            for instruction in ["crc32 eax, byte [D(0)]", "popcnt ax, cx"] {
                XCTAssertNil(try run(instruction, backend: backend, cr4: 0).handledVector, "\(backend): \(instruction)")
                XCTAssertNil(try run(instruction, backend: backend, cr0: cr0 | ControlRegister.emulation | ControlRegister.taskSwitched)
                                 .handledVector, "\(backend): \(instruction)")
            }
        }
    }

    /// Which forms fault on a misaligned operand is the host CPU's answer:
    /// each instruction runs natively first (its data area is page-aligned,
    /// so D(8) is 8 bytes off), and a run the host kills with SIGSEGV means
    /// the guest must take #GP(0) there.
    func testMisalignedOperandsFaultAsOnTheHost() throws {
        XCTAssertEqual(try X87Programs.hostResult("mov byte [D(0)], 1", bytes: 1), [1], "the native harness runs")
        let instructions = [
            "pshufb xmm0, [D(8)]", "ptest xmm0, [D(4)]", "pblendvb xmm1, [D(8)]", "roundpd xmm0, [D(8)], 1",
            "movntdqa xmm0, [D(8)]", "haddps xmm0, [D(8)]", "movshdup xmm0, [D(8)]", "dpps xmm0, [D(8)], 0xff",
            "palignr xmm0, [D(8)], 3", "pcmpgtq xmm0, [D(8)]", "phminposuw xmm0, [D(8)]", "mpsadbw xmm0, [D(8)], 1",
            "lddqu xmm0, [D(9)]", "pcmpistri xmm0, [D(3)], 0", "mov eax, 1\nmov edx, 2\npcmpestrm xmm0, [D(5)], 0x40",
            "pmovzxbw xmm0, [D(1)]", "movddup xmm0, [D(4)]", "roundss xmm0, [D(2)], 0", "insertps xmm0, [D(6)], 0x10",
            "pinsrb xmm0, [D(7)], 3", "pextrd [D(5)], xmm0, 1", "crc32 eax, dword [D(3)]", "popcnt eax, [D(1)]",
        ]
        var faulting = 0
        for instruction in instructions {
            let body = "\(instruction)\nmov byte [D(0)], 1"
            let hostFaults = (try? X87Programs.hostResult(body, bytes: 1)) == nil
            if hostFaults { faulting += 1 }
            for backend in backends {
                let machine = try run("nop\n" + body, backend: backend)
                XCTAssertEqual(machine.handledVector, hostFaults ? 13 : nil, "\(backend): \(instruction)")
                XCTAssertEqual(machine.data(0, 1), [hostFaults ? 0 : 1], "\(backend): \(instruction)")
                if hostFaults { XCTAssertEqual(machine.pushedIP, X87Programs.bodyAddress + 1, "\(backend): \(instruction)") }
            }
        }
        XCTAssertEqual(faulting, 12, "the aligned forms")
    }
}

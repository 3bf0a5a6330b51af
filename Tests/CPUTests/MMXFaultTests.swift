@testable import CPURuntime
import Foundation
import X86State
import XCTest

/// How MMX instructions stop: #UD with CR0.EM or when the CPU model leaves
/// MMX out, #NM with CR0.TS, #MF for a pending unmasked x87 exception (CR0.NE
/// set); CR4.OSFXSR does not matter to them.
final class MMXFaultTests: XCTestCase {
    private let backends: [X86CPU.Backend] = [.jit, .interpreter]

    private func run(_ body: String, backend: X86CPU.Backend, model: String = "max", cr0: UInt64? = nil,
                     cr4: UInt64 = ControlRegister.cr4OSFXSR) throws -> SSETestMachine {
        let machine = try SSETestMachine(backend: backend, model: model)
        machine.load(try X87Programs.assemble(body + "\nmov byte [D(0)], 1", guest: true), cr0: cr0, cr4: cr4)
        machine.run()
        XCTAssertTrue(machine.cpu.halted)
        return machine
    }

    func testAvailabilityFollowsCR0AndTheModel() throws {
        let cr0 = ControlRegister.extensionType | ControlRegister.numericError
        for backend in backends {
            for instruction in ["paddb mm0, mm1", "emms", "movd mm0, eax", "pshufw mm0, mm1, 0", "pshufb mm0, mm1"] {
                XCTAssertNil(try run(instruction, backend: backend, cr4: 0).handledVector, "\(backend): \(instruction)")
                XCTAssertEqual(try run(instruction, backend: backend, cr0: cr0 | ControlRegister.emulation).handledVector, 6,
                               "\(backend): \(instruction) with EM")
                XCTAssertEqual(try run(instruction, backend: backend, cr0: cr0 | ControlRegister.taskSwitched).handledVector, 7,
                               "\(backend): \(instruction) with TS")
                XCTAssertEqual(try run(instruction, backend: backend,
                                       cr0: cr0 | ControlRegister.emulation | ControlRegister.taskSwitched).handledVector, 6,
                               "\(backend): \(instruction) with EM and TS")
            }
            // The 486 model has no MMX.
            XCTAssertEqual(try run("paddb mm0, mm1", backend: backend, model: "486").handledVector, 6)
            XCTAssertEqual(try run("emms", backend: backend, model: "486").handledVector, 6)
        }
    }

    func testPendingX87ExceptionRaisesFloatingPointError() throws {
        let cr0 = ControlRegister.extensionType | ControlRegister.numericError
        for backend in backends {
            for instruction in ["paddb mm0, mm1", "emms", "movq mm0, [D(8)]"] {
                // Invalid unmasked, then 0/0 leaves it pending: the MMX instruction takes #MF before it runs.
                let body = "fninit\nmov word [D(4)], 0x37e\nfldcw [D(4)]\nfldz\nfldz\nfdivp\n\(instruction)"
                let machine = try run(body, backend: backend, cr0: cr0)
                XCTAssertEqual(machine.handledVector, 16, "\(backend): \(instruction)")
                XCTAssertEqual(machine.data(0, 1), [0], "\(backend): \(instruction)")
                XCTAssertEqual(machine.cpu.state.pointee.x87.tagValid & 0x80, 0x80, "\(backend): the stack as it was")
            }
        }
    }

    /// MOVQ2DQ and MOVDQ2Q are SSE2 as well as MMX: #UD without CR4.OSFXSR
    /// or with CR0.EM, #NM with CR0.TS, #MF for a pending x87 exception.
    func testMovesBetweenMMXAndXMMFollowCR4AndCR0() throws {
        let cr0 = ControlRegister.extensionType | ControlRegister.numericError
        for backend in backends {
            for instruction in ["movq2dq xmm1, mm2", "movdq2q mm1, xmm2"] {
                XCTAssertNil(try run(instruction, backend: backend).handledVector, "\(backend): \(instruction)")
                XCTAssertEqual(try run(instruction, backend: backend, cr4: 0).handledVector, 6, "\(backend): \(instruction) without OSFXSR")
                XCTAssertEqual(try run(instruction, backend: backend, cr0: cr0 | ControlRegister.emulation).handledVector, 6,
                               "\(backend): \(instruction) with EM")
                XCTAssertEqual(try run(instruction, backend: backend, cr0: cr0 | ControlRegister.taskSwitched).handledVector, 7,
                               "\(backend): \(instruction) with TS")
                let pending = "fninit\nmov word [D(4)], 0x37e\nfldcw [D(4)]\nfldz\nfldz\nfdivp\n\(instruction)"
                XCTAssertEqual(try run(pending, backend: backend, cr0: cr0).handledVector, 16, "\(backend): \(instruction) with #MF pending")
            }
        }
    }
}

import CPURuntime
import Memory
import Timing
import X86State
import XCTest

/// Breakpoints, watchpoints and single steps as the gdb stub uses them, on
/// both backends: where the CPU stops, and that the instruction a watchpoint
/// caught ran exactly once.
final class DebuggerTests: XCTestCase {
    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))

    /// Real mode, CS = 0x100 (code at linear 0x1000), DS = 0:
    ///   0: mov ax,1   3: mov bx,[2000h]   7: inc ax   8: mov [2004h],ax
    ///   B: inc ax     C: add [2008h],ax   10: jmp $
    func makeCPU(_ backend: X86CPU.Backend) throws -> (X86CPU, GuestRAM) {
        let ram = try GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: 1 << 20, kind: .ram(offset: 0))
        let code: [UInt8] = [0xB8, 0x01, 0x00, 0x8B, 0x1E, 0x00, 0x20, 0x40, 0xA3, 0x04, 0x20,
                             0x40, 0x01, 0x06, 0x08, 0x20, 0xEB, 0xFE]
        for (index, byte) in code.enumerated() { space.write(0x1000 + UInt64(index), value: UInt32(byte), size: .byte) }
        space.write(0x2000, value: 0x5A, size: .byte)
        space.write(0x2008, value: 0x100, size: .word)
        let cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: clock, backend: backend)
        cpu.loadRealModeSegment(.cs, selector: 0x100)
        cpu.loadRealModeSegment(.ds, selector: 0)
        cpu.state.pointee.eip = 0
        return (cpu, ram)
    }

    /// Runs for a while; the stops reported meanwhile.
    func run(_ cpu: X86CPU) -> [CPUDebugger.Stop] {
        var stops: [CPUDebugger.Stop] = []
        cpu.debugger.onStop = { stops.append($0) }
        _ = cpu.run(until: clock.now + 10_000)
        return stops
    }

    func word(_ address: Int, _ ram: GuestRAM) -> UInt16 {
        ram.uncheckedPointer(at: address).loadUnaligned(as: UInt16.self)
    }

    func testBreakpointStopsBeforeItsInstructionAndContinuePassesIt() throws {
        for backend in [X86CPU.Backend.jit, .interpreter] {
            let (cpu, _) = try makeCPU(backend)
            XCTAssertTrue(cpu.insertBreakpoint(linear: 0x1007))
            XCTAssertEqual(run(cpu), [.breakpoint])
            XCTAssertEqual(cpu.instructionPointer, 7)
            XCTAssertEqual(cpu.generalRegister(0), 1, "inc ax has not run")
            XCTAssertEqual(cpu.generalRegister(3) & 0xFFFF, 0x5A)
            cpu.prepareToContinue()
            XCTAssertEqual(run(cpu), [], "the loop at 10h never meets the breakpoint again")
            XCTAssertEqual(cpu.instructionPointer, 0x10)
            XCTAssertEqual(cpu.generalRegister(0), 3)
            cpu.removeBreakpoint(linear: 0x1007)
            XCTAssertFalse(cpu.debugger.active)
        }
    }

    func testWatchpointsStopAfterTheAccessingInstruction() throws {
        for backend in [X86CPU.Backend.jit, .interpreter] {
            var (cpu, ram) = try makeCPU(backend)
            XCTAssertTrue(cpu.insertWatchpoint(.init(address: 0x2004, length: 2, kind: .write)))
            XCTAssertTrue(cpu.insertWatchpoint(.init(address: 0x2000, length: 1, kind: .read)))
            XCTAssertEqual(run(cpu), [.watchpoint(.init(address: 0x2000, length: 1, kind: .read))])
            XCTAssertEqual(cpu.instructionPointer, 7, "after mov bx,[2000h]")
            XCTAssertEqual(cpu.generalRegister(3) & 0xFFFF, 0x5A)
            cpu.prepareToContinue()
            XCTAssertEqual(run(cpu), [.watchpoint(.init(address: 0x2004, length: 2, kind: .write))])
            XCTAssertEqual(cpu.instructionPointer, 0xB, "after the store")
            XCTAssertEqual(word(0x2004, ram), 2)

            // An access watchpoint on a read-modify-write: the add runs once.
            (cpu, ram) = try makeCPU(backend)
            XCTAssertTrue(cpu.insertWatchpoint(.init(address: 0x2009, length: 1, kind: .access)))
            XCTAssertEqual(run(cpu), [.watchpoint(.init(address: 0x2009, length: 1, kind: .access))])
            XCTAssertEqual(cpu.instructionPointer, 0x10)
            XCTAssertEqual(word(0x2008, ram), 0x103, "0x100 + ax (3), added once")
            cpu.removeAllDebugPoints()
            XCTAssertEqual(run(cpu), [])
            XCTAssertEqual(word(0x2008, ram), 0x103)
        }
    }

    func testStepRunsOneInstructionAtATime() throws {
        for backend in [X86CPU.Backend.jit, .interpreter] {
            let (cpu, _) = try makeCPU(backend)
            XCTAssertEqual(cpu.debugStep(), .step)
            XCTAssertEqual(cpu.instructionPointer, 3)
            XCTAssertEqual(cpu.debugStep(), .step)
            XCTAssertEqual(cpu.instructionPointer, 7)
            XCTAssertTrue(cpu.insertWatchpoint(.init(address: 0x2004, length: 2, kind: .write)))
            XCTAssertEqual(cpu.debugStep(), .step, "inc ax")
            XCTAssertEqual(cpu.debugStep(), .watchpoint(.init(address: 0x2004, length: 2, kind: .write)))
            XCTAssertEqual(cpu.instructionPointer, 0xB)
        }
    }
}

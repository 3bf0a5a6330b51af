@testable import CPURuntime
import Foundation
import Memory
import Timing
import X86Frontend
import X86State

/// A real-mode machine for SSE programs (`X87Programs`' layout: code at
/// 1000h, data at 2000h through BX, HLT at the end, each exception vector's
/// handler a HLT at 600h + vector), with CR4.OSFXSR set and the CPU model
/// "max" unless told otherwise, on the JIT or the interpreter. Blocks run as
/// the machine runs them (several instructions each), not one instruction at a time.
final class SSETestMachine {
    let ram: GuestRAM
    let cpu: X86CPU
    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))

    /// `model`: -cpu's name; "max" declares every extension built.
    init(backend: X86CPU.Backend, model: String = "max") throws {
        ram = try GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: clock, backend: backend,
                     model: try CPUModel.resolve(name: model, changes: []).model)
    }

    func load(_ code: [UInt8], cr0: UInt64? = nil, cr4: UInt64 = ControlRegister.cr4OSFXSR | ControlRegister.cr4OSXMMEXCPT) {
        ram.base.initializeMemory(as: UInt8.self, repeating: 0, count: 0x20000)
        for vector in 0..<32 {
            let handler = X87TestMachine.handlerBase + vector
            ram.base.storeBytes(of: UInt16(handler), toByteOffset: vector * 4, as: UInt16.self)
            ram.base.storeBytes(of: UInt8(0xF4), toByteOffset: handler, as: UInt8.self)
        }
        (ram.base + X87Programs.codeAddress).copyMemory(from: code, byteCount: code.count)
        cpu.reset()
        for segment in [Segment.es, .cs, .ss, .ds] { cpu.loadRealModeSegment(segment, selector: 0) }
        cpu.state.pointee.eip = UInt64(X87Programs.codeAddress)
        cpu.setGeneralRegister(Register.esp.rawValue, X87TestMachine.stackTop)
        if let cr0 { cpu.setControlRegisters(cr0: cr0) }
        cpu.setControlRegisters(cr4: cr4)
    }

    func run() {
        var rounds = 0
        while !cpu.halted && cpu.stopReason == nil && rounds < 1000 {
            _ = cpu.run(until: clock.now + 100_000)
            rounds += 1
        }
    }

    var handledVector: Int? {
        let vector = Int(cpu.state.pointee.eip) - 1 - X87TestMachine.handlerBase
        return (0..<32).contains(vector) ? vector : nil
    }

    /// The IP the last interrupt pushed (the faulting instruction's for faults).
    var pushedIP: Int { Int(ram.base.load(fromByteOffset: Int(cpu.generalRegister(Register.esp.rawValue) & 0xFFFF), as: UInt16.self)) }

    func data(_ offset: Int, _ count: Int) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: ram.base + X87Programs.dataAddress + offset, count: count))
    }
}

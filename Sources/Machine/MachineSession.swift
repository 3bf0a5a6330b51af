import Execution
import PCEmuSupport

/// Runs a built machine until it powers off: the CPU thread drives the guest,
/// the calling (main) thread owns the window. The CPU issue supplies the engine.
public struct MachineSession {
    public let machine: PCMachine

    public init(machine: PCMachine) { self.machine = machine }

    public func run() throws -> Int32 {
        guard let engine = machine.engine else {
            throw EmulatorError.notBuilt("pcemu", "the x86 CPU")
        }
        let loop = CPUThreadLoop(clock: machine.clock, scheduler: machine.scheduler, engine: engine,
                                 onReset: { [machine] in machine.reset() })
        return loop.run()
    }
}

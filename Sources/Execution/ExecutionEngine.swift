/// Why an execution engine handed control back to the run loop.
public enum EngineStop: Equatable {
    /// It reached the deadline it was given, or was asked to exit early.
    case yielded
    /// The guest executed HLT with nothing to do: sleep until the next event.
    case halted
    /// The guest asked for a reset (triple fault, 0xCF9, the 8042).
    case reset
    /// The guest powered the machine off, or the user quit: exit with this status.
    case powerOff(status: Int32)
}

/// What the CPU thread drives: a CPU with its translator and backend.
/// Called once per time slice, never per guest instruction.
public protocol ExecutionEngine: AnyObject {
    /// Runs guest code until the virtual clock reaches `deadline` (ns) or
    /// `requestExit` is called.
    func run(until deadline: Int64) -> EngineStop
    /// Thread-safe: makes `run` return at the next block boundary.
    func requestExit()
    /// Puts the CPU in its power-on state.
    func reset()
}

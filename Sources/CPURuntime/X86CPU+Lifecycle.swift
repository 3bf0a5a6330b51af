import Lifecycle

/// The CPU as a part of the machine's lifecycle: `reset()` is the RESET
/// signal (X86CPU.swift). It has no handler on a bus.
extension X86CPU: MachineDevice {
    public var busParts: [AnyObject] { [] }
}

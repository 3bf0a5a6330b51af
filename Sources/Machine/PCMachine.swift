import Configuration
import Execution
import Memory
import PCEmuSupport
import Timing

/// The PC: guest RAM, the physical address space, the port bus, the clock and
/// its scheduler. Chips and the CPU attach to these as they are built.
public final class PCMachine {
    /// The parts built so far; options needing anything else are refused.
    public static let capabilities: Capabilities = [.sdlDisplay]

    public let configuration: MachineConfiguration
    public let ram: GuestRAM
    public let addressSpace: AddressSpace
    public let ports: IOPortBus
    public let clock: VirtualClock
    public let scheduler: EventScheduler
    /// The CPU that runs the guest; nil until the CPU is built.
    public private(set) var engine: ExecutionEngine?

    /// Where conventional memory ends and the VGA/BIOS hole begins.
    static let lowMemoryTop: UInt64 = 0xA0000
    /// RAM above 1 MiB restarts here.
    static let extendedMemoryBase: UInt64 = 0x10_0000

    public init(configuration: MachineConfiguration, clock: VirtualClock = VirtualClock()) throws {
        try ConfigurationValidator(available: PCMachine.capabilities).validate(configuration)
        self.configuration = configuration
        ram = try GuestRAM(size: configuration.memoryBytes)
        addressSpace = AddressSpace(ram: ram)
        ports = IOPortBus()
        self.clock = clock
        scheduler = EventScheduler()
        try mapRAM()
    }

    /// Puts every device back in its power-on state (the CPU resets itself).
    public func reset() {}

    /// Conventional memory below 640 KiB and everything from 1 MiB up; the hole
    /// between belongs to VGA and the BIOS ROMs.
    private func mapRAM() throws {
        let size = UInt64(ram.size)
        try addressSpace.map("ram-low", at: 0, size: min(size, PCMachine.lowMemoryTop), kind: .ram(offset: 0))
        if size > PCMachine.extendedMemoryBase {
            try addressSpace.map("ram-high", at: PCMachine.extendedMemoryBase, size: size - PCMachine.extendedMemoryBase,
                                 kind: .ram(offset: Int(PCMachine.extendedMemoryBase)))
        }
    }
}

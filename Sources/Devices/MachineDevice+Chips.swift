import Lifecycle

// Each chip as a part of the machine's lifecycle: its `reset()` (in its own
// file) and the handlers it puts on the port bus or the address space, so the
// machine can check that its registry misses nothing on a bus.

extension PIC8259: MachineDevice {
    public var busParts: [AnyObject] { [self, master, slave] }
}

extension PIT8254: MachineDevice {}
extension LocalAPIC: MachineDevice {}
extension IOAPIC: MachineDevice {}
extension HPET: MachineDevice {}
extension SystemControlPortB: MachineDevice {}
extension MC146818: MachineDevice {}
extension UART16550: MachineDevice {}
extension SystemControlPortA: MachineDevice {}
extension ResetControlRegister: MachineDevice {}

extension I8042: MachineDevice {
    public var busParts: [AnyObject] { [self, commandWindow] }
}

/// The bus resets its functions (RST#), so they are its parts: the functions
/// and their BAR windows, found on the bus, so a new function is never missed.
extension PCIBus: MachineDevice {
    public var busParts: [AnyObject] {
        [addressRegister, dataWindow] + pluggedFunctions.flatMap(\.device.busParts)
    }
}

/// Subclasses add their BAR windows by overriding `busParts`.
extension PCIDevice: MachineDevice {}

extension ACPIGPEBlock: MachineDevice {}

extension HotplugStatusPorts: MachineDevice {
    /// Nothing to reset: no PCI slot or CPU ever comes or goes, so these
    /// registers hold no state.
    public func reset() {}
    public var busParts: [AnyObject] { [pci, cpus] }
}

extension FirmwareConfig: MachineDevice {
    public var busParts: [AnyObject] { [self, dmaPorts] }
}

extension DebugConsole: MachineDevice {}
extension CoprocessorErrorPort: MachineDevice {}

extension DMA8237: MachineDevice {
    public var busParts: [AnyObject] { [slave, master, pages] }
}

extension FloppyController: MachineDevice {
    public var busParts: [AnyObject] { [self, digitalInput] }
}

extension VGA: MachineDevice {
    public var busParts: [AnyObject] { [self, window] }
}

extension BochsVBE: MachineDevice {}
extension StandardVGAMMIO: MachineDevice {}
extension SoundBlaster16: MachineDevice {}
extension OPL3: MachineDevice {}

extension NE2000ISA: MachineDevice {
    public var busParts: [AnyObject] { [ports] }
}

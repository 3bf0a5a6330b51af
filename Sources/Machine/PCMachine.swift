import CPURuntime
import Configuration
import Devices
import Execution
import Foundation
import Lifecycle
import Memory
import PCEmuSupport
import Timing

/// The PC: guest RAM, the physical address space, the port bus, the clock and
/// its scheduler, the x86 CPU, the chipset, the BIOS, and the CPU thread's
/// loop that runs them. Built whole from a `MachineConfiguration`.
public final class PCMachine {
    /// The parts built; options needing anything else are refused.
    /// -cpu help: the models and the feature names.
    public static var cpuHelpLines: [String] { CPUModel.helpLines }

    public static let capabilities: Capabilities = [
        .cpu, .jit, .firmware, .directLinuxBoot, .serialPorts, .debugPorts, .monitor, .qmp,
        .soundBlaster, .pulseAudio, .wavAudio, .ac97, .intelHDA,
        .ne2000, .e1000, .userNetwork, .usb,
        .sdlDisplay, .standardVGA,
        .ideDisk, .ideCDROM, .qcow2, .snapshot,
        .floppy, .gdbStub, .parallelFlash,
    ]

    public let configuration: MachineConfiguration
    public let ram: GuestRAM
    public let addressSpace: AddressSpace
    public let ports: IOPortBus
    public let clock: VirtualClock
    public let scheduler: EventScheduler
    public let cpu: X86CPU
    /// What -cpu asked for that the CPU does not have, one line each, for the user.
    public let cpuWarnings: [String]
    public let loop: CPUThreadLoop
    public let firmware: FirmwareImage
    /// -drive if=pflash: the flash chips, unit 0 the firmware instead of -bios.
    let systemFlash: SystemFlash?
    public let e820: E820Map
    /// Where the RAM is: below the PCI hole, and above 4 GiB what does not fit there.
    public let ramLayout: RAMLayout
    /// Set with -kernel: what is loaded and where the CPU starts.
    public let linuxBoot: LinuxBootLoader?
    let shadow: ShadowMemory
    let chipset: Chipset
    /// nil with -vga none.
    let graphics: StandardVGA?
    /// Every part of the machine by name: reset, saved state and `info` go through it.
    public let devices = DeviceRegistry()
    /// Frames the CPU thread rendered, for the window or a screendump.
    public let display = DisplayOutput()
    /// The screen's refresh, once a window shows it (CPU thread only).
    var displayRefresh: DisplayRefresh?
    let sound: SoundDevices
    let networkCards: NetworkCards
    /// The USB controllers and their devices (-usb, -device usb-*).
    let usb: USBDevices
    /// The disks and CD-ROMs on the IDE channels, images open.
    let ideDrives: IDEDrives
    /// The floppy drives A: and B:, images open.
    let floppyDrives: FloppyDrives
    /// The terminal backend when a serial port or the monitor is on stdio; started by `start()`.
    let stdioConsole: StdioConsole?
    /// Backends stay alive as long as the machine.
    private var backends: [SerialBackend] = []

    /// The CPU that runs the guest.
    public var engine: ExecutionEngine { cpu }
    public var pic: PIC8259 { chipset.pic }
    public var localAPIC: LocalAPIC { chipset.localAPIC }
    public var ioAPIC: IOAPIC { chipset.ioAPIC }
    public var hpet: HPET { chipset.hpet }
    public var firmwareConfig: FirmwareConfig { chipset.firmwareConfig }
    public var rtc: MC146818 { chipset.rtc }
    public var serialPorts: [UART16550] { chipset.serialPorts }
    public var hostBridge: I440FX { chipset.hostBridge }
    public var pciBus: PCIBus { chipset.pciBus }
    public var powerManagement: PIIX4PM { chipset.powerManagement }
    public var dma: DMA8237 { chipset.dma }

    /// Where conventional memory ends and the VGA/BIOS hole begins.
    static let lowMemoryTop: UInt64 = 0xA0000
    /// RAM above 1 MiB restarts here.
    static let extendedMemoryBase: UInt64 = 0x10_0000

    public init(configuration: MachineConfiguration, clock: VirtualClock = VirtualClock()) throws {
        try ConfigurationValidator(available: PCMachine.capabilities).validate(configuration)
        try PCMachine.checkWhatIsNotValidated(configuration)
        let cpuModel = try CPUModel.resolve(name: configuration.cpuModel, changes: configuration.cpuFeatureChanges.map { ($0.feature, $0.enabled) })
        // As QEMU's TCG: what the model asks for and PCEmu lacks is left out, with a word when -cpu chose it.
        cpuWarnings = configuration.cpuModel == nil ? [] : cpuModel.missing.map {
            "-cpu \(configuration.cpuModel!): \($0.name) (\($0.word.leafName) bit \($0.bit)) is not built yet; CPUID leaves it out"
        }
        self.configuration = configuration
        ram = try GuestRAM(size: configuration.memoryBytes)
        ramLayout = RAMLayout(ramBytes: UInt64(ram.size))
        addressSpace = AddressSpace(ram: ram)
        ports = IOPortBus()
        self.clock = clock
        scheduler = EventScheduler()
        try PCMachine.mapRAM(ram, layout: ramLayout, in: addressSpace)

        ideDrives = try IDEDrives(configuration: configuration)
        floppyDrives = try FloppyDrives(configuration: configuration)
        cpu = X86CPU(addressSpace: addressSpace, ports: ports, clock: clock,
                     backend: configuration.backend == .interpreter ? .interpreter : .jit,
                     codeCacheBytes: configuration.codeCacheMiB << 20, model: cpuModel.model)
        loop = CPUThreadLoop(clock: clock, scheduler: scheduler, engine: cpu, onReset: {})
        loop.exitOnReset = configuration.noReboot

        systemFlash = try SystemFlash(configuration: configuration, addressSpace: addressSpace)
        if let systemFlash {
            firmware = systemFlash.firmware
        } else {
            firmware = try FirmwareImage(path: configuration.bios)
            try firmware.mapHigh(in: addressSpace)
        }
        shadow = try ShadowMemory(addressSpace: addressSpace, firmware: firmware)
        chipset = try Chipset(ports: ports, addressSpace: addressSpace, clock: clock, scheduler: scheduler,
                              cpu: cpu, loop: loop, shadow: shadow, ideDevices: ideDrives.devices,
                              floppyDrives: floppyDrives.drives)
        if let plan = try VGAPlan.make(from: configuration) {
            graphics = try StandardVGA(ports: ports, addressSpace: addressSpace, pciBus: chipset.pciBus, clock: clock, plan: plan)
        } else {
            graphics = nil
        }
        sound = try SoundDevices(configuration: configuration, chipset: chipset, ports: ports, addressSpace: addressSpace,
                                 memoryWritten: { [unowned cpu] in cpu.physicalMemoryWritten(at: $0, length: $1) },
                                 clock: clock, scheduler: scheduler)
        networkCards = try NetworkCards(configuration: configuration, chipset: chipset, ports: ports, loop: loop,
                                        addressSpace: addressSpace, cpu: cpu, clock: clock, scheduler: scheduler)
        usb = try USBDevices(configuration: configuration, chipset: chipset, ports: ports, addressSpace: addressSpace,
                             cpu: cpu, loop: loop, clock: clock, scheduler: scheduler)

        e820 = E820Map(layout: ramLayout, firmwareBytes: UInt64(systemFlash?.totalSize ?? firmware.size))
        if let kernel = configuration.kernel {
            // As QEMU, the kernel and initrd go below 4 GiB.
            linuxBoot = try LinuxBootLoader(kernelPath: kernel, initrdPath: configuration.initrd,
                                            commandLine: configuration.append, ramBytes: ramLayout.belowFourGiB)
        } else {
            linuxBoot = nil
        }
        stdioConsole = configuration.effectiveSerial.contains(.stdio) || configuration.monitorOnTerminal
            ? StdioConsole(loop: loop, scheduler: scheduler, clock: clock) : nil

        try connectBackends()
        try setUpFirmwareInterfaces()
        registerDevices()
        loop.onReset = { [unowned self] in self.reset() }
    }

    /// Puts every registered device, the CPU among them, back in its power-on
    /// state; the CPU starts at the BIOS's reset vector again (with -kernel,
    /// fw_cfg still holds the kernel, so the firmware boots it again; the RTC
    /// keeps its time and CMOS). A20 is the machine's line: enabled at reset.
    public func reset() {
        devices.resetAll()
        cpu.setA20(true)
    }

    /// Stops the sound back end after playing what is queued; call when the run ends.
    public func closeAudio() {
        sound.close()
    }

    /// Everything the guest wrote reaches the disk (fsync); called when the machine stops.
    public func flushDisks() {
        ideDrives.flush()
        floppyDrives.flush()
        systemFlash?.flush()
    }

    /// Starts the terminal's reader (and raw mode); call just before running.
    public func startHostInput() {
        stdioConsole?.start()
        networkCards.start()
    }

    // MARK: Building

    /// What the validator knows nothing about: serial ports beyond COM2, two
    /// users of stdio, -device isa-debugcon (use -debugcon).
    static func checkWhatIsNotValidated(_ configuration: MachineConfiguration) throws {
        let serial = configuration.effectiveSerial
        if serial.count > Chipset.serialPortPlaces.count, serial.dropFirst(Chipset.serialPortPlaces.count).contains(where: { $0 != .disabled }) {
            throw EmulatorError.notBuilt("-serial", "COM3 and COM4")
        }
        if serial.filter({ $0 == .stdio }).count > 1 {
            throw EmulatorError.badOption("-serial", "stdio can be used by one serial port only")
        }
        if configuration.devices.contains(where: { $0.kind == "isa-debugcon" }) {
            throw EmulatorError.badOption("-device", "isa-debugcon is always there at 0x402 and 0xE9: use -debugcon CHARDEV")
        }
    }

    /// Conventional memory below 640 KiB, everything from 1 MiB up to the PCI
    /// hole, and the rest of the block from 4 GiB up; the hole between 640 KiB
    /// and 1 MiB belongs to VGA (`StandardVGA` maps its window) and the shadowed BIOS.
    static func mapRAM(_ ram: GuestRAM, layout: RAMLayout, in addressSpace: AddressSpace) throws {
        let low = layout.belowFourGiB
        try addressSpace.map("ram-low", at: 0, size: min(low, lowMemoryTop), kind: .ram(offset: 0))
        if low > extendedMemoryBase {
            try addressSpace.map("ram-high", at: extendedMemoryBase, size: low - extendedMemoryBase,
                                 kind: .ram(offset: Int(extendedMemoryBase)))
        }
        if layout.aboveFourGiB > 0 {
            try addressSpace.map("ram-above-4g", at: RAMLayout.highBase, size: layout.aboveFourGiB, kind: .ram(offset: Int(low)))
        }
    }

    /// COM1/COM2 and the debug console to where the command line sends them.
    private func connectBackends() throws {
        for (index, device) in configuration.effectiveSerial.prefix(Chipset.serialPortPlaces.count).enumerated() {
            let uart = chipset.serialPorts[index]
            if device == .stdio { stdioConsole?.receiver = uart }
            uart.backend = try backend(for: device, option: "-serial")
        }
        let debugBackend = try configuration.debugConsole.flatMap { try backend(for: $0, option: "-debugcon") }
        for console in chipset.debugConsoles { console.backend = debugBackend }
    }

    private func backend(for device: MachineConfiguration.CharacterDevice, option: String) throws -> SerialBackend? {
        let made: SerialBackend?
        switch device {
        case .stdio:
            // The debug console shares no terminal with the serial port: it writes to stderr.
            made = option == "-debugcon" ? FileDescriptorBackend(descriptor: STDERR_FILENO, ownsDescriptor: false) : stdioConsole
        case let .file(path): made = try FileDescriptorBackend(path: path, option: option)
        case .null: made = NullBackend()
        case .disabled: made = nil
        case .socket: throw EmulatorError.badOption(option, "sockets are built for -monitor and -qmp only")
        }
        if let made { backends.append(made) }
        return made
    }
}

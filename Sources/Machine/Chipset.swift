import CPURuntime
import Devices
import Memory
import PCEmuSupport
import Timing

/// The PC's chips, each at its ports and on its IRQ: the local APIC (LINT0
/// fed by the 8259 pair) and the I/O APIC beside the PIC pair, the HPET,
/// PIT and port 0x61, RTC/CMOS, COM1/COM2, ports 0x92 and 0xCF9, the 8042, PCI bus 0
/// with the i440FX (PAM → `ShadowMemory`), PIIX3 (PIRQ → PIC) and PIIX4 PM
/// (PMBASE moves its ports, S5 powers off, SCI on IRQ 9, APM at 0xB2), fw_cfg
/// and the debug console at 0x402 and 0xE9, the DMA controllers (0x00, 0xC0,
/// pages at 0x80), the floppy controller (0x3F0, IRQ 6, DMA 2).
final class Chipset {
    let pic: PIC8259
    let apicBus: APICBus
    let localAPIC: LocalAPIC
    let ioAPIC: IOAPIC
    let hpet: HPET
    let irqs: ISAInterrupts
    let pit: PIT8254
    let portB: SystemControlPortB
    let rtc: MC146818
    let serialPorts: [UART16550]
    let portA: SystemControlPortA
    let resetControl: ResetControlRegister
    let keyboardController: I8042
    let pciBus: PCIBus
    let hostBridge: I440FX
    let isaBridge: PIIX3
    let powerManagement: PIIX4PM
    let generalPurposeEvents: ACPIGPEBlock
    let hotplugStatus: HotplugStatusPorts
    let firmwareConfig: FirmwareConfig
    let debugConsoles: [DebugConsole]
    let coprocessorError: CoprocessorErrorPort
    let dma: DMA8237
    let ide: PIIX3IDE
    let floppy: FloppyController

    static let serialPortPlaces: [(name: String, base: UInt16, irq: Int)] = [
        ("com1", UART16550.com1Base, UART16550.com1IRQ), ("com2", UART16550.com2Base, UART16550.com2IRQ),
    ]

    init(ports: IOPortBus, addressSpace: AddressSpace, clock: VirtualClock, scheduler: EventScheduler,
         cpu: X86CPU, loop: CPUThreadLoop, shadow: ShadowMemory, ideDevices: [IDEDevice?] = [],
         floppyDrives: [FloppyDrive] = []) throws {
        let requestReset = { [unowned loop] in loop.requestReset() }
        let setA20 = { [unowned cpu] (enabled: Bool) in cpu.setA20(enabled) }

        // The 8259's INT goes to the local APIC's LINT0, whose output is the CPU's INTR.
        apicBus = APICBus()
        localAPIC = LocalAPIC(apicID: 0, bootstrapProcessor: true, clock: clock, scheduler: scheduler)
        apicBus.attach(localAPIC)
        localAPIC.outputChanged = { [unowned loop, unowned cpu] level in
            cpu.interruptLine = level
            if level { loop.wake() }  // a falling line asks nothing of the CPU
        }
        pic = PIC8259 { [unowned localAPIC] level in localAPIC.setLocalInput(0, level: level) }
        localAPIC.externalAcknowledge = { [unowned pic] in pic.acknowledge() }
        try LocalAPICPage.map(localAPIC, in: addressSpace)
        cpu.localAPIC = localAPIC
        cpu.interrupts = localAPIC
        ioAPIC = IOAPIC(bus: apicBus)
        try addressSpace.map("ioapic", at: UInt64(IOAPIC.defaultBase), size: IOAPIC.pageSize, kind: .mmio(ioAPIC))
        irqs = ISAInterrupts(pic: pic, ioAPIC: ioAPIC)
        try pic.attach(to: ports)

        let pitWire = irqs.lineAndDriver(0)
        pit = PIT8254(clock: clock, scheduler: scheduler, irq0: pitWire.line)
        try ports.attach(pit, name: "pit", base: PIT8254.base, count: PIT8254.portCount)
        portB = SystemControlPortB(pit: pit, clock: clock)
        try ports.attach(portB, name: "port-61", base: SystemControlPortB.port, count: 1)

        let rtcWire = irqs.lineAndDriver(8)
        rtc = MC146818(clock: clock, scheduler: scheduler, irq: rtcWire.line)
        try ports.attach(rtc, name: "rtc", base: MC146818.base, count: MC146818.portCount)

        // The HPET's GSIs: 0 and 8 (legacy replacement, or route 8) are ISA
        // IRQ 0's and 8's lines, which the PIT and RTC then leave; 9-15 too
        // are ISA IRQ lines (the PIC and the pin), 2 and 16-23 I/O APIC pins.
        let isaIRQs = irqs
        let hpetDrivers = (0..<16).map { $0 == 0 || $0 >= 8 ? isaIRQs.claimDriver($0) : 0 }
        hpet = HPET(clock: clock, scheduler: scheduler, interrupt: { [unowned isaIRQs] gsi, level in
            if gsi == 0 || (8..<16).contains(gsi) {
                isaIRQs.set(gsi, driver: hpetDrivers[gsi], level)
            } else {
                isaIRQs.setIOAPICPin(gsi, level)
            }
        }, legacyReplacementChanged: { [unowned isaIRQs, unowned pit] on in
            // The PIT's counter 0 stops arming timers for edges that reach
            // nothing; it takes its level again before the line is back.
            if on {
                isaIRQs.cut(0, driver: pitWire.driver, true)
                pit.setIRQ0Connected(false)
            } else {
                pit.setIRQ0Connected(true)
                isaIRQs.cut(0, driver: pitWire.driver, false)
            }
            isaIRQs.cut(8, driver: rtcWire.driver, on)
        })
        try addressSpace.map("hpet", at: HPET.base, size: HPET.size, kind: .mmio(hpet))

        var serialPorts: [UART16550] = []
        for place in Chipset.serialPortPlaces {
            let uart = UART16550(name: place.name, clock: clock, scheduler: scheduler, irq: irqs.line(place.irq))
            try ports.attach(uart, name: place.name, base: place.base, count: UART16550.portCount)
            serialPorts.append(uart)
        }
        self.serialPorts = serialPorts

        portA = SystemControlPortA(setA20: setA20, requestReset: requestReset)
        try ports.attach(portA, name: "port-92", base: SystemControlPortA.port, count: 1)

        keyboardController = I8042(keyboardIRQ: irqs.line(I8042.keyboardIRQ), mouseIRQ: irqs.line(I8042.mouseIRQ),
                                   setA20: setA20, requestReset: requestReset)
        try keyboardController.attach(to: ports)

        pciBus = PCIBus()
        // 0xCF9 first: the bus's address register decodes only dword accesses at 0xCF8.
        resetControl = ResetControlRegister(requestReset: requestReset)
        try pciBus.attach(to: ports)
        try ports.attach(resetControl, name: "reset-control", base: ResetControlRegister.port, count: 1)

        hostBridge = I440FX { [unowned shadow] area, mode in
            do { try shadow.apply(area, mode) } catch { Log.emit("pcemu: cannot remap PAM area: \(error)") }
        }
        try pciBus.plug(hostBridge, slot: I440FX.slot)

        let pirqDriver = irqs.claimDriver  // the PIIX3 drives any IRQ a PIRQ is routed to
        var piixDrivers = [UInt32](repeating: 0, count: 16)
        for irq in 0..<16 { piixDrivers[irq] = pirqDriver(irq) }
        isaBridge = PIIX3 { [unowned irqs] irq, level in irqs.set(irq, driver: piixDrivers[irq], level) }
        try pciBus.plug(isaBridge, slot: PIIX3.slot)
        pciBus.interruptRouter = isaBridge

        powerManagement = PIIX4PM(clock: clock, scheduler: scheduler, sci: irqs.line(PIIX4PM.sciIRQ),
                                  powerOff: { [unowned loop] in loop.stop(status: 0, cause: .guestShutdown) })
        let pmRegisters = powerManagement.pmRegisters!
        powerManagement.pmIOMoved = { [unowned ports] old, new in
            if let old { ports.detach(base: old, count: PIIX4PM.pmIOSize) }
            if let new {
                do { try ports.attach(pmRegisters, name: "piix4-pm", base: new, count: PIIX4PM.pmIOSize) } catch {
                    Log.write(.guestErrors, "piix4-pm: PMBASE 0x\(String(new, radix: 16)) collides: \(error)")
                }
            }
        }
        try pciBus.plug(powerManagement, slot: PIIX4PM.slot, function: PIIX4PM.function)
        try ports.attach(powerManagement.apmPorts, name: "apm", base: PIIX4PM.apmPort, count: PIIX4PM.apmPortCount)
        // The GPE block and hot-plug registers SeaBIOS's ACPI tables expect of QEMU's PIIX4 machine.
        generalPurposeEvents = ACPIGPEBlock()
        try ports.attach(generalPurposeEvents, name: "acpi-gpe0", base: ACPIGPEBlock.base, count: ACPIGPEBlock.portCount)
        hotplugStatus = HotplugStatusPorts()
        try ports.attach(hotplugStatus.pci, name: "acpi-pci-hotplug", base: HotplugStatusPorts.pciBase,
                         count: HotplugStatusPorts.pciPortCount)
        try ports.attach(hotplugStatus.cpus, name: "acpi-cpu-hotplug", base: HotplugStatusPorts.cpuBase,
                         count: HotplugStatusPorts.cpuPortCount)

        // IDE at 01.1: legacy ports and IRQs 14/15; DMA writes make translated code stale.
        let ideChannels = [IDEChannel(name: "ide0", irq: irqs.line(IDEChannel.primaryIRQ)),
                           IDEChannel(name: "ide1", irq: irqs.line(IDEChannel.secondaryIRQ))]
        for (place, device) in ideDevices.enumerated() {
            if let device { ideChannels[place / 2].connect(device, at: place % 2) }
        }
        ide = PIIX3IDE(primary: ideChannels[0], secondary: ideChannels[1], memory: addressSpace) { [unowned cpu] address, length in
            cpu.physicalMemoryWritten(at: address, length: length)
        }
        try pciBus.plug(ide, slot: PIIX3.slot, function: PIIX3IDE.function)
        try ide.attach(to: ports)

        firmwareConfig = FirmwareConfig(memory: addressSpace) { [unowned cpu] address, length in
            cpu.physicalMemoryWritten(at: address, length: length)
        }
        try firmwareConfig.attach(to: ports)

        debugConsoles = [DebugConsole(), DebugConsole()]
        try ports.attach(debugConsoles[0], name: "debugcon-402", base: DebugConsole.seaBIOSPort, count: 1)
        try ports.attach(debugConsoles[1], name: "debugcon-e9", base: DebugConsole.bochsPort, count: 1)

        // The x87's legacy error path: FERR# to IRQ 13, cleared through port 0xF0.
        coprocessorError = CoprocessorErrorPort(irq13: irqs.line(CoprocessorErrorPort.irq))
        try ports.attach(coprocessorError, name: "fpu-error", base: CoprocessorErrorPort.port, count: 1)
        cpu.ferr = { [unowned coprocessorError] in coprocessorError.raiseError() }

        dma = DMA8237(memory: addressSpace)
        try dma.attach(to: ports)

        floppy = FloppyController(drives: floppyDrives, dma: dma, irq: irqs.line(FloppyController.irq)) { [unowned cpu] address, length in
            cpu.physicalMemoryWritten(at: address, length: length)
        }
        try floppy.attach(to: ports)
    }
}

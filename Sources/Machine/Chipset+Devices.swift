import Lifecycle

extension Chipset {
    /// Every chip under the name it is wired as; the PCI bus stands for the
    /// functions plugged into it.
    func register(in devices: DeviceRegistry) {
        devices.register(localAPIC, as: "lapic")
        devices.register(ioAPIC, as: "ioapic")
        // Before the chips that drive it: their loads then find its levels already as saved.
        devices.register(irqs, as: "isa-irqs")
        devices.register(hpet, as: "hpet")
        devices.register(pic, as: "pic")
        devices.register(pit, as: "pit")
        devices.register(portB, as: "port-61")
        devices.register(rtc, as: "rtc")
        for (uart, place) in zip(serialPorts, Chipset.serialPortPlaces) { devices.register(uart, as: place.name) }
        devices.register(portA, as: "port-92")
        devices.register(resetControl, as: "reset-control")
        devices.register(keyboardController, as: "i8042")
        devices.register(pciBus, as: "pci-bus")
        devices.register(generalPurposeEvents, as: "acpi-gpe0")
        devices.register(hotplugStatus, as: "acpi-hotplug")
        devices.register(firmwareConfig, as: "fw-cfg")
        devices.register(debugConsoles[0], as: "debugcon-402")
        devices.register(debugConsoles[1], as: "debugcon-e9")
        devices.register(coprocessorError, as: "fpu-error")
        devices.register(dma, as: "dma")
        devices.register(floppy, as: "fdc")
    }
}

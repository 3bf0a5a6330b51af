import Devices
import Lifecycle

extension PCMachine {
    /// Fills `devices` with every part of the machine, in the order a reset
    /// visits them: the clock, the CPU, the chips (the PCI bus with every
    /// function plugged into it), the PAM shadow mapping, then the VGA's,
    /// sound's and ISA network cards' chips.
    func registerDevices() {
        devices.register(clock, as: "clock")
        // RAM before the CPU: the CPU's load drops every translation, made from what RAM held.
        devices.register(RAMDevice(ram: ram), as: "ram")
        devices.register(cpu, as: "cpu")
        chipset.register(in: devices)
        devices.register(shadow, as: "pam-shadow")
        for unit in systemFlash?.units ?? [] { devices.register(unit, as: unit.name) }
        graphics?.register(in: devices)
        sound.register(in: devices)
        networkCards.register(in: devices)
    }
}

extension StandardVGA {
    /// The VGA core, VBE and BAR2's registers (the PCI function is on the bus).
    func register(in devices: DeviceRegistry) {
        devices.register(vga, as: "vga")
        devices.register(vbe, as: "bochs-vbe")
        if let registerWindow { devices.register(registerWindow, as: "vga-mmio") }
    }
}

extension SoundDevices {
    func register(in devices: DeviceRegistry) {
        if let soundBlaster { devices.register(soundBlaster, as: "sb16") }
        if let opl { devices.register(opl, as: "opl3") }
        if let mixer { devices.register(mixer, as: "audio-mixer") }
    }
}

extension NetworkCards {
    /// The ISA cards (the PCI ones are on the bus).
    func register(in devices: DeviceRegistry) {
        for (index, card) in isaCards.enumerated() { devices.register(card, as: "ne2k_isa.\(index)") }
    }
}

/// The PAM areas' mapping follows the i440FX's PAM registers, which the
/// i440FX's own reset puts back (and so remaps every area); what the shadow
/// adds on a bus is the handler of each area being filled.
extension ShadowMemory: MachineDevice {
    func reset() {}

    var busParts: [AnyObject] { handlers }
}

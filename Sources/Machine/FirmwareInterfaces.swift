import Devices

/// What firmware reads about the machine: fw_cfg items (RAM size, CPU count,
/// e820 map, boot device and menu, -kernel/-initrd/-append with the option
/// ROM that boots them) and the CMOS bytes older BIOSes and SeaBIOS's
/// fallbacks use (memory sizes, boot order, equipment).
extension PCMachine {
    /// CMOS 0x14, the equipment byte: a math coprocessor and a PS/2 mouse, as QEMU sets it.
    static let equipmentByte: UInt8 = 0x02 | 0x04
    static let equipmentRegister = 0x14
    /// CMOS 0x10: the floppy drive types, A: in the high nibble.
    static let floppyTypeRegister = 0x10

    /// Equipment bits 0 (floppy drives present) and 6-7 (their count less one).
    static func floppyEquipment(count: Int) -> UInt8 {
        count == 0 ? 0 : 0x01 | UInt8(count - 1) << 6
    }

    /// etc/boot-fail-wait of all ones: SeaBIOS says "No bootable device." and waits instead of rebooting.
    static let neverRetryBoot: UInt32 = 0xFFFF_FFFF

    func setUpFirmwareInterfaces() throws {
        let config = firmwareConfig
        config.setRAMSize(UInt64(ram.size))
        config.setCPUCount(configuration.cpuCount, maximum: configuration.cpuCount)
        config.setItem(FirmwareConfig.Key.noGraphic, uint16: configuration.noGraphic ? 1 : 0)
        let order = configuration.boot.once ?? configuration.boot.order
        config.setItem(FirmwareConfig.Key.bootDevice, uint16: UInt16(order.utf8.first ?? UInt8(ascii: "c")))
        config.setItem(FirmwareConfig.Key.bootMenu, uint16: configuration.boot.menu ? 1 : 0)
        try config.setE820(e820.entries)
        // The PIT is on the I/O APIC's pin 2 (`ISAInterrupts.ioAPICPin`).
        config.setItem(FirmwareConfig.Key.irq0Override, uint32: 1)
        try config.setBootFailWait(milliseconds: PCMachine.neverRetryBoot)
        // -kernel: the kernel's parts, the option ROM that loads them, and a boot order that runs it first.
        try linuxBoot?.install(in: config)

        rtc.setMemorySizes(belowFourGiB: ramLayout.belowFourGiB, aboveFourGiB: ramLayout.aboveFourGiB)
        // The CMOS holds three boot devices; fw_cfg's boot device has the first.
        try rtc.setBootOrder(String(order.prefix(3)))
        rtc[cmos: PCMachine.equipmentRegister] = PCMachine.equipmentByte | PCMachine.floppyEquipment(count: floppyDrives.count)
        rtc[cmos: PCMachine.floppyTypeRegister] = floppyDrives.cmosTypes
    }
}

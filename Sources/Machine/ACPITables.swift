/// The ACPI tables a direct kernel boot hands the guest (a BIOS would have
/// installed them): RSDP, RSDT, FADT, FACS and a DSDT with `_S5`, enough
/// for the kernel to find the PIIX4 power-management block and power the
/// machine off, and the PCI root bridge. ACPI 1.0 layouts, laid out back to back.
struct ACPITables {
    /// Where the PIIX4 PM I/O block is (PMBASE) and the SCI's IRQ.
    let pmBase: UInt16
    let sciIRQ: UInt16
    /// Guest-physical address the tables are placed at (16-byte aligned).
    let address: UInt32

    static let oemID = Array("PCEMU ".utf8)
    static let oemTableID = Array("PCEMUPC ".utf8)

    enum Offset {
        static let rsdp = 0        // 20 bytes
        static let rsdt = 32       // 40 bytes
        static let facs = 128      // 64 bytes, 64-byte aligned as the FACS must be
        static let fadt = 192      // 116 bytes
        static let dsdt = 320
    }

    /// Fixed ACPI Description Table field offsets (ACPI 1.0, 116 bytes).
    enum FADTField {
        static let firmwareControl = 36
        static let dsdt = 40
        static let sciInterrupt = 46
        static let smiCommand = 48
        static let pm1aEventBlock = 56
        static let pm1aControlBlock = 64
        static let pmTimerBlock = 76
        static let pm1EventLength = 88
        static let pm1ControlLength = 89
        static let pmTimerLength = 91
        static let level2Latency = 96
        static let level3Latency = 98
        static let century = 108
        static let flags = 112
        static let length = 116
    }

    /// PIIX4 PM registers within the block.
    enum PMRegister {
        static let event: UInt16 = 0x00
        static let control: UInt16 = 0x04
        static let timer: UInt16 = 0x08
    }

    /// The RSDP's address: what boot_params.acpi_rsdp_addr holds.
    var rsdpAddress: UInt32 { address + UInt32(Offset.rsdp) }

    /// All tables, `Offset.dsdt + dsdt.count` bytes.
    var bytes: [UInt8] {
        let dsdt = dsdtTable()
        var image = [UInt8](repeating: 0, count: Offset.dsdt + dsdt.count)
        image.replaceSubrange(Offset.dsdt..<Offset.dsdt + dsdt.count, with: dsdt)
        let fadt = fadtTable()
        image.replaceSubrange(Offset.fadt..<Offset.fadt + fadt.count, with: fadt)
        let facs = facsTable()
        image.replaceSubrange(Offset.facs..<Offset.facs + facs.count, with: facs)
        let rsdt = rsdtTable()
        image.replaceSubrange(Offset.rsdt..<Offset.rsdt + rsdt.count, with: rsdt)
        let rsdp = rsdpStructure()
        image.replaceSubrange(Offset.rsdp..<Offset.rsdp + rsdp.count, with: rsdp)
        return image
    }

    private func rsdpStructure() -> [UInt8] {
        var table = Array("RSD PTR ".utf8) + [0] + ACPITables.oemID + [0]  // checksum, OEM, revision 0
        table += littleEndian(address + UInt32(Offset.rsdt), 4)
        table[8] = ACPITables.checksum(table)
        return table
    }

    private func rsdtTable() -> [UInt8] {
        var table = header("RSDT", length: 36 + 4)
        table += littleEndian(address + UInt32(Offset.fadt), 4)
        return sealed(table)
    }

    private func facsTable() -> [UInt8] {
        var table = Array("FACS".utf8) + littleEndian(64, 4)
        table += [UInt8](repeating: 0, count: 64 - table.count)
        return table  // the FACS has no checksum
    }

    private func fadtTable() -> [UInt8] {
        var table = header("FACP", length: FADTField.length)
        table += [UInt8](repeating: 0, count: FADTField.length - table.count)
        func put(_ value: UInt32, at offset: Int, _ count: Int) {
            table.replaceSubrange(offset..<offset + count, with: littleEndian(value, count))
        }
        put(address + UInt32(Offset.facs), at: FADTField.firmwareControl, 4)
        put(address + UInt32(Offset.dsdt), at: FADTField.dsdt, 4)
        put(UInt32(sciIRQ), at: FADTField.sciInterrupt, 2)
        // No SMI command port: the machine is always in ACPI mode.
        put(0, at: FADTField.smiCommand, 4)
        put(UInt32(pmBase + PMRegister.event), at: FADTField.pm1aEventBlock, 4)
        put(UInt32(pmBase + PMRegister.control), at: FADTField.pm1aControlBlock, 4)
        put(UInt32(pmBase + PMRegister.timer), at: FADTField.pmTimerBlock, 4)
        table[FADTField.pm1EventLength] = 4
        table[FADTField.pm1ControlLength] = 2
        table[FADTField.pmTimerLength] = 4
        // C2 and C3 latencies above their limits: those states are not offered.
        put(101, at: FADTField.level2Latency, 2)
        put(1001, at: FADTField.level3Latency, 2)
        table[FADTField.century] = 0x32  // the RTC's century byte
        let wbinvd: UInt32 = 1 << 0, processorC1: UInt32 = 1 << 2, noSleepButton: UInt32 = 1 << 5
        put(wbinvd | processorC1 | noSleepButton, at: FADTField.flags, 4)
        return sealed(table)
    }

    /// Definition block: Name (_S5_, Package (4) { 0, 0, 0, 0 }) — SLP_TYP 0
    /// is the PIIX4's soft-off.
    private func dsdtTable() -> [UInt8] {
        let nameOp: UInt8 = 0x08, packageOp: UInt8 = 0x12, zeroOp: UInt8 = 0x00
        let elements: [UInt8] = [zeroOp, zeroOp, zeroOp, zeroOp]
        let packageLength = UInt8(1 + 1 + elements.count)  // itself, the count, the elements
        let aml = [nameOp] + Array("_S5_".utf8) + [packageOp, packageLength, UInt8(elements.count)] + elements
            + pciRootBridge()
        return sealed(header("DSDT", length: 36 + aml.count) + aml)
    }

    /// Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) Name (_UID, 0) } }:
    /// with ACPI, Linux scans only the PCI buses the namespace declares, so
    /// without it no PCI function (the network card's, the IDE controller's)
    /// would be found. Interrupts come from each function's interrupt line
    /// register, as there is no _PRT.
    private func pciRootBridge() -> [UInt8] {
        let nameOp: UInt8 = 0x08, dwordPrefix: UInt8 = 0x0C, zeroOp: UInt8 = 0x00
        let scopeOp: UInt8 = 0x10, extendedOp: UInt8 = 0x5B, deviceOp: UInt8 = 0x82, rootPrefix: UInt8 = 0x5C
        let pnp0A03: UInt32 = 0x030A_D041  // EisaId ("PNP0A03") as AML stores it
        let body = Array("PCI0".utf8) + [nameOp] + Array("_HID".utf8) + [dwordPrefix] + littleEndian(pnp0A03, 4)
            + [nameOp] + Array("_UID".utf8) + [zeroOp]
        let device = [extendedOp, deviceOp, UInt8(1 + body.count)] + body  // one-byte PkgLength: under 64
        let scopeName = [rootPrefix] + Array("_SB_".utf8)
        return [scopeOp, UInt8(1 + scopeName.count + device.count)] + scopeName + device
    }

    /// The 36-byte header every description table starts with (checksum left 0).
    private func header(_ signature: String, length: Int) -> [UInt8] {
        Array(signature.utf8) + littleEndian(UInt32(length), 4) + [1, 0] + ACPITables.oemID + ACPITables.oemTableID
            + littleEndian(1, 4) + Array("PCEM".utf8) + littleEndian(1, 4)
    }

    /// Sets the checksum byte (offset 9) so the table's bytes sum to zero.
    private func sealed(_ table: [UInt8]) -> [UInt8] {
        var table = table
        table[9] = 0
        table[9] = ACPITables.checksum(table)
        return table
    }

    static func checksum(_ bytes: [UInt8]) -> UInt8 {
        0 &- bytes.reduce(0, &+)
    }

    private func littleEndian(_ value: UInt32, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}

import Configuration
import Devices
import Foundation
import Memory
import PCEmuSupport
import Storage

/// The pc machine's system flash, as QEMU's builds it from -drive if=pflash:
/// up to two CFI flash chips mapped downward from 4 GiB without gaps, unit 0
/// at the top (the firmware, which the reset vector finds; it replaces
/// -bios), unit 1 just below (OVMF's variable store). Unit 0's last 128 KiB
/// also appear below 1 MiB, through the PAM areas, as a copy made at start.
final class SystemFlash {
    static let unitCount = 2
    /// QEMU's pc machine's default max-fw-size: the units together.
    static let sizeLimit = 8 << 20

    /// The chips in unit order.
    let units: [PFlashCFI01]
    /// The bytes mapped below 4 GiB.
    let totalSize: Int
    /// What the PAM areas show below 1 MiB.
    let firmware: FirmwareImage

    /// nil when the command line gives no pflash drive.
    init?(configuration: MachineConfiguration, addressSpace: AddressSpace) throws {
        let drives = configuration.drives.filter { $0.interface == .pflash }
        guard !drives.isEmpty else { return nil }
        var byUnit = [MachineConfiguration.Drive?](repeating: nil, count: SystemFlash.unitCount)
        for drive in drives {
            guard let unit = drive.index, unit < SystemFlash.unitCount else {
                throw EmulatorError.badOption(drive.option, "too many pflash units (the pc machine has \(SystemFlash.unitCount))")
            }
            byUnit[unit] = drive
        }
        guard let first = byUnit[0] else {
            throw EmulatorError.badOption(byUnit[1]!.option, "pflash1 requires pflash0")
        }
        if configuration.bios != nil {
            throw EmulatorError.badOption("-bios", "pflash unit 0 (\(first.option)) is already the firmware")
        }
        var units: [PFlashCFI01] = []
        var top = AddressSpace.lowLimit
        for (unit, drive) in byUnit.enumerated() {
            guard let drive else { break }
            let chip = try SystemFlash.makeUnit(drive, unit: unit, snapshot: configuration.snapshot || drive.snapshot)
            guard units.reduce(0, { $0 + $1.size }) + chip.size <= SystemFlash.sizeLimit else {
                throw EmulatorError.badOption(drive.option, "combined size of system firmware exceeds \(SystemFlash.sizeLimit) bytes")
            }
            top -= UInt64(chip.size)
            try chip.map(in: addressSpace, at: top)
            units.append(chip)
        }
        self.units = units
        totalSize = Int(AddressSpace.lowLimit - top)
        firmware = FirmwareImage(flashCopy: units[0].storage, size: units[0].size, path: first.file ?? "")
    }

    /// One chip with its file's bytes; a writable one keeps the file open for
    /// what the guest programs, unless -snapshot keeps that in memory.
    private static func makeUnit(_ drive: MachineConfiguration.Drive, unit: Int, snapshot: Bool) throws -> PFlashCFI01 {
        guard drive.media == .disk else { throw EmulatorError.badOption(drive.option, "a pflash unit is not a CD") }
        guard drive.format == nil || drive.format == .raw else {
            throw EmulatorError.badOption(drive.option, "a pflash image is raw (format=raw)")
        }
        guard let path = drive.file else { throw EmulatorError.badOption(drive.option, "a pflash unit needs file=PATH") }
        let image: RawImage
        do {
            image = try RawImage(path: path, readOnly: drive.readOnly || snapshot)
        } catch let error as EmulatorError {
            throw EmulatorError.badOption(drive.option, error.description)
        }
        let size = Int(image.byteCount)
        guard size > 0, size % PFlashCFI01.sectorSize == 0 else {
            throw EmulatorError.badOption(drive.option, "\(path): a pflash image is a non-zero multiple of 4 KiB, not \(size) bytes")
        }
        guard size <= sizeLimit else {
            throw EmulatorError.badOption(drive.option, "combined size of system firmware exceeds \(sizeLimit) bytes")
        }
        let contents = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { contents.deallocate() }
        do {
            try image.read(into: contents, at: 0)
        } catch let error as EmulatorError {
            throw EmulatorError.badOption(drive.option, error.description)
        }
        return PFlashCFI01(name: "system.flash\(unit)", contents: UnsafeRawBufferPointer(contents), readOnly: drive.readOnly,
                           image: drive.readOnly || snapshot ? nil : image)
    }

    /// fsync each writable unit's file.
    func flush() {
        for unit in units { unit.flush() }
    }
}

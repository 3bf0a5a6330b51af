import Devices
import PCEmuSupport
import Storage

/// One drive as the monitor's `info block` shows it, named as QEMU names it
/// (ide0-hd0, ide1-cd0, floppy0).
public struct BlockDeviceInfo: Equatable, Sendable {
    public let name: String
    /// The image's file, or nil for an empty drive.
    public let path: String?
    public let format: String?
    public let removable: Bool
    public let readOnly: Bool
}

extension PCMachine {
    /// CPU thread: every drive, IDE places first, then the floppy drives.
    public var blockDevices: [BlockDeviceInfo] {
        var list: [BlockDeviceInfo] = []
        for (place, device) in ideDrives.devices.enumerated() {
            guard let device else { continue }
            let bus = place / 2, unit = place % 2
            if let cd = device as? ATAPIDrive {
                list.append(BlockDeviceInfo(name: "ide\(bus)-cd\(unit)", path: cd.medium?.path,
                                            format: cd.medium.map(PCMachine.formatName), removable: true, readOnly: true))
            } else if let disk = device as? ATADrive {
                list.append(BlockDeviceInfo(name: "ide\(bus)-hd\(unit)", path: disk.image.path,
                                            format: PCMachine.formatName(disk.image), removable: false, readOnly: disk.image.isReadOnly))
            }
        }
        for (index, drive) in floppyDrives.drives.enumerated() {
            list.append(BlockDeviceInfo(name: "floppy\(index)", path: drive.image?.path, format: drive.image.map(PCMachine.formatName),
                                        removable: true, readOnly: drive.image?.isReadOnly ?? false))
        }
        return list
    }

    /// CPU thread: the monitor's `change DEVICE FILE` (a path) and `eject
    /// DEVICE` (nil). A CD drive's guest sees the disc change at its next
    /// command, as after opening and closing the tray; a floppy drive's sees
    /// its disk-change line up. `readOnly` nil keeps the drive's mode (CDs
    /// are always read-only).
    public func changeMedium(device name: String, path: String?, format: DiskImage.Format? = nil, readOnly: Bool? = nil) throws {
        guard let info = blockDevices.first(where: { $0.name == name }) else {
            throw EmulatorError.badOption(name, "no such drive (\(blockDevices.map(\.name).joined(separator: ", ")))")
        }
        guard info.removable else { throw EmulatorError.badOption(name, "the drive's medium is not removable") }
        if name.hasPrefix("floppy"), let index = Int(name.dropFirst("floppy".count)) {
            return try floppyDrives.change(index: index, path: path, format: format, forceReadOnly: readOnly)
        }
        guard readOnly != false else { throw EmulatorError.badOption(name, "a CD drive takes read-only media") }
        let place = (Int(String(name.dropFirst(3).prefix(1))) ?? 0) * 2 + (Int(String(name.suffix(1))) ?? 0)
        guard let cd = ideDrives.devices[place] as? ATAPIDrive else { return }
        let medium = try path.map { try DiskImage.open(path: $0, format: format, readOnly: true) }
        cd.change(medium: medium)
    }

    static func formatName(_ image: BlockImage) -> String { image is QCOW2Image ? "qcow2" : "raw" }
}

import Configuration
import Devices
import PCEmuSupport
import Storage

/// The IDE devices the command line asks for, at their places 0-3 (primary
/// master and slave, secondary master and slave), with their images open.
/// Drives given without an index take the first free place, as in QEMU.
struct IDEDrives {
    static let placeCount = 4

    private(set) var devices: [IDEDevice?] = Array(repeating: nil, count: IDEDrives.placeCount)
    private(set) var images: [BlockImage] = []

    init(configuration: MachineConfiguration) throws {
        var places = [MachineConfiguration.Drive?](repeating: nil, count: IDEDrives.placeCount)
        let ide = configuration.drives.filter { $0.interface == .ide }
        for drive in ide { if let index = drive.index { places[index] = drive } }
        for drive in ide where drive.index == nil {
            guard let free = places.firstIndex(where: { $0 == nil }) else {
                throw EmulatorError.badOption(drive.option, "all four IDE places are taken")
            }
            places[free] = drive
        }
        for (place, drive) in places.enumerated() {
            guard let drive else { continue }
            devices[place] = try makeDevice(drive, place: place, snapshot: configuration.snapshot || drive.snapshot)
        }
    }

    private mutating func makeDevice(_ drive: MachineConfiguration.Drive, place: Int, snapshot: Bool) throws -> IDEDevice {
        let serial = "QM0000\(place + 1)"
        let format = drive.format.map { DiskImage.Format(rawValue: $0.rawValue)! }
        func named(_ error: Error) -> Error {
            if let error = error as? EmulatorError { return EmulatorError.badOption(drive.option, error.description) }
            return error
        }
        switch drive.media {
        case .disk:
            guard let file = drive.file else { throw EmulatorError.badOption(drive.option, "a disk needs file=") }
            let image: BlockImage
            do {
                image = snapshot && !drive.readOnly
                    ? try DiskImage.openSnapshot(path: file, format: format)
                    : try DiskImage.open(path: file, format: format, readOnly: drive.readOnly)
            } catch {
                throw named(error)
            }
            guard image.byteCount >= UInt64(ATADrive.sectorSize) else {
                throw EmulatorError.badOption(drive.option, "\(file): smaller than one sector")
            }
            images.append(image)
            return ATADrive(image: image, serial: serial)
        case .cdrom:
            // A CD is never written, so -snapshot has nothing to protect.
            var medium: BlockImage?
            if let file = drive.file {
                do { medium = try DiskImage.open(path: file, format: format, readOnly: true) } catch { throw named(error) }
            }
            return ATAPIDrive(medium: medium, serial: serial)
        }
    }

    /// fsync every writable image (at exit; the guest's FLUSH CACHE does it too).
    func flush() {
        for image in images where !image.isReadOnly {
            do { try image.flush() } catch { Log.emit("pcemu: \(error)") }
        }
    }
}

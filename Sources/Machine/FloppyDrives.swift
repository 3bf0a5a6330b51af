import Configuration
import Devices
import PCEmuSupport
import Storage

/// The floppy drives A: and B: the command line asks for (-fda/-fdb or
/// -drive if=floppy), images open; an index-less drive takes the first free one.
struct FloppyDrives {
    static let driveCount = 2

    private(set) var drives: [FloppyDrive] = []
    private(set) var images: [BlockImage] = []

    init(configuration: MachineConfiguration) throws {
        var places = [MachineConfiguration.Drive?](repeating: nil, count: FloppyDrives.driveCount)
        let floppies = configuration.drives.filter { $0.interface == .floppy }
        for drive in floppies {
            guard let index = drive.index else { continue }
            guard places.indices.contains(index) else {
                throw EmulatorError.badOption(drive.option, "a floppy drive index is 0 or 1")
            }
            places[index] = drive
        }
        for drive in floppies where drive.index == nil {
            guard let free = places.firstIndex(where: { $0 == nil }) else {
                throw EmulatorError.badOption(drive.option, "both floppy drives are taken")
            }
            places[free] = drive
        }
        for drive in places {
            guard let drive, let file = drive.file else {
                drives.append(FloppyDrive())
                continue
            }
            if drive.media == .cdrom { throw EmulatorError.badOption(drive.option, "a floppy drive takes no CD") }
            let format = drive.format.map { DiskImage.Format(rawValue: $0.rawValue)! }
            do {
                let image = (configuration.snapshot || drive.snapshot) && !drive.readOnly
                    ? try DiskImage.openSnapshot(path: file, format: format)
                    : try DiskImage.open(path: file, format: format, readOnly: drive.readOnly)
                drives.append(try FloppyDrive(image: image))
                images.append(image)
            } catch let error as EmulatorError {
                throw EmulatorError.badOption(drive.option, error.description)
            }
        }
    }

    /// CMOS 0x10: drive A's type in the high nibble, B's in the low.
    var cmosTypes: UInt8 { drives[0].cmosType << 4 | drives[1].cmosType }
    /// Drives present, for the equipment byte.
    var count: Int { drives.filter(\.hasDisk).count }

    /// fsync every writable image (each write command does it too).
    func flush() {
        for image in images where !image.isReadOnly {
            do { try image.flush() } catch { Log.emit("pcemu: \(error)") }
        }
    }
}

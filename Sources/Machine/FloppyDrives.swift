import Configuration
import Glibc
import Devices
import PCEmuSupport
import Storage

/// The floppy drives A: and B: the command line asks for (-fda/-fdb or
/// -drive if=floppy), images open; an index-less drive takes the first free one.
struct FloppyDrives {
    static let driveCount = 2

    private(set) var drives: [FloppyDrive] = []
    /// Per drive: configured read-only (its media stay read-only), and
    /// under -snapshot (writes to its media go to a temporary overlay).
    private(set) var readOnly: [Bool] = []
    private(set) var snapshot: [Bool] = []

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
            readOnly.append(drive?.readOnly ?? false)
            snapshot.append(configuration.snapshot || drive?.snapshot == true)
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
        for drive in drives {
            guard let image = drive.image, !image.isReadOnly else { continue }
            do { try image.flush() } catch { Log.emit("pcemu: \(error)") }
        }
    }

    /// CPU thread: drive `index`'s medium becomes the image at `path` (nil:
    /// ejected). `forceReadOnly` nil keeps the drive's mode: read-only if it
    /// was started read-only or the file cannot be written, else writable.
    /// An image the drive cannot read is refused and the old one stays.
    func change(index: Int, path: String?, format: DiskImage.Format?, forceReadOnly: Bool?) throws {
        let drive = drives[index]
        let old = drive.image
        guard let path else {
            try drive.change(image: nil)
            try old.map(finish)
            return
        }
        let readOnly = forceReadOnly ?? (self.readOnly[index] || access(path, W_OK) != 0)
        let image = snapshot[index] && !readOnly
            ? try DiskImage.openSnapshot(path: path, format: format)
            : try DiskImage.open(path: path, format: format, readOnly: readOnly)
        try drive.change(image: image)
        try old.map(finish)
    }

    /// The medium that left a drive: its writes reach its file.
    private func finish(_ image: BlockImage) throws {
        if !image.isReadOnly { try image.flush() }
    }
}

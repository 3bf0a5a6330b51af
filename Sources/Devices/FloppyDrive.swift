import PCEmuSupport
import Storage

/// One floppy drive on the controller: the inserted image (if any), its
/// geometry, and where the head is. The drive type reported in the CMOS
/// follows the medium, so the BIOS and Linux drive it at the right data rate.
public final class FloppyDrive {
    public static let sectorSize = 512
    /// The size code N of a 512-byte sector (128 << N).
    static let sectorSizeCode: UInt8 = 2

    /// A format: its size, layout, data rate (the DSR/CCR code) and CMOS drive type.
    public struct Geometry: Equatable {
        public let tracks: Int
        public let heads: Int
        public let sectorsPerTrack: Int
        /// 0: 500 kbit/s, 1: 300, 2: 250, 3: 1 Mbit/s.
        public let dataRate: UInt8
        /// CMOS 0x10 nibble: 1 360K, 2 1.2M, 3 720K, 4 1.44M, 5 2.88M.
        public let cmosType: UInt8

        public var byteCount: UInt64 { UInt64(tracks * heads * sectorsPerTrack * FloppyDrive.sectorSize) }

        public static let formats: [Geometry] = [
            Geometry(tracks: 40, heads: 2, sectorsPerTrack: 9, dataRate: 2, cmosType: 1),
            Geometry(tracks: 80, heads: 2, sectorsPerTrack: 15, dataRate: 0, cmosType: 2),
            Geometry(tracks: 80, heads: 2, sectorsPerTrack: 9, dataRate: 2, cmosType: 3),
            Geometry(tracks: 80, heads: 2, sectorsPerTrack: 18, dataRate: 0, cmosType: 4),
            Geometry(tracks: 80, heads: 2, sectorsPerTrack: 36, dataRate: 3, cmosType: 5),
        ]

        /// The format whose size the image has, or nil.
        public static func matching(byteCount: UInt64) -> Geometry? {
            formats.first { $0.byteCount == byteCount }
        }

        /// The format for an image of `byteCount` bytes: the one of its size,
        /// else, for a shorter image (GRUB's rescue floppy is 1,296,384 bytes),
        /// 1.44 MB or, if it is larger, 2.88 MB, as QEMU gives such an image
        /// its drive's default format. nil when empty or larger than 2.88 MB.
        public static func holding(byteCount: UInt64) -> Geometry? {
            if let exact = matching(byteCount: byteCount) { return exact }
            guard byteCount > 0 else { return nil }
            return formats.filter { $0.cmosType >= 4 }.first { $0.byteCount >= byteCount }
        }

        /// The format a drive of `driveType` reads an image of `byteCount`
        /// bytes as: the one of its size, else (a short image of no format's
        /// size) the smallest larger one it reads; nil when it reads none.
        /// A drive without a type holds what `holding` does.
        public static func fitting(byteCount: UInt64, driveType: UInt8) -> Geometry? {
            guard driveType != 0 else { return holding(byteCount: byteCount) }
            if let exact = matching(byteCount: byteCount) { return drive(driveType, reads: exact) ? exact : nil }
            let readable = formats.filter { drive(driveType, reads: $0) }
            guard byteCount > 0 else { return nil }
            return readable.filter { $0.byteCount >= byteCount }.min { $0.byteCount < $1.byteCount }
        }

        /// Whether a drive of `driveType` reads `format`: a high-density
        /// drive reads the double-density disks of its size too (a 5.25"
        /// 1.2 MB drive reads 360 KB ones, a 3.5" 1.44 MB or 2.88 MB drive
        /// reads 720 KB ones, a 2.88 MB drive reads 1.44 MB ones).
        public static func drive(_ driveType: UInt8, reads format: Geometry) -> Bool {
            switch driveType {
            case 1: return format.cmosType == 1
            case 2: return format.cmosType == 2 || format.cmosType == 1
            case 3: return format.cmosType == 3
            case 4: return format.cmosType == 4 || format.cmosType == 3
            case 5: return format.cmosType >= 3
            default: return true
            }
        }

        /// A drive type's capacity in words.
        static func sizeName(_ cmosType: UInt8) -> String {
            switch cmosType {
            case 1: return "360 KB"
            case 2: return "1.2 MB"
            case 3: return "720 KB"
            case 4: return "1.44 MB"
            case 5: return "2.88 MB"
            default: return "typeless"
            }
        }
    }

    public private(set) var image: BlockImage?
    public private(set) var geometry: Geometry?
    /// The drive's type (a CMOS 0x10 nibble): the power-on medium's, kept
    /// when media change; a drive empty at power-on (0) takes the type of
    /// the first medium put in.
    public private(set) var driveType: UInt8
    /// The present cylinder number (the head's track).
    var track: UInt8 = 0
    var head: UInt8 = 0
    /// DIR bit 7: set at power-on and while no disk is in; a step with a disk in clears it.
    var diskChanged = true

    /// An empty drive.
    public init() {
        image = nil
        geometry = nil
        driveType = 0
    }

    /// A drive holding `image`; a short image's missing sectors read as zeros.
    public init(image: BlockImage) throws {
        guard let geometry = Geometry.holding(byteCount: image.byteCount) else {
            throw EmulatorError.io(image.path, "a floppy image must hold 1 to 2,949,120 bytes (2.88 MB), not \(image.byteCount)")
        }
        self.image = image
        self.geometry = geometry
        driveType = geometry.cmosType
    }

    /// A medium change while running (nil: ejected). The disk-change line
    /// goes up, as when a disk leaves the drive, until a step with a disk in.
    /// An image this drive cannot read is refused and nothing changes.
    public func change(image newImage: BlockImage?) throws {
        guard let newImage else {
            (image, geometry, diskChanged) = (nil, nil, true)
            return
        }
        guard let fitting = Geometry.fitting(byteCount: newImage.byteCount, driveType: driveType) else {
            let reads = Geometry.formats.filter { Geometry.drive(driveType, reads: $0) }.map { Geometry.sizeName($0.cmosType) }
            throw EmulatorError.io(newImage.path, "a \(Geometry.sizeName(driveType)) drive cannot take an image of \(newImage.byteCount) bytes"
                                   + " (it reads \(reads.joined(separator: ", ")) disks, or a shorter image)")
        }
        (image, geometry, diskChanged) = (newImage, fitting, true)
        if driveType == 0 { driveType = fitting.cmosType }
    }

    public var hasDisk: Bool { image != nil }
    public var isWriteProtected: Bool { image?.isReadOnly ?? false }
    /// The CMOS type of this drive (0: none).
    public var cmosType: UInt8 { driveType }

    /// Reads the sector at `offset`: the part past the end of a short image
    /// reads as zeros (QEMU's controller fills a failed read with zeros too).
    func readSector(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        guard let image else { return }
        let present = offset < image.byteCount ? Int(min(UInt64(buffer.count), image.byteCount - offset)) : 0
        if present > 0 { try image.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<present]), at: offset) }
        if present < buffer.count {
            UnsafeMutableRawBufferPointer(rebasing: buffer[present...]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    /// The head moves to `cylinder`; stepping with a disk in clears disk-change.
    func seek(to cylinder: UInt8) {
        track = cylinder
        if hasDisk { diskChanged = false }
    }

    func reset() {
        track = 0
        head = 0
    }

    /// The byte offset of sector `sector` (1-based) at cylinder/head, or nil
    /// when the medium has no such sector.
    func offset(cylinder: UInt8, head: UInt8, sector: UInt8) -> UInt64? {
        guard let geometry, Int(cylinder) < geometry.tracks, Int(head) < geometry.heads,
              sector >= 1, Int(sector) <= geometry.sectorsPerTrack else { return nil }
        let lba = (Int(cylinder) * geometry.heads + Int(head)) * geometry.sectorsPerTrack + Int(sector) - 1
        return UInt64(lba * FloppyDrive.sectorSize)
    }
}

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
    }

    public let image: BlockImage?
    public let geometry: Geometry?
    /// The present cylinder number (the head's track).
    var track: UInt8 = 0
    var head: UInt8 = 0
    /// DIR bit 7: set at power-on and while no disk is in; a step with a disk in clears it.
    var diskChanged = true

    /// An empty drive.
    public init() {
        image = nil
        geometry = nil
    }

    /// A drive holding `image`; a short image's missing sectors read as zeros.
    public init(image: BlockImage) throws {
        guard let geometry = Geometry.holding(byteCount: image.byteCount) else {
            throw EmulatorError.io(image.path, "a floppy image must hold 1 to 2,949,120 bytes (2.88 MB), not \(image.byteCount)")
        }
        self.image = image
        self.geometry = geometry
    }

    public var hasDisk: Bool { image != nil }
    public var isWriteProtected: Bool { image?.isReadOnly ?? false }
    /// The CMOS type of this drive (0: none).
    public var cmosType: UInt8 { geometry?.cmosType ?? 0 }

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

import PCEmuSupport

/// The qcow2 header (versions 2 and 3), its extensions and backing file
/// name, read from the image's first cluster and checked against the file
/// before anything else is trusted. All fields are big-endian.
struct QCOW2Header {
    static let magic: UInt32 = 0x5146_49FB  // "QFI\xfb"
    static let version2HeaderLength = 72
    static let version3HeaderLength = 104

    enum Field {
        static let magic = 0
        static let version = 4
        static let backingFileOffset = 8
        static let backingFileSize = 16
        static let clusterBits = 20
        static let size = 24
        static let cryptMethod = 32
        static let l1Size = 36
        static let l1TableOffset = 40
        static let refcountTableOffset = 48
        static let refcountTableClusters = 56
        static let snapshotCount = 60
        static let snapshotsOffset = 64
        static let incompatibleFeatures = 72
        static let compatibleFeatures = 80
        static let autoclearFeatures = 88
        static let refcountOrder = 96
        static let headerLength = 100
        static let compressionType = 104
    }

    enum Incompatible {
        static let dirty: UInt64 = 1 << 0
        static let corrupt: UInt64 = 1 << 1
        static let externalDataFile: UInt64 = 1 << 2
        static let compressionType: UInt64 = 1 << 3
        static let extendedL2: UInt64 = 1 << 4
    }

    enum Extension {
        static let end: UInt32 = 0
        static let backingFormat: UInt32 = 0xE279_2ACA
    }

    /// Limits QEMU also applies, so that a hostile header cannot make us
    /// allocate gigabytes for tables.
    static let maximumL1Bytes: UInt64 = 32 << 20
    static let maximumRefcountTableBytes: UInt64 = 8 << 20
    static let maximumBackingNameLength = 1023

    var version: UInt32
    var clusterBits: Int
    var size: UInt64
    var l1Size: Int
    var l1TableOffset: UInt64
    var refcountTableOffset: UInt64
    var refcountTableClusters: Int
    var snapshotCount: UInt32
    var snapshotsOffset: UInt64
    var incompatibleFeatures: UInt64 = 0
    var autoclearFeatures: UInt64 = 0
    var refcountOrder = 4
    var headerLength = QCOW2Header.version2HeaderLength
    var backingFile: String?
    var backingFormat: String?

    var clusterSize: UInt64 { 1 << UInt64(clusterBits) }

    static func isQCOW2(_ firstBytes: [UInt8]) -> Bool {
        firstBytes.count >= 4 && firstBytes.bigEndian32(at: 0) == magic
    }

    /// Reads and checks the header. Every offset it holds must be
    /// cluster-aligned and inside the file.
    init(file: ImageFile) throws {
        let path = file.path
        func corrupt(_ reason: String) -> EmulatorError { .io(path, "corrupt qcow2 image: \(reason)") }
        let fileSize = file.size
        guard fileSize >= UInt64(QCOW2Header.version2HeaderLength) else { throw corrupt("shorter than its header") }
        let bytes = try file.readBytes(count: Int(min(fileSize, 4096)), at: 0)
        guard bytes.bigEndian32(at: Field.magic) == QCOW2Header.magic else { throw corrupt("no qcow2 magic") }
        version = bytes.bigEndian32(at: Field.version)
        guard version == 2 || version == 3 else {
            throw EmulatorError.io(path, "qcow2 version \(version) is not supported (2 or 3)")
        }
        clusterBits = Int(bytes.bigEndian32(at: Field.clusterBits))
        guard (9...21).contains(clusterBits) else { throw corrupt("cluster bits \(clusterBits) outside 9-21") }
        size = bytes.bigEndian64(at: Field.size)
        guard bytes.bigEndian32(at: Field.cryptMethod) == 0 else {
            throw EmulatorError.io(path, "encrypted qcow2 images are not supported")
        }
        let l1Entries = UInt64(bytes.bigEndian32(at: Field.l1Size))
        l1TableOffset = bytes.bigEndian64(at: Field.l1TableOffset)
        refcountTableOffset = bytes.bigEndian64(at: Field.refcountTableOffset)
        let refcountClusters = UInt64(bytes.bigEndian32(at: Field.refcountTableClusters))
        snapshotCount = bytes.bigEndian32(at: Field.snapshotCount)
        snapshotsOffset = bytes.bigEndian64(at: Field.snapshotsOffset)
        let clusterSize = UInt64(1) << UInt64(clusterBits)

        if version == 3 {
            guard bytes.count >= QCOW2Header.version3HeaderLength else { throw corrupt("shorter than its header") }
            incompatibleFeatures = bytes.bigEndian64(at: Field.incompatibleFeatures)
            autoclearFeatures = bytes.bigEndian64(at: Field.autoclearFeatures)
            refcountOrder = Int(bytes.bigEndian32(at: Field.refcountOrder))
            headerLength = Int(bytes.bigEndian32(at: Field.headerLength))
            guard headerLength >= QCOW2Header.version3HeaderLength, headerLength % 8 == 0,
                  UInt64(headerLength) <= clusterSize, headerLength <= bytes.count else {
                throw corrupt("header length \(headerLength)")
            }
        }
        guard refcountOrder <= 6 else { throw corrupt("refcount order \(refcountOrder)") }
        if incompatibleFeatures & Incompatible.corrupt != 0 {
            throw EmulatorError.io(path, "qcow2 image is marked corrupt; repair it with qemu-img check -r all")
        }
        if incompatibleFeatures & Incompatible.dirty != 0 {
            throw EmulatorError.io(path, "qcow2 image has unwritten refcounts (dirty); repair it with qemu-img check -r all")
        }
        if incompatibleFeatures & Incompatible.externalDataFile != 0 {
            throw EmulatorError.io(path, "qcow2 images with an external data file are not supported")
        }
        if incompatibleFeatures & Incompatible.extendedL2 != 0 {
            throw EmulatorError.io(path, "qcow2 images with extended L2 entries are not supported")
        }
        if incompatibleFeatures & Incompatible.compressionType != 0 {
            let type = headerLength > Field.compressionType ? bytes[Field.compressionType] : 0
            if type != 0 { throw EmulatorError.io(path, "qcow2 compression type \(type) is not supported (only deflate)") }
        }
        let known = Incompatible.dirty | Incompatible.corrupt | Incompatible.externalDataFile
            | Incompatible.compressionType | Incompatible.extendedL2
        if incompatibleFeatures & ~known != 0 {
            throw EmulatorError.io(path, "qcow2 image uses unknown incompatible features 0x\(String(incompatibleFeatures & ~known, radix: 16))")
        }

        // The L1 table must cover the whole virtual disk and lie inside the file.
        let bytesPerL2 = clusterSize * (clusterSize / 8)
        let neededL1 = (size / bytesPerL2) + (size % bytesPerL2 == 0 ? 0 : 1)
        guard l1Entries >= neededL1 else { throw corrupt("L1 table of \(l1Entries) entries is too small for \(size) bytes") }
        guard l1Entries * 8 <= QCOW2Header.maximumL1Bytes else { throw corrupt("L1 table of \(l1Entries) entries is too large") }
        l1Size = Int(l1Entries)
        if l1Entries > 0 {
            try QCOW2Header.checkRange(l1TableOffset, length: l1Entries * 8, clusterSize: clusterSize, fileSize: fileSize,
                                       what: "L1 table", corrupt: corrupt)
        }
        guard refcountClusters > 0, refcountClusters * clusterSize <= QCOW2Header.maximumRefcountTableBytes else {
            throw corrupt("refcount table of \(refcountClusters) clusters")
        }
        refcountTableClusters = Int(refcountClusters)
        try QCOW2Header.checkRange(refcountTableOffset, length: refcountClusters * clusterSize, clusterSize: clusterSize,
                                   fileSize: fileSize, what: "refcount table", corrupt: corrupt)

        // Header extensions: in version 3 after the header, in version 2 after the fixed fields.
        var position = headerLength
        while position + 8 <= bytes.count {
            let type = bytes.bigEndian32(at: position)
            let length = Int(bytes.bigEndian32(at: position + 4))
            if type == Extension.end { break }
            guard length <= bytes.count - position - 8 else { throw corrupt("header extension 0x\(String(type, radix: 16)) runs past the header") }
            if type == Extension.backingFormat {
                backingFormat = String(decoding: bytes[(position + 8)..<(position + 8 + length)], as: UTF8.self)
            }
            position += 8 + (length + 7) / 8 * 8
        }

        let backingOffset = bytes.bigEndian64(at: Field.backingFileOffset)
        let backingLength = Int(bytes.bigEndian32(at: Field.backingFileSize))
        if backingOffset != 0 {
            guard backingLength > 0, backingLength <= QCOW2Header.maximumBackingNameLength,
                  backingOffset + UInt64(backingLength) <= UInt64(bytes.count) else {
                throw corrupt("backing file name at \(backingOffset) length \(backingLength)")
            }
            backingFile = String(decoding: bytes[Int(backingOffset)..<(Int(backingOffset) + backingLength)], as: UTF8.self)
        }
    }

    /// A table at `offset` of `length` bytes: cluster-aligned and inside the file.
    static func checkRange(_ offset: UInt64, length: UInt64, clusterSize: UInt64, fileSize: UInt64, what: String,
                           corrupt: (String) -> EmulatorError) throws {
        guard offset % clusterSize == 0, offset != 0 else {
            throw corrupt("\(what) at 0x\(String(offset, radix: 16)) is not cluster-aligned")
        }
        guard offset < fileSize, length <= fileSize - offset else {
            throw corrupt("\(what) at 0x\(String(offset, radix: 16)) lies past the end of the file (truncated?)")
        }
    }
}

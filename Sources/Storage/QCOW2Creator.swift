import Glibc
import PCEmuSupport

/// Writes a new, empty version 3 qcow2 image: header (with the backing file
/// and its format), one refcount table cluster, one refcount block, the L1
/// table. What `-snapshot` puts in front of each disk.
enum QCOW2Creator {
    static let clusterBits = 16

    static func create(path: String, size: UInt64, backingFile: String?, backingFormat: String?) throws {
        let clusterSize = 1 << clusterBits
        let bytesPerL2 = UInt64(clusterSize) * UInt64(clusterSize / 8)
        let l1Entries = Int((size + bytesPerL2 - 1) / bytesPerL2)
        let l1Clusters = max(1, (l1Entries * 8 + clusterSize - 1) / clusterSize)
        let refcountTableCluster = 1, refcountBlockCluster = 2, l1Cluster = 3
        let clusterCount = l1Cluster + l1Clusters
        guard clusterCount <= clusterSize * 8 / 16 else { throw EmulatorError.io(path, "image size \(size) is too large") }

        var image = [UInt8](repeating: 0, count: clusterCount * clusterSize)
        typealias Field = QCOW2Header.Field
        image.setBigEndian32(QCOW2Header.magic, at: Field.magic)
        image.setBigEndian32(3, at: Field.version)
        image.setBigEndian32(UInt32(clusterBits), at: Field.clusterBits)
        image.setBigEndian64(size, at: Field.size)
        image.setBigEndian32(UInt32(l1Entries), at: Field.l1Size)
        image.setBigEndian64(UInt64(l1Cluster * clusterSize), at: Field.l1TableOffset)
        image.setBigEndian64(UInt64(refcountTableCluster * clusterSize), at: Field.refcountTableOffset)
        image.setBigEndian32(1, at: Field.refcountTableClusters)
        image.setBigEndian32(4, at: Field.refcountOrder)
        image.setBigEndian32(UInt32(QCOW2Header.version3HeaderLength), at: Field.headerLength)
        var position = QCOW2Header.version3HeaderLength
        if let backingFormat {
            let name = Array(backingFormat.utf8)
            image.setBigEndian32(QCOW2Header.Extension.backingFormat, at: position)
            image.setBigEndian32(UInt32(name.count), at: position + 4)
            image.replaceSubrange((position + 8)..<(position + 8 + name.count), with: name)
            position += 8 + (name.count + 7) / 8 * 8
        }
        position += 8  // the end extension: eight zero bytes
        if let backingFile {
            let name = Array(backingFile.utf8)
            guard name.count <= QCOW2Header.maximumBackingNameLength else { throw EmulatorError.io(backingFile, "path too long") }
            image.setBigEndian64(UInt64(position), at: Field.backingFileOffset)
            image.setBigEndian32(UInt32(name.count), at: Field.backingFileSize)
            image.replaceSubrange(position..<(position + name.count), with: name)
        }
        image.setBigEndian64(UInt64(refcountBlockCluster * clusterSize), at: refcountTableCluster * clusterSize)
        for cluster in 0..<clusterCount { image.setBigEndian16(1, at: refcountBlockCluster * clusterSize + 2 * cluster) }

        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw EmulatorError.io(path, String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let written = image.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress!, $0.count) }
        guard written == image.count else { throw EmulatorError.io(path, "cannot write the new image") }
    }
}

extension Array where Element == UInt8 {
    mutating func setBigEndian16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
}

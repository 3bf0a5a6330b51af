import PCEmuSupport

/// One internal snapshot as the qcow2 snapshot table describes it: its own
/// L1 table (a copy of the disk's mapping at the time) and, past the end of
/// the virtual disk in that mapping, the machine's saved state.
public struct QCOW2Snapshot: Equatable, Sendable {
    /// QEMU's numbering: "1", "2"... unique in the image.
    public var id: String
    /// The tag given to savevm.
    public var name: String
    var l1TableOffset: UInt64
    var l1Size: Int
    /// Wall-clock time of the snapshot.
    public var dateSeconds: UInt32
    public var dateNanoseconds: UInt32
    /// Guest time when it was taken.
    public var vmClockNanoseconds: UInt64
    public var vmStateSize: UInt64
    var diskSize: UInt64
    /// Instruction count of record/replay; all ones when there is none.
    var instructionCount: UInt64 = .max

    /// The fixed part of an entry, before the extra data, ID and name.
    static let fixedSize = 40
    /// The extra data written: 64-bit VM state size, disk size, instruction count.
    static let extraDataSize = 24
    /// Limits QEMU applies too, so a hostile table cannot make us read gigabytes.
    static let maximumCount = 65536
    static let maximumExtraData = 1024
    static let maximumTableBytes: UInt64 = 64 << 20

    /// The entry's bytes, padded to a multiple of 8.
    var encoded: [UInt8] {
        let idBytes = Array(id.utf8), nameBytes = Array(name.utf8)
        var bytes = [UInt8](repeating: 0, count: QCOW2Snapshot.fixedSize + QCOW2Snapshot.extraDataSize)
        bytes.setBigEndian64(l1TableOffset, at: 0)
        bytes.setBigEndian32(UInt32(l1Size), at: 8)
        bytes.setBigEndian16(UInt16(idBytes.count), at: 12)
        bytes.setBigEndian16(UInt16(nameBytes.count), at: 14)
        bytes.setBigEndian32(dateSeconds, at: 16)
        bytes.setBigEndian32(dateNanoseconds, at: 20)
        bytes.setBigEndian64(vmClockNanoseconds, at: 24)
        bytes.setBigEndian32(UInt32(truncatingIfNeeded: min(vmStateSize, UInt64(UInt32.max))), at: 32)
        bytes.setBigEndian32(UInt32(QCOW2Snapshot.extraDataSize), at: 36)
        bytes.setBigEndian64(vmStateSize, at: 40)
        bytes.setBigEndian64(diskSize, at: 48)
        bytes.setBigEndian64(instructionCount, at: 56)
        bytes += idBytes + nameBytes
        bytes += [UInt8](repeating: 0, count: (8 - bytes.count % 8) % 8)
        return bytes
    }

    /// The whole table's bytes.
    static func encode(_ snapshots: [QCOW2Snapshot]) -> [UInt8] {
        snapshots.flatMap(\.encoded)
    }

    /// Parses `count` entries from `bytes`; every length is checked against
    /// what is left, and every L1 table against the file.
    static func decode(_ bytes: [UInt8], count: Int, clusterSize: UInt64, fileSize: UInt64, defaultDiskSize: UInt64,
                       corrupt: (String) -> EmulatorError) throws -> [QCOW2Snapshot] {
        var snapshots: [QCOW2Snapshot] = []
        var offset = 0
        for index in 0..<count {
            guard bytes.count - offset >= fixedSize else { throw corrupt("snapshot table entry \(index) runs past the table") }
            let idLength = Int(bytes.bigEndian16(at: offset + 12)), nameLength = Int(bytes.bigEndian16(at: offset + 14))
            let extra = Int(bytes.bigEndian32(at: offset + 36))
            guard extra <= maximumExtraData else { throw corrupt("snapshot \(index) has \(extra) bytes of extra data") }
            let length = fixedSize + extra + idLength + nameLength
            guard bytes.count - offset >= length else { throw corrupt("snapshot table entry \(index) runs past the table") }
            var vmState = UInt64(bytes.bigEndian32(at: offset + 32))
            if extra >= 8 { vmState = bytes.bigEndian64(at: offset + fixedSize) }
            let diskSize = extra >= 16 ? bytes.bigEndian64(at: offset + fixedSize + 8) : defaultDiskSize
            let instructions = extra >= 24 ? bytes.bigEndian64(at: offset + fixedSize + 16) : .max
            let idStart = offset + fixedSize + extra
            let snapshot = QCOW2Snapshot(
                id: String(decoding: bytes[idStart..<(idStart + idLength)], as: UTF8.self),
                name: String(decoding: bytes[(idStart + idLength)..<(idStart + idLength + nameLength)], as: UTF8.self),
                l1TableOffset: bytes.bigEndian64(at: offset), l1Size: Int(bytes.bigEndian32(at: offset + 8)),
                dateSeconds: bytes.bigEndian32(at: offset + 16), dateNanoseconds: bytes.bigEndian32(at: offset + 20),
                vmClockNanoseconds: bytes.bigEndian64(at: offset + 24), vmStateSize: vmState, diskSize: diskSize,
                instructionCount: instructions)
            guard UInt64(snapshot.l1Size) * 8 <= QCOW2Header.maximumL1Bytes else {
                throw corrupt("snapshot '\(snapshot.name)' has an L1 table of \(snapshot.l1Size) entries")
            }
            if snapshot.l1Size > 0 {
                try QCOW2Header.checkRange(snapshot.l1TableOffset, length: UInt64(snapshot.l1Size) * 8, clusterSize: clusterSize,
                                           fileSize: fileSize, what: "snapshot '\(snapshot.name)' L1 table", corrupt: corrupt)
            }
            snapshots.append(snapshot)
            offset += (length + 7) / 8 * 8
        }
        return snapshots
    }
}

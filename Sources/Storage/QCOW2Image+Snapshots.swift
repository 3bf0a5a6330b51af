import Glibc
import PCEmuSupport

/// Internal snapshots, laid out as QEMU lays them out so that `qemu-img
/// snapshot -l` lists them and `qemu-img check` finds nothing wrong.
///
/// A cluster's refcount is the number of mappings (the active L1 table and
/// each snapshot's) that reach it, an L2 table shared by two mappings being
/// walked once for each. Taking a snapshot copies the active L1 table and
/// counts everything it reaches once more, so every shared cluster is
/// copied on its next write (`writePart`, `copyL2`). The machine's state goes
/// into the snapshot's own mapping, past the end of the virtual disk, in
/// clusters only the snapshot reaches.
extension QCOW2Image {
    /// Bytes one L2 table maps.
    var bytesPerL2: UInt64 { UInt64(clusterSize) << UInt64(l2Bits) }

    /// The first L1 entry past the virtual disk: where a snapshot's VM state begins.
    var vmStateL1Index: Int { Int((byteCount + bytesPerL2 - 1) / bytesPerL2) }

    func readSnapshotTable(fileSize: UInt64, corrupt: (String) -> EmulatorError) throws -> [QCOW2Snapshot] {
        let count = Int(header.snapshotCount)
        guard count > 0 else { return [] }
        guard count <= QCOW2Snapshot.maximumCount else { throw corrupt("\(count) snapshots") }
        let offset = header.snapshotsOffset
        try QCOW2Header.checkRange(offset, length: UInt64(QCOW2Snapshot.fixedSize), clusterSize: UInt64(clusterSize),
                                   fileSize: fileSize, what: "snapshot table", corrupt: corrupt)
        let bytes = try file.readBytes(count: Int(min(QCOW2Snapshot.maximumTableBytes, fileSize - offset)), at: offset)
        return try QCOW2Snapshot.decode(bytes, count: count, clusterSize: UInt64(clusterSize), fileSize: fileSize,
                                        defaultDiskSize: byteCount, corrupt: corrupt)
    }

    /// A snapshot by its ID or, failing that, its name (as QEMU looks them up).
    public func snapshot(_ tag: String) -> QCOW2Snapshot? {
        snapshots.first { $0.id == tag } ?? snapshots.first { $0.name == tag }
    }

    private func corruptError(_ reason: String) -> EmulatorError { .io(path, "corrupt qcow2 image: \(reason)") }

    private func requireWritable() throws {
        guard !isReadOnly else { throw EmulatorError.io(path, "opened read-only") }
        guard !failed else { throw EmulatorError.io(path, "an earlier write failed; the image is left alone") }
    }

    /// Runs a change of the image's metadata; a failure part-way leaves the
    /// image alone from then on, as a failed write does.
    private func changing<T>(_ body: () throws -> T) throws -> T {
        try requireWritable()
        do { return try body() } catch {
            failed = true
            throw error
        }
    }

    // MARK: Taking a snapshot

    /// Takes a snapshot of the disk as it is now, named `name`, with `vmState`
    /// (the machine's saved state, possibly empty) in its own clusters.
    public func createSnapshot(name: String, vmState: [UInt8], vmClockNanoseconds: UInt64) throws {
        try vmState.withUnsafeBytes { bytes in
            try createSnapshot(name: name, vmStateSize: bytes.count, vmClockNanoseconds: vmClockNanoseconds) { try $0(bytes, 0) }
        }
    }

    /// Takes a snapshot whose VM state of `vmStateSize` bytes `writeVMState`
    /// hands, in pieces with their offsets in the state, to the function it
    /// is given (which may be called from several threads at once); they
    /// go straight into the state's clusters.
    public func createSnapshot(name: String, vmStateSize: Int, vmClockNanoseconds: UInt64,
                               writeVMState: (@escaping (UnsafeRawBufferPointer, Int) throws -> Void) throws -> Void) throws {
        guard snapshots.count < QCOW2Snapshot.maximumCount else { throw EmulatorError.io(path, "too many snapshots") }
        guard !name.isEmpty, name.utf8.count <= 1024 else { throw EmulatorError.io(path, "a snapshot's name has 1 to 1024 bytes") }
        let stateClusters = (vmStateSize + clusterSize - 1) / clusterSize
        let stateTables = (stateClusters + (1 << l2Bits) - 1) >> l2Bits
        let l1Size = max(l1.count, vmStateL1Index + stateTables)
        guard UInt64(l1Size) * 8 <= QCOW2Header.maximumL1Bytes else { throw EmulatorError.io(path, "VM state too large for this image") }
        try changing {
            // The snapshot's mapping: the active one's disk part, then the VM
            // state's tables. (An active mapping may reach past the disk after
            // another program's loadvm; that part is not the snapshot's.)
            let disk = Array(l1.prefix(vmStateL1Index))
            var snapshotL1 = disk.map { $0 & ~Entry.copied } + [UInt64](repeating: 0, count: l1Size - disk.count)
            if stateClusters > 0 {
                let first = try allocateClusters(stateTables + stateClusters)
                let data = first + UInt64(stateTables * clusterSize)
                let file = self.file, path = self.path
                try writeVMState { piece, offset in
                    guard offset >= 0, piece.count <= vmStateSize - offset else {
                        throw EmulatorError.io(path, "a piece of the VM state lies past its announced size")
                    }
                    try file.write(piece, at: data + UInt64(offset))
                }
                try file.writeBytes([UInt8](repeating: 0, count: stateClusters * clusterSize - vmStateSize), at: data + UInt64(vmStateSize))
                for table in 0..<stateTables {
                    var bytes = [UInt8](repeating: 0, count: clusterSize)
                    for entry in 0..<min(1 << l2Bits, stateClusters - (table << l2Bits)) {
                        bytes.setBigEndian64((data + UInt64(((table << l2Bits) + entry) * clusterSize)) | Entry.copied, at: entry * 8)
                    }
                    let tableOffset = first + UInt64(table * clusterSize)
                    try file.writeBytes(bytes, at: tableOffset)
                    snapshotL1[vmStateL1Index + table] = tableOffset | Entry.copied
                }
            }
            let l1Offset = try writeTable(snapshotL1)

            // Everything the active mapping reaches is now reached twice.
            try changeRefcounts(references(of: disk), by: 1)
            try clearCopiedFlags(upTo: disk.count)

            var date = timespec()
            clock_gettime(CLOCK_REALTIME, &date)
            let id = String((snapshots.compactMap { Int($0.id) }.max() ?? 0) + 1)
            let snapshot = QCOW2Snapshot(id: id, name: name, l1TableOffset: l1Offset, l1Size: l1Size,
                                         dateSeconds: UInt32(truncatingIfNeeded: date.tv_sec),
                                         dateNanoseconds: UInt32(truncatingIfNeeded: date.tv_nsec),
                                         vmClockNanoseconds: vmClockNanoseconds, vmStateSize: UInt64(vmStateSize), diskSize: byteCount)
            try replaceSnapshotTable(with: snapshots + [snapshot])
            try file.sync()
        }
    }

    /// `count` clusters in one run at the end of the file, each counted once.
    /// New refcount blocks these need go after the run.
    private func allocateClusters(_ count: Int) throws -> UInt64 {
        let size = UInt64(clusterSize)
        var first = nextFreeCluster, found = 0
        while found < count {
            if try refcount(of: first + UInt64(found) * size) == 0 {
                found += 1
            } else {
                first += UInt64(found + 1) * size
                found = 0
            }
        }
        nextFreeCluster = first + UInt64(count) * size
        try countFreshClusters(first: first, count: count)
        return first
    }

    /// Writes a table of big-endian entries into new clusters; returns its offset.
    private func writeTable(_ entries: [UInt64]) throws -> UInt64 {
        let clusters = max(1, (entries.count * 8 + clusterSize - 1) / clusterSize)
        let offset = try allocateClusters(clusters)
        var bytes = [UInt8](repeating: 0, count: clusters * clusterSize)
        for (index, entry) in entries.enumerated() { bytes.setBigEndian64(entry, at: index * 8) }
        try file.writeBytes(bytes, at: offset)
        return offset
    }

    /// The active mapping's L2 tables and data clusters are shared now: no
    /// entry may say its cluster is this mapping's alone.
    private func clearCopiedFlags(upTo count: Int) throws {
        for (index, entry) in l1.prefix(count).enumerated() where entry & Entry.offsetMask != 0 {
            let table = entry & Entry.offsetMask
            var entries = try loadL2(table)
            if entries.contains(where: { $0 & Entry.copied != 0 }) {
                entries = entries.map { $0 & ~Entry.copied }
                try writeL2Table(table, entries)
            }
            if entry & Entry.copied != 0 { l1[index] = entry & ~Entry.copied }
        }
        try writeActiveL1()
    }

    /// After counts drop (a snapshot deleted, the active mapping replaced),
    /// entries whose cluster this mapping alone reaches say so again.
    private func restoreCopiedFlags() throws {
        for (index, entry) in l1.enumerated() where entry & Entry.offsetMask != 0 {
            let table = entry & Entry.offsetMask
            guard try refcount(of: table) == 1 else {
                l1[index] = table
                continue
            }
            l1[index] = table | Entry.copied
            let entries = try loadL2(table)
            var updated = entries
            for (slot, value) in entries.enumerated() {
                guard case let .data(host) = mapping(of: value) else { continue }
                updated[slot] = try refcount(of: host) == 1 ? value | Entry.copied : value & ~Entry.copied
            }
            if updated != entries { try writeL2Table(table, updated) }
        }
        try writeActiveL1()
    }

    private func writeL2Table(_ offset: UInt64, _ entries: [UInt64]) throws {
        var bytes = [UInt8](repeating: 0, count: clusterSize)
        for (index, entry) in entries.enumerated() { bytes.setBigEndian64(entry, at: index * 8) }
        try file.writeBytes(bytes, at: offset)
        l2Cache[offset] = entries
    }

    private func writeActiveL1() throws {
        var bytes = [UInt8](repeating: 0, count: l1.count * 8)
        for (index, entry) in l1.enumerated() { bytes.setBigEndian64(entry, at: index * 8) }
        try file.writeBytes(bytes, at: header.l1TableOffset)
    }

    /// Writes `table` as the snapshot table in new clusters, points the header
    /// at it in one write, then frees the old table.
    private func replaceSnapshotTable(with table: [QCOW2Snapshot]) throws {
        let oldOffset = header.snapshotsOffset
        let oldBytes = QCOW2Snapshot.encode(snapshots).count
        let bytes = QCOW2Snapshot.encode(table)
        var newOffset: UInt64 = 0
        if !bytes.isEmpty {
            let clusters = (bytes.count + clusterSize - 1) / clusterSize
            newOffset = try allocateClusters(clusters)
            try file.writeBytes(bytes + [UInt8](repeating: 0, count: clusters * clusterSize - bytes.count), at: newOffset)
        }
        var fields = [UInt8](repeating: 0, count: 12)
        fields.setBigEndian32(UInt32(table.count), at: 0)
        fields.setBigEndian64(newOffset, at: 4)
        try file.writeBytes(fields, at: UInt64(QCOW2Header.Field.snapshotCount))
        header.snapshotCount = UInt32(table.count)
        header.snapshotsOffset = newOffset
        if !snapshots.isEmpty && oldOffset != 0 {
            for cluster in 0..<((oldBytes + clusterSize - 1) / clusterSize) {
                try changeRefcount(of: oldOffset + UInt64(cluster * clusterSize), by: -1)
            }
        }
        snapshots = table
    }

    // MARK: Counting a mapping

    /// Every cluster a mapping reaches, with how often: its L2 tables and
    /// their data clusters (a compressed cluster counts each host cluster it
    /// touches).
    func references(of mapping: [UInt64]) throws -> [UInt64: Int] {
        var counts: [UInt64: Int] = [:]
        let size = UInt64(clusterSize)
        for entry in mapping where entry & Entry.offsetMask != 0 {
            let table = entry & Entry.offsetMask
            counts[table, default: 0] += 1
            for value in try loadL2(table) {
                switch self.mapping(of: value) {
                case let .data(host):
                    counts[host, default: 0] += 1
                case let .compressed(host, length):
                    var cluster = host & ~(size - 1)
                    while cluster < host + UInt64(length) {
                        counts[cluster, default: 0] += 1
                        cluster += size
                    }
                case .zero where value & Entry.offsetMask != 0:
                    counts[value & Entry.offsetMask, default: 0] += 1
                default:
                    break
                }
            }
        }
        return counts
    }

    private func changeRefcounts(_ counts: [UInt64: Int], by sign: Int) throws {
        for (cluster, count) in counts.sorted(by: { $0.key < $1.key }) { try changeRefcount(of: cluster, by: sign * count) }
    }

    /// A snapshot's L1 table, every table and entry it reaches checked against the file.
    private func checkedL1(of snapshot: QCOW2Snapshot) throws -> [UInt64] {
        let table = try QCOW2Image.readTable(file, at: snapshot.l1TableOffset, count: snapshot.l1Size)
        try checkL2Tables(of: table, fileSize: file.size, corrupt: corruptError)
        return table
    }

    // MARK: Going back to a snapshot, deleting one

    /// The disk as the snapshot saw it becomes the active mapping.
    public func revert(to tag: String) throws {
        guard let snapshot = snapshot(tag) else { throw EmulatorError.io(path, "no snapshot '\(tag)'") }
        try changing {
            let saved = try checkedL1(of: snapshot)
            // Only the entries that map the disk: the VM state stays the snapshot's own.
            var mapping = [UInt64](repeating: 0, count: l1.count)
            for index in 0..<min(l1.count, saved.count, vmStateL1Index) { mapping[index] = saved[index] & ~Entry.copied }
            // Count the new mapping before the active table names it, and
            // release the old one after: a crash in between only leaks.
            try changeRefcounts(references(of: mapping), by: 1)
            let old = l1
            l1 = mapping
            try writeActiveL1()
            try changeRefcounts(references(of: old), by: -1)
            try restoreCopiedFlags()
            try file.sync()
        }
    }

    /// Removes a snapshot and frees what only it reached.
    public func deleteSnapshot(_ tag: String) throws {
        guard let snapshot = snapshot(tag) else { throw EmulatorError.io(path, "no snapshot '\(tag)'") }
        try changing {
            let saved = try checkedL1(of: snapshot)
            let counts = try references(of: saved)
            try replaceSnapshotTable(with: snapshots.filter { $0.id != snapshot.id })
            try changeRefcounts(counts, by: -1)
            let l1Clusters = max(1, (snapshot.l1Size * 8 + clusterSize - 1) / clusterSize)
            for cluster in 0..<l1Clusters { try changeRefcount(of: snapshot.l1TableOffset + UInt64(cluster * clusterSize), by: -1) }
            try restoreCopiedFlags()
            try file.sync()
        }
    }

    /// The machine state saved with a snapshot.
    public func vmState(of tag: String) throws -> [UInt8] {
        guard let snapshot = snapshot(tag) else { throw EmulatorError.io(path, "no snapshot '\(tag)'") }
        let mapping = try checkedL1(of: snapshot)
        let start = UInt64(vmStateL1Index) * bytesPerL2
        let reach = UInt64(max(0, mapping.count - vmStateL1Index)) * bytesPerL2
        guard snapshot.vmStateSize <= reach, snapshot.vmStateSize <= file.size else {
            throw corruptError("snapshot '\(snapshot.name)' has \(snapshot.vmStateSize) bytes of VM state its tables do not hold")
        }
        var state = [UInt8](repeating: 0, count: Int(snapshot.vmStateSize))
        try state.withUnsafeMutableBytes { buffer in
            var done = 0
            while done < buffer.count {
                let guest = start + UInt64(done)
                let count = min(buffer.count - done, clusterSize)
                let cluster = guest >> UInt64(clusterBits)
                let l1Entry = mapping[Int(cluster >> UInt64(l2Bits))] & Entry.offsetMask
                let part = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + count)])
                if l1Entry == 0 {
                    part.initializeMemory(as: UInt8.self, repeating: 0)
                } else {
                    let entry = try loadL2(l1Entry)[Int(cluster & ((1 << UInt64(l2Bits)) - 1))]
                    if case .unallocated = self.mapping(of: entry) {
                        part.initializeMemory(as: UInt8.self, repeating: 0)
                    } else {
                        try readPart(of: self.mapping(of: entry), guest: guest, inCluster: 0, into: part)
                    }
                }
                done += count
            }
        }
        return state
    }
}

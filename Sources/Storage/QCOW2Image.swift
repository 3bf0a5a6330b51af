import CZlib
import PCEmuSupport

/// A qcow2 image (versions 2 and 3): guest clusters found through the L1
/// and L2 tables, allocated at the end of the file with their refcounts
/// kept exact (so `qemu-img check` finds nothing), unallocated clusters read
/// from the backing image (or as zeros), compressed clusters inflated.
///
/// Tables are written through as they change: a new data cluster is
/// counted before it is written and written before an L2 entry points at
/// it, so a crash can leak clusters but never corrupt the image. Every
/// table entry is checked when the image is opened; a bad one refuses it.
public final class QCOW2Image: BlockImage {
    enum Entry {
        /// Bits 9-55: the host offset of an L2 table or a data cluster.
        static let offsetMask: UInt64 = 0x00FF_FFFF_FFFF_FE00
        /// The cluster's refcount is exactly one: it may be written in place.
        static let copied: UInt64 = 1 << 63
        static let compressed: UInt64 = 1 << 62
        /// Version 3: the cluster reads as zeros.
        static let zero: UInt64 = 1 << 0
    }

    enum Mapping {
        case unallocated
        case zero
        case data(host: UInt64)
        case compressed(host: UInt64, length: Int)
    }

    let file: ImageFile
    var header: QCOW2Header
    public let byteCount: UInt64
    let backing: BlockImage?
    let clusterBits: Int
    let clusterSize: Int
    let l2Bits: Int
    var l1: [UInt64]
    var refcountTable: [UInt64]
    let refcountBits: Int
    let refcountsPerBlock: Int
    var l2Cache: [UInt64: [UInt64]] = [:]
    var refcountBlockCache: [UInt64: [UInt8]] = [:]
    static let cacheLimit = 512
    var nextFreeCluster: UInt64
    /// The internal snapshots, in the table's order.
    public internal(set) var snapshots: [QCOW2Snapshot] = []
    /// The last compressed cluster inflated (sequential reads hit it 8 times per 4K cluster...).
    private var inflated: (host: UInt64, bytes: [UInt8])?
    /// Set when a write failed half-way: the image is left alone from then on.
    var failed = false

    public var isReadOnly: Bool { file.isReadOnly }
    public var path: String { file.path }

    /// Opens `path`; its backing file (if any) is opened read-only through `openBacking`.
    init(path: String, readOnly: Bool, openBacking: (String, String?) throws -> BlockImage) throws {
        file = try ImageFile(path: path, readOnly: readOnly)
        header = try QCOW2Header(file: file)
        func corrupt(_ reason: String) -> EmulatorError { .io(path, "corrupt qcow2 image: \(reason)") }
        byteCount = header.size
        clusterBits = header.clusterBits
        clusterSize = 1 << clusterBits
        l2Bits = clusterBits - 3
        refcountBits = 1 << header.refcountOrder
        refcountsPerBlock = clusterSize * 8 / refcountBits
        let fileSize = file.size
        nextFreeCluster = (fileSize + UInt64(clusterSize) - 1) & ~(UInt64(clusterSize) - 1)

        l1 = try QCOW2Image.readTable(file, at: header.l1TableOffset, count: header.l1Size)
        refcountTable = try QCOW2Image.readTable(file, at: header.refcountTableOffset,
                                                 count: header.refcountTableClusters * clusterSize / 8)
        for (index, entry) in refcountTable.enumerated() where entry != 0 {
            // Bits 0-8 of a refcount table entry are reserved.
            guard entry & 0x1FF == 0 else { throw corrupt("refcount table entry \(index) is misaligned") }
            try QCOW2Header.checkRange(entry, length: UInt64(clusterSize), clusterSize: UInt64(clusterSize),
                                       fileSize: fileSize, what: "refcount block \(index)", corrupt: corrupt)
        }
        if let name = header.backingFile {
            let resolved = name.hasPrefix("/") ? name : QCOW2Image.directory(of: path) + name
            backing = try openBacking(resolved, header.backingFormat)
        } else {
            backing = nil
        }
        try checkL2Tables(of: l1, fileSize: fileSize, corrupt: corrupt)
        snapshots = try readSnapshotTable(fileSize: fileSize, corrupt: corrupt)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[...slash])
    }

    static func readTable(_ file: ImageFile, at offset: UInt64, count: Int) throws -> [UInt64] {
        let bytes = try file.readBytes(count: count * 8, at: offset)
        return (0..<count).map { bytes.bigEndian64(at: $0 * 8) }
    }

    /// Every L2 table the L1 names, and every entry in them, must point
    /// inside the file at aligned offsets. Read once at start-up.
    func checkL2Tables(of l1: [UInt64], fileSize: UInt64, corrupt: (String) -> EmulatorError) throws {
        let size = UInt64(clusterSize)
        for (l1Index, l1Entry) in l1.enumerated() {
            let l2Offset = l1Entry & Entry.offsetMask
            guard l2Offset != 0 else { continue }
            guard l1Entry & ~(Entry.offsetMask | Entry.copied) == 0 else { throw corrupt("L1 entry \(l1Index) has reserved bits set") }
            try QCOW2Header.checkRange(l2Offset, length: size, clusterSize: size, fileSize: fileSize,
                                       what: "L2 table \(l1Index)", corrupt: corrupt)
            let table = try loadL2(l2Offset)
            for (l2Index, entry) in table.enumerated() {
                let where_ = "L2 entry \(l1Index).\(l2Index)"
                switch mapping(of: entry) {
                case .unallocated, .zero:
                    break
                case let .data(host):
                    try QCOW2Header.checkRange(host, length: size, clusterSize: size, fileSize: fileSize,
                                               what: where_, corrupt: corrupt)
                case let .compressed(host, _):
                    guard host < fileSize else { throw corrupt("\(where_): compressed cluster past the end of the file (truncated?)") }
                }
            }
        }
    }

    // MARK: Lookup

    func mapping(of entry: UInt64) -> Mapping {
        if entry & Entry.compressed != 0 {
            let sizeShift = 62 - (clusterBits - 8)
            let sizeMask = (UInt64(1) << UInt64(clusterBits - 8)) - 1
            let host = entry & ((UInt64(1) << UInt64(sizeShift)) - 1)
            let sectors = ((entry >> UInt64(sizeShift)) & sizeMask) + 1
            return .compressed(host: host, length: Int(sectors * 512 - (host & 511)))
        }
        if header.version >= 3 && entry & Entry.zero != 0 { return .zero }
        let host = entry & Entry.offsetMask
        return host == 0 ? .unallocated : .data(host: host)
    }

    func loadL2(_ offset: UInt64) throws -> [UInt64] {
        if let table = l2Cache[offset] { return table }
        let table = try QCOW2Image.readTable(file, at: offset, count: clusterSize / 8)
        if l2Cache.count >= QCOW2Image.cacheLimit { l2Cache.removeAll(keepingCapacity: true) }
        l2Cache[offset] = table
        return table
    }

    func indices(of guestOffset: UInt64) -> (l1: Int, l2: Int) {
        let cluster = guestOffset >> UInt64(clusterBits)
        return (Int(cluster >> UInt64(l2Bits)), Int(cluster & ((1 << UInt64(l2Bits)) - 1)))
    }

    func mapping(at guestOffset: UInt64) throws -> Mapping {
        let (l1Index, l2Index) = indices(of: guestOffset)
        guard l1Index < l1.count else { return .unallocated }
        let l2Offset = l1[l1Index] & Entry.offsetMask
        guard l2Offset != 0 else { return .unallocated }
        return mapping(of: try loadL2(l2Offset)[l2Index])
    }

    // MARK: Reading

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        guard contains(offset: offset, count: buffer.count) else {
            throw EmulatorError.io(path, "read of \(buffer.count) bytes at \(offset) is past the end")
        }
        var done = 0
        while done < buffer.count {
            let guest = offset + UInt64(done)
            let inCluster = Int(guest & UInt64(clusterSize - 1))
            let count = min(buffer.count - done, clusterSize - inCluster)
            let part = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + count)])
            try readPart(of: try mapping(at: guest), guest: guest, inCluster: inCluster, into: part)
            done += count
        }
    }

    /// Reads bytes of one cluster whatever it maps to.
    func readPart(of mapping: Mapping, guest: UInt64, inCluster: Int,
                          into part: UnsafeMutableRawBufferPointer) throws {
        switch mapping {
        case .zero:
            part.initializeMemory(as: UInt8.self, repeating: 0)
        case .unallocated:
            try readBacking(into: part, at: guest)
        case let .data(host):
            try file.read(into: part, at: host + UInt64(inCluster))
        case let .compressed(host, length):
            let bytes = try inflate(host: host, length: length)
            bytes.withUnsafeBytes { part.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[inCluster..<(inCluster + part.count)])) }
        }
    }

    /// The backing image where it reaches, zeros past its end.
    private func readBacking(into part: UnsafeMutableRawBufferPointer, at guest: UInt64) throws {
        let available = backing.map { $0.byteCount > guest ? Int(min(UInt64(part.count), $0.byteCount - guest)) : 0 } ?? 0
        if available > 0 { try backing!.read(into: UnsafeMutableRawBufferPointer(rebasing: part[0..<available]), at: guest) }
        if available < part.count {
            UnsafeMutableRawBufferPointer(rebasing: part[available...]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    /// A compressed cluster: raw deflate, inflated to exactly one cluster.
    private func inflate(host: UInt64, length: Int) throws -> [UInt8] {
        if let inflated, inflated.host == host { return inflated.bytes }
        var input = try file.readBytes(count: length, at: host)
        var output = [UInt8](repeating: 0, count: clusterSize)
        var stream = z_stream()
        guard czlib_inflate_init_raw(&stream) == Z_OK else { throw EmulatorError.io(path, "cannot start zlib") }
        defer { inflateEnd(&stream) }
        let status = input.withUnsafeMutableBytes { inBytes in
            output.withUnsafeMutableBytes { outBytes -> Int32 in
                stream.next_in = inBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(inBytes.count)
                stream.next_out = outBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(outBytes.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        // The stored length is rounded up to sectors: a full cluster out is success even if input is left.
        guard status == Z_STREAM_END || stream.avail_out == 0 else {
            throw EmulatorError.io(path, "corrupt qcow2 image: compressed cluster at 0x\(String(host, radix: 16)) does not inflate")
        }
        inflated = (host, output)
        return output
    }

    // MARK: Writing

    public func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        guard !isReadOnly else { throw EmulatorError.io(path, "opened read-only") }
        guard !failed else { throw EmulatorError.io(path, "an earlier write failed; the image is left alone") }
        guard contains(offset: offset, count: buffer.count) else {
            throw EmulatorError.io(path, "write of \(buffer.count) bytes at \(offset) is past the end")
        }
        do {
            if header.autoclearFeatures != 0 { try clearAutoclearFeatures() }
            var done = 0
            while done < buffer.count {
                let guest = offset + UInt64(done)
                let inCluster = Int(guest & UInt64(clusterSize - 1))
                let count = min(buffer.count - done, clusterSize - inCluster)
                try writePart(UnsafeRawBufferPointer(rebasing: buffer[done..<(done + count)]), guest: guest, inCluster: inCluster)
                done += count
            }
        } catch {
            failed = true
            throw error
        }
    }

    /// Writes into one cluster: in place when this image alone owns it, else
    /// into a new cluster filled with what the guest saw there before.
    private func writePart(_ part: UnsafeRawBufferPointer, guest: UInt64, inCluster: Int) throws {
        let (l1Index, l2Index) = indices(of: guest)
        let l2Offset = try writableL2(l1Index)
        let entry = try loadL2(l2Offset)[l2Index]
        let old = mapping(of: entry)
        if case let .data(host) = old {
            if try entry & Entry.copied != 0 || refcount(of: host) == 1 {
                try file.write(part, at: host + UInt64(inCluster))
                if entry & Entry.copied == 0 { try setL2Entry(l2Offset, l2Index, host | Entry.copied) }
                return
            }
        }
        var cluster = [UInt8](repeating: 0, count: clusterSize)
        if part.count < clusterSize {
            try cluster.withUnsafeMutableBytes {
                try readPart(of: old, guest: guest - UInt64(inCluster), inCluster: 0, into: $0)
            }
        }
        cluster.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[inCluster..<(inCluster + part.count)]).copyMemory(from: part) }
        let host = try allocateCluster()
        try file.writeBytes(cluster, at: host)
        try setL2Entry(l2Offset, l2Index, host | Entry.copied)
        switch old {
        case let .data(oldHost):
            try changeRefcount(of: oldHost, by: -1)
        case let .compressed(oldHost, length):
            // Compressed clusters share host clusters; each one they touch was counted.
            let first = oldHost & ~UInt64(clusterSize - 1)
            let end = oldHost + UInt64(length)
            var cursor = first
            while cursor < end && cursor < file.size {
                try changeRefcount(of: cursor, by: -1)
                cursor += UInt64(clusterSize)
            }
            if inflated?.host == oldHost { inflated = nil }
        default:
            if entry & Entry.offsetMask != 0 && entry & Entry.compressed == 0 {
                // A version 3 zero cluster that kept its allocation.
                try changeRefcount(of: entry & Entry.offsetMask, by: -1)
            }
        }
    }

    /// The L2 table for `l1Index`, allocated if absent.
    private func writableL2(_ l1Index: Int) throws -> UInt64 {
        let entry = l1[l1Index]
        let offset = entry & Entry.offsetMask
        if offset != 0 {
            if entry & Entry.copied == 0 {
                guard try refcount(of: offset) == 1 else { return try copyL2(l1Index, from: offset) }
                try setL1Entry(l1Index, offset | Entry.copied)
            }
            return offset
        }
        let table = try allocateCluster()
        try file.writeBytes([UInt8](repeating: 0, count: clusterSize), at: table)
        l2Cache[table] = [UInt64](repeating: 0, count: clusterSize / 8)
        try setL1Entry(l1Index, table | Entry.copied)
        return table
    }

    /// An L2 table a snapshot shares: the active mapping gets a copy of its
    /// own. The data clusters it names keep their counts (the snapshot's
    /// mapping and this one each still name them once).
    private func copyL2(_ l1Index: Int, from shared: UInt64) throws -> UInt64 {
        let table = try loadL2(shared)
        let copy = try allocateCluster()
        var bytes = [UInt8](repeating: 0, count: clusterSize)
        for (index, entry) in table.enumerated() { bytes.setBigEndian64(entry, at: index * 8) }
        try file.writeBytes(bytes, at: copy)
        l2Cache[copy] = table
        try setL1Entry(l1Index, copy | Entry.copied)
        try changeRefcount(of: shared, by: -1)
        return copy
    }

    func setL1Entry(_ index: Int, _ value: UInt64) throws {
        try file.writeBytes(.bigEndian64(value), at: header.l1TableOffset + UInt64(index) * 8)
        l1[index] = value
    }

    func setL2Entry(_ table: UInt64, _ index: Int, _ value: UInt64) throws {
        try file.writeBytes(.bigEndian64(value), at: table + UInt64(index) * 8)
        if l2Cache[table] != nil { l2Cache[table]![index] = value }
    }

    /// Autoclear features describe data (bitmaps...) that a writer unaware of
    /// them invalidates: the specification says to clear them on writing.
    private func clearAutoclearFeatures() throws {
        header.autoclearFeatures = 0
        try file.writeBytes(.bigEndian64(0), at: UInt64(QCOW2Header.Field.autoclearFeatures))
    }

    // MARK: Refcounts

    /// A fresh cluster at the end of the file, counted once.
    func allocateCluster() throws -> UInt64 {
        while true {
            let offset = nextFreeCluster
            nextFreeCluster += UInt64(clusterSize)
            if try refcount(of: offset) == 0 {
                try changeRefcount(of: offset, by: 1)
                return offset
            }
        }
    }

    func refcount(of hostOffset: UInt64) throws -> UInt64 {
        let cluster = hostOffset >> UInt64(clusterBits)
        let blockIndex = Int(cluster / UInt64(refcountsPerBlock))
        guard blockIndex < refcountTable.count, refcountTable[blockIndex] != 0 else { return 0 }
        let block = try loadRefcountBlock(refcountTable[blockIndex])
        return refcountValue(in: block, index: Int(cluster % UInt64(refcountsPerBlock)))
    }

    func changeRefcount(of hostOffset: UInt64, by delta: Int) throws {
        let current = try refcount(of: hostOffset)
        guard delta > 0 || current > 0 else {
            throw EmulatorError.io(path, "corrupt qcow2 image: refcount of cluster 0x\(String(hostOffset, radix: 16)) would go below zero")
        }
        let new = delta > 0 ? current + UInt64(delta) : current - UInt64(-delta)
        guard refcountBits == 64 || new < UInt64(1) << UInt64(refcountBits) else {
            throw EmulatorError.io(path, "qcow2 refcount of cluster 0x\(String(hostOffset, radix: 16)) overflows")
        }
        try setRefcount(of: hostOffset, to: new)
    }

    private func setRefcount(of hostOffset: UInt64, to value: UInt64) throws {
        let cluster = hostOffset >> UInt64(clusterBits)
        let blockIndex = Int(cluster / UInt64(refcountsPerBlock))
        if blockIndex >= refcountTable.count { try growRefcountTable(toHold: blockIndex) }
        if refcountTable[blockIndex] == 0 {
            // A new refcount block, placed at the end; it counts itself.
            let block = nextFreeCluster
            nextFreeCluster += UInt64(clusterSize)
            try file.writeBytes([UInt8](repeating: 0, count: clusterSize), at: block)
            refcountBlockCache[block] = [UInt8](repeating: 0, count: clusterSize)
            try file.writeBytes(.bigEndian64(block), at: header.refcountTableOffset + UInt64(blockIndex) * 8)
            refcountTable[blockIndex] = block
            try changeRefcount(of: block, by: 1)
        }
        let blockOffset = refcountTable[blockIndex]
        var block = try loadRefcountBlock(blockOffset)
        // Out of the cache while it changes, so the change copies no cluster.
        refcountBlockCache[blockOffset] = nil
        let index = Int(cluster % UInt64(refcountsPerBlock))
        let bytes = storeRefcount(value, in: &block, index: index)
        refcountBlockCache[blockOffset] = block
        try file.writeBytes(Array(block[bytes]), at: blockOffset + UInt64(bytes.lowerBound))
    }

    /// Counts `count` consecutive free clusters from `first` once each,
    /// reading and writing each refcount block once rather than once a
    /// cluster (a snapshot's VM state takes thousands of clusters).
    func countFreshClusters(first: UInt64, count: Int) throws {
        var done = 0
        while done < count {
            let offset = first + UInt64(done) * UInt64(clusterSize)
            let cluster = offset >> UInt64(clusterBits)
            let index = Int(cluster % UInt64(refcountsPerBlock))
            let span = min(count - done, refcountsPerBlock - index)
            // The first goes the usual way, which places a missing refcount block.
            try changeRefcount(of: offset, by: 1)
            if span > 1 {
                let blockOffset = refcountTable[Int(cluster / UInt64(refcountsPerBlock))]
                var block = try loadRefcountBlock(blockOffset)
                refcountBlockCache[blockOffset] = nil
                var changed = storeRefcount(1, in: &block, index: index + 1)
                for next in index + 2..<index + span {
                    changed = changed.lowerBound..<storeRefcount(1, in: &block, index: next).upperBound
                }
                refcountBlockCache[blockOffset] = block
                try file.writeBytes(Array(block[changed]), at: blockOffset + UInt64(changed.lowerBound))
            }
            done += span
        }
    }

    /// Puts `value` into a refcount block's entry; returns the bytes that hold it.
    private func storeRefcount(_ value: UInt64, in block: inout [UInt8], index: Int) -> Range<Int> {
        let bitOffset = index * refcountBits
        let byte = bitOffset / 8
        if refcountBits >= 8 {
            let width = refcountBits / 8
            for i in 0..<width { block[byte + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(width - 1 - i))) }
            return byte..<(byte + width)
        }
        let shift = bitOffset % 8
        let mask = UInt8((1 << refcountBits) - 1) << shift
        block[byte] = block[byte] & ~mask | (UInt8(truncatingIfNeeded: value) << shift) & mask
        return byte..<(byte + 1)
    }

    /// Sub-byte refcounts are packed from the least significant bit; wider ones are big-endian.
    func refcountValue(in block: [UInt8], index: Int) -> UInt64 {
        let bitOffset = index * refcountBits
        let byte = bitOffset / 8
        if refcountBits >= 8 {
            return (0..<(refcountBits / 8)).reduce(UInt64(0)) { $0 << 8 | UInt64(block[byte + $1]) }
        }
        return UInt64(block[byte] >> (bitOffset % 8)) & ((1 << UInt64(refcountBits)) - 1)
    }

    func loadRefcountBlock(_ offset: UInt64) throws -> [UInt8] {
        if let block = refcountBlockCache[offset] { return block }
        let block = try file.readBytes(count: clusterSize, at: offset)
        if refcountBlockCache.count >= QCOW2Image.cacheLimit { refcountBlockCache.removeAll(keepingCapacity: true) }
        refcountBlockCache[offset] = block
        return block
    }

    /// Moves the refcount table to a larger one at the end of the file.
    private func growRefcountTable(toHold blockIndex: Int) throws {
        let perCluster = clusterSize / 8
        var entries = max(refcountTable.count * 2, blockIndex + 1)
        entries = (entries + perCluster - 1) / perCluster * perCluster
        guard UInt64(entries) * 8 <= QCOW2Header.maximumRefcountTableBytes else {
            throw EmulatorError.io(path, "qcow2 refcount table would exceed its size limit")
        }
        let oldOffset = header.refcountTableOffset
        let oldClusters = header.refcountTableClusters
        let newClusters = entries / perCluster
        let newOffset = nextFreeCluster
        nextFreeCluster += UInt64(newClusters * clusterSize)
        var table = refcountTable
        table.append(contentsOf: [UInt64](repeating: 0, count: entries - table.count))
        var bytes = [UInt8](repeating: 0, count: entries * 8)
        for (i, entry) in table.enumerated() { bytes.setBigEndian64(entry, at: i * 8) }
        try file.writeBytes(bytes, at: newOffset)
        refcountTable = table
        header.refcountTableOffset = newOffset
        header.refcountTableClusters = newClusters
        for i in 0..<newClusters { try changeRefcount(of: newOffset + UInt64(i * clusterSize), by: 1) }
        var fields = [UInt8](repeating: 0, count: 12)
        fields.setBigEndian64(newOffset, at: 0)
        fields.setBigEndian32(UInt32(newClusters), at: 8)
        try file.writeBytes(fields, at: UInt64(QCOW2Header.Field.refcountTableOffset))
        for i in 0..<oldClusters { try changeRefcount(of: oldOffset + UInt64(i * clusterSize), by: -1) }
    }

    public func flush() throws {
        try file.sync()
    }
}

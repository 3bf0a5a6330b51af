import Glibc
import Lifecycle
import Memory

/// Guest RAM as a part of the machine's lifecycle. A reset leaves it as it
/// is, as on hardware. Its saved state is its size and the pages that are not
/// all zeros (most of a guest's RAM, early on): their numbers (32-bit,
/// little-endian, ascending), then their contents in that order. The
/// contents are lent (`BorrowedBytes`), one run for each stretch of
/// consecutive pages, so a snapshot writes them straight from guest RAM.
final class RAMDevice: StatefulDevice {
    static let stateVersion: UInt32 = 2
    static let stateName = "ram"

    let ram: GuestRAM

    init(ram: GuestRAM) { self.ram = ram }

    var busParts: [AnyObject] { [] }

    func reset() {}

    var pageCount: Int { ram.size / GuestRAM.pageSize }

    func save(into record: inout StateRecord) {
        record.put("size", UInt64(ram.size))
        var numbers = [UInt8]()
        var runs = [UnsafeRawBufferPointer]()
        var runStart = -1, runEnd = -1
        for page in 0..<pageCount where !isZero(page: page) {
            withUnsafeBytes(of: UInt32(page).littleEndian) { numbers += $0 }
            if page != runEnd {
                if runStart >= 0 { runs.append(bytes(pages: runStart..<runEnd)) }
                runStart = page
            }
            runEnd = page + 1
        }
        if runStart >= 0 { runs.append(bytes(pages: runStart..<runEnd)) }
        record.put("pageNumbers", numbers)
        record.put("pageData", .borrowed(BorrowedBytes(runs: runs)))
    }

    func load(from record: StateRecord) throws {
        let size: UInt64 = try record.unsigned("size")
        guard size == UInt64(ram.size) else {
            throw StateRecordError.configurationMismatch(
                record: RAMDevice.stateName, reason: "saved with \(size >> 20) MiB of RAM, this machine has \(ram.size >> 20) MiB")
        }
        let numberBytes = try record.bytes("pageNumbers")
        guard numberBytes.count % 4 == 0 else { throw StateRecordError.outOfRange(record: RAMDevice.stateName, field: "pageNumbers") }
        // Page numbers in range and ascending (each page once), checked before RAM changes.
        var numbers = [Int]()
        numbers.reserveCapacity(numberBytes.count / 4)
        var previous = -1
        for offset in stride(from: 0, to: numberBytes.count, by: 4) {
            let number = Int(numberBytes[offset]) | Int(numberBytes[offset + 1]) << 8
                | Int(numberBytes[offset + 2]) << 16 | Int(numberBytes[offset + 3]) << 24
            guard number > previous, number < pageCount else {
                throw StateRecordError.outOfRange(record: RAMDevice.stateName, field: "pageNumbers")
            }
            numbers.append(number)
            previous = number
        }
        let data = try record.bytes("pageData", count: numbers.count * GuestRAM.pageSize)
        var next = 0  // the first page not yet written
        data.withUnsafeBytes { raw in
            for (index, number) in numbers.enumerated() {
                zero(pages: next..<number)
                (ram.base + number * GuestRAM.pageSize).copyMemory(
                    from: raw.baseAddress! + index * GuestRAM.pageSize, byteCount: GuestRAM.pageSize)
                next = number + 1
            }
        }
        zero(pages: next..<pageCount)
    }

    /// Pages the state does not hold read as zeros. The host drops them
    /// (MADV_DONTNEED on private anonymous memory), rather than have every
    /// page of a large, mostly unused RAM written and so allocated.
    private func zero(pages: Range<Int>) {
        guard !pages.isEmpty else { return }
        let start = ram.base + pages.lowerBound * GuestRAM.pageSize, count = pages.count * GuestRAM.pageSize
        if madvise(start, count, MADV_DONTNEED) != 0 {
            start.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        }
    }

    private func bytes(pages: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: ram.base + pages.lowerBound * GuestRAM.pageSize, count: pages.count * GuestRAM.pageSize)
    }

    private func isZero(page: Int) -> Bool {
        let words = UnsafeRawPointer(ram.base + page * GuestRAM.pageSize).assumingMemoryBound(to: UInt64.self)
        // A cache line at a time, leaving at the first that holds something.
        for line in stride(from: 0, to: GuestRAM.pageSize / 8, by: 8) {
            var any: UInt64 = 0
            for index in line..<line + 8 { any |= words[index] }
            if any != 0 { return false }
        }
        return true
    }
}

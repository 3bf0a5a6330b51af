import Lifecycle
import Memory

/// Guest RAM as a part of the machine's lifecycle. A reset leaves it as it
/// is, as on hardware. Its saved state is its size and the pages that are not
/// all zeros (most of a guest's RAM, early on): each as its 32-bit page
/// number, little-endian, then its 4 KiB.
final class RAMDevice: StatefulDevice {
    static let stateVersion: UInt32 = 1
    static let stateName = "ram"
    static let entryBytes = 4 + GuestRAM.pageSize

    let ram: GuestRAM

    init(ram: GuestRAM) { self.ram = ram }

    var busParts: [AnyObject] { [] }

    func reset() {}

    var pageCount: Int { ram.size / GuestRAM.pageSize }

    func save(into record: inout StateRecord) {
        record.put("size", UInt64(ram.size))
        var pages = [UInt8]()
        for page in 0..<pageCount where !isZero(page: page) {
            withUnsafeBytes(of: UInt32(page).littleEndian) { pages += $0 }
            pages += UnsafeRawBufferPointer(start: ram.base + page * GuestRAM.pageSize, count: GuestRAM.pageSize)
        }
        record.put("pages", pages)
    }

    func load(from record: StateRecord) throws {
        let size: UInt64 = try record.unsigned("size")
        guard size == UInt64(ram.size) else {
            throw StateRecordError.configurationMismatch(
                record: RAMDevice.stateName, reason: "saved with \(size >> 20) MiB of RAM, this machine has \(ram.size >> 20) MiB")
        }
        let pages = try record.bytes("pages")
        guard pages.count % RAMDevice.entryBytes == 0 else {
            throw StateRecordError.outOfRange(record: RAMDevice.stateName, field: "pages")
        }
        // Page numbers in range and ascending (each page once), checked before RAM changes.
        var numbers = [Int]()
        var previous = -1
        for offset in stride(from: 0, to: pages.count, by: RAMDevice.entryBytes) {
            let number = Int(pages[offset]) | Int(pages[offset + 1]) << 8 | Int(pages[offset + 2]) << 16 | Int(pages[offset + 3]) << 24
            guard number > previous, number < pageCount else {
                throw StateRecordError.outOfRange(record: RAMDevice.stateName, field: "pages")
            }
            numbers.append(number)
            previous = number
        }
        ram.base.initializeMemory(as: UInt8.self, repeating: 0, count: ram.size)
        pages.withUnsafeBytes { raw in
            for (index, number) in numbers.enumerated() {
                (ram.base + number * GuestRAM.pageSize).copyMemory(
                    from: raw.baseAddress! + index * RAMDevice.entryBytes + 4, byteCount: GuestRAM.pageSize)
            }
        }
    }

    private func isZero(page: Int) -> Bool {
        let words = UnsafeRawPointer(ram.base + page * GuestRAM.pageSize).assumingMemoryBound(to: UInt64.self)
        var any: UInt64 = 0
        for index in 0..<GuestRAM.pageSize / 8 { any |= words[index] }
        return any == 0
    }
}

import Lifecycle

/// The Bochs VBE registers and the index. A record the guest could not
/// have produced (a depth, size or bank the chip refuses, a mode past the
/// end of video memory) is refused.
extension BochsVBE: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "bochs-vbe"

    public func save(into record: inout StateRecord) {
        record.put("registers", words: registers)
        record.put("index", index)
    }

    public func load(from record: StateRecord) throws {
        let saved = try record.words("registers", count: Index.count, as: UInt16.self)
        let newIndex: UInt16 = try record.unsigned("index")
        let bytes = (Int(saved[Index.bitsPerPixel]) + 7) / 8
        let pitch = Int(saved[Index.virtualWidth]) * bytes
        let start = Int(saved[Index.yOffset]) * pitch + Int(saved[Index.xOffset]) * bytes
        let fits = (BochsVBE.oldestID...BochsVBE.newestID).contains(saved[Index.id])
            && saved[Index.xResolution] <= BochsVBE.maximumWidth && saved[Index.yResolution] <= BochsVBE.maximumHeight
            && BochsVBE.depths.contains(saved[Index.bitsPerPixel])
            && Int(saved[Index.bank]) << 16 < VideoMemory.size
            && saved[Index.videoMemory64K] == UInt16(VideoMemory.size >> 16)
            && (saved[Index.enable] & Enable.enabled == 0
                || start + pitch * Int(saved[Index.yResolution]) <= VideoMemory.size && saved[Index.virtualWidth] >= saved[Index.xResolution])
        guard fits else { throw StateRecordError.outOfRange(record: BochsVBE.stateName, field: "registers") }
        registers = saved
        index = newIndex
        generation &+= 1
        memory.markAllDirty()
    }
}

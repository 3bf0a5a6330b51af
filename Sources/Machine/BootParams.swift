/// The "zero page" (struct boot_params) a 32-bit boot hands the kernel in
/// ESI: the kernel's own setup header with the loader's fields filled in,
/// and the memory map the real-mode setup code would have asked the BIOS for.
public struct BootParams {
    public static let size = 4096

    public enum Field {
        /// KiB of memory above 1 MiB: the fallback when there is no e820 map.
        public static let alternativeMemoryKiB = 0x1E0
        public static let e820EntryCount = 0x1E8
        public static let e820Table = 0x2D0
        public static let e820MaximumEntries = 128
        /// struct screen_info at offset 0: the text screen the firmware left.
        public static let videoMode = 0x06
        public static let videoColumns = 0x07
        public static let videoLines = 0x0E
        public static let videoIsVGA = 0x0F
        public static let videoPoints = 0x10
    }

    /// orig_video_isVGA: 1 for a VGA, what the kernel's real-mode setup stores.
    static let isVGA: UInt8 = 1

    /// type_of_loader: 0xFF is "undefined", what a loader without an assigned ID uses.
    static let undefinedLoader: UInt8 = 0xFF

    public private(set) var bytes = [UInt8](repeating: 0, count: BootParams.size)

    public init(kernel: BzImage, ramBytes: UInt64, e820: E820Map, commandLineAddress: UInt32,
                initrdAddress: UInt32, initrdSize: UInt32) {
        let header = kernel.setupHeader
        bytes.replaceSubrange(header.startIndex..<header.endIndex, with: header)
        bytes[BzImage.Field.typeOfLoader] = BootParams.undefinedLoader
        write(commandLineAddress, at: BzImage.Field.commandLinePointer, count: 4)
        write(initrdAddress, at: BzImage.Field.ramdiskImage, count: 4)
        write(initrdSize, at: BzImage.Field.ramdiskSize, count: 4)
        let kibAboveOneMiB = ramBytes > 0x10_0000 ? (ramBytes - 0x10_0000) / 1024 : 0
        write(UInt32(truncatingIfNeeded: kibAboveOneMiB), at: Field.alternativeMemoryKiB, count: 4)
        let records = e820.bootParamsRecords
        let count = min(e820.entries.count, Field.e820MaximumEntries)
        bytes[Field.e820EntryCount] = UInt8(count)
        // The 80x25 colour text mode the machine sets up before entering the kernel.
        bytes[Field.videoMode] = 3
        bytes[Field.videoColumns] = 80
        bytes[Field.videoLines] = 25
        bytes[Field.videoIsVGA] = BootParams.isVGA
        write(16, at: Field.videoPoints, count: 2)
        bytes.replaceSubrange(Field.e820Table..<Field.e820Table + count * 20, with: records[..<(count * 20)])
    }

    public func value(at offset: Int, count: Int) -> UInt64 { LittleEndian.read(bytes, at: offset, count: count) }

    private mutating func write(_ value: UInt32, at offset: Int, count: Int) {
        LittleEndian.write(UInt64(value), into: &bytes, at: offset, count: count)
    }
}

import PCEmuSupport

/// A Linux kernel image in the x86 boot protocol's format (bzImage): the
/// real-mode setup sectors with the setup header, then the protected-mode
/// kernel. Only what a boot loader needs is read here
/// (Documentation/arch/x86/boot.rst).
public struct BzImage {
    /// Offsets of the setup header fields, the same in the file and in boot_params.
    public enum Field {
        public static let setupSectors = 0x1F1
        /// vid_mode: the video mode the setup code sets (0xFFFF: the BIOS's, "normal").
        public static let videoMode = 0x1FA
        public static let bootFlag = 0x1FE
        /// The short jump at 0x200: its displacement byte says where the header ends.
        public static let jumpDisplacement = 0x201
        public static let headerMagic = 0x202
        public static let protocolVersion = 0x206
        public static let typeOfLoader = 0x210
        public static let loadFlags = 0x211
        public static let code32Start = 0x214
        public static let ramdiskImage = 0x218
        public static let ramdiskSize = 0x21C
        /// heap_end_ptr: the end of the setup code's heap, as an offset from its start less 0x200.
        public static let heapEndPointer = 0x224
        public static let commandLinePointer = 0x228
        public static let initrdAddressMax = 0x22C
        public static let kernelAlignment = 0x230
        public static let relocatableKernel = 0x234
        public static let extendedLoadFlags = 0x236
        public static let commandLineSize = 0x238
        public static let initSize = 0x260
    }

    public enum ExtendedLoadFlag {
        /// XLF_CAN_BE_LOADED_ABOVE_4G (protocol 2.12): the initrd may lie anywhere.
        public static let canBeLoadedAbove4GiB: UInt16 = 0x02
    }

    public enum LoadFlag {
        /// The protected-mode kernel is loaded at 0x100000.
        public static let loadedHigh: UInt8 = 0x01
        public static let keepSegments: UInt8 = 0x40
        public static let canUseHeap: UInt8 = 0x80
    }

    /// "HdrS", little-endian.
    static let headerMagic: UInt32 = 0x5372_6448
    static let bootFlagValue: UInt16 = 0xAA55
    /// 2.02: the command line anywhere below 4 GiB (cmd_line_ptr), the oldest this loader accepts.
    public static let minimumProtocol: UInt16 = 0x0202
    static let sectorSize = 512
    /// Before protocol 2.03 the initrd had to end below this.
    static let defaultInitrdAddressMax: UInt32 = 0x37FF_FFFF
    /// Before protocol 2.06 the command line was at most 255 bytes.
    static let defaultCommandLineSize: UInt32 = 255

    public let bytes: [UInt8]
    /// 512-byte sectors of real-mode setup code after the boot sector.
    public let setupSectors: Int
    public let protocolVersion: UInt16
    public let loadFlags: UInt8
    /// The 32-bit entry point: where the protected-mode kernel is loaded.
    public let code32Start: UInt32
    /// The highest address the initrd may occupy.
    public let initrdAddressMax: UInt32
    /// The longest command line, without its NUL.
    public let commandLineSize: UInt32
    /// The memory the kernel needs from its load address while it decompresses
    /// itself (protocol 2.10), or nil for older kernels.
    public let initSize: UInt32?
    /// One past the last byte of the setup header.
    public let setupHeaderEnd: Int

    public init(bytes: [UInt8], name: String = "kernel") throws {
        func bad(_ why: String) -> EmulatorError { .badOption("-kernel", "\(name): \(why)") }
        guard bytes.count >= 0x250 else { throw bad("too small for a Linux kernel") }
        guard LittleEndian.read(bytes, at: Field.headerMagic, count: 4) == UInt64(BzImage.headerMagic) else {
            throw bad("not a Linux bzImage (no HdrS setup header)")
        }
        guard LittleEndian.read(bytes, at: Field.bootFlag, count: 2) == UInt64(BzImage.bootFlagValue) else {
            throw bad("not a Linux bzImage (no boot flag)")
        }
        self.bytes = bytes
        protocolVersion = UInt16(LittleEndian.read(bytes, at: Field.protocolVersion, count: 2))
        guard protocolVersion >= BzImage.minimumProtocol else {
            throw bad("boot protocol \(BzImage.versionText(protocolVersion)) is too old (2.02 or later needed)")
        }
        loadFlags = bytes[Field.loadFlags]
        guard loadFlags & LoadFlag.loadedHigh != 0 else {
            throw bad("a zImage loaded low is not supported (LOADED_HIGH is clear)")
        }
        let sectors = Int(bytes[Field.setupSectors])
        setupSectors = sectors == 0 ? 4 : sectors
        let setupOffset = (setupSectors + 1) * BzImage.sectorSize
        guard setupOffset + 1 < bytes.count else { throw bad("truncated: the setup code runs past the end") }
        code32Start = UInt32(LittleEndian.read(bytes, at: Field.code32Start, count: 4))
        initrdAddressMax = protocolVersion >= 0x0203
            ? UInt32(LittleEndian.read(bytes, at: Field.initrdAddressMax, count: 4)) : BzImage.defaultInitrdAddressMax
        commandLineSize = protocolVersion >= 0x0206
            ? UInt32(LittleEndian.read(bytes, at: Field.commandLineSize, count: 4)) : BzImage.defaultCommandLineSize
        initSize = protocolVersion >= 0x020A ? UInt32(LittleEndian.read(bytes, at: Field.initSize, count: 4)) : nil
        setupHeaderEnd = Field.jumpDisplacement + 1 + Int(bytes[Field.jumpDisplacement])
        guard setupHeaderEnd <= setupOffset else { throw bad("the setup header runs past the setup code") }
    }

    /// Where the protected-mode kernel starts in the file.
    public var setupOffset: Int { (setupSectors + 1) * BzImage.sectorSize }

    /// The protected-mode kernel, loaded at `code32Start`.
    public var protectedModeKernel: ArraySlice<UInt8> { bytes[setupOffset...] }

    /// The setup sectors (boot sector included), for fw_cfg's linuxboot items.
    public var setup: ArraySlice<UInt8> { bytes[..<setupOffset] }

    /// Whether the header allows an initrd anywhere below 4 GiB, whatever initrd_addr_max says.
    public var canLoadAbove4GiB: Bool {
        protocolVersion >= 0x020C
            && UInt16(LittleEndian.read(bytes, at: Field.extendedLoadFlags, count: 2)) & ExtendedLoadFlag.canBeLoadedAbove4GiB != 0
    }

    static func versionText(_ version: UInt16) -> String { "\(version >> 8).\(String(format2: version & 0xFF))" }
}

private extension String {
    /// Two decimal digits, as boot protocol minor versions are written.
    init(format2 value: UInt16) {
        self = value < 10 ? "0\(value)" : "\(value)"
    }
}

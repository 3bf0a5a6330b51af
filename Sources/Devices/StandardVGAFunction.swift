import Memory
import PCEmuSupport

/// The PCI face of QEMU's standard VGA (1234:1111, class VGA): BAR0 is the
/// 16 MiB linear framebuffer (prefetchable memory), and the expansion ROM BAR
/// at 0x30 shows the VGA BIOS, which SeaBIOS copies to 0xC0000 and runs.
/// BAR2, when present, is QEMU's 4 KiB register window (`StandardVGAMMIO`).
public final class StandardVGAFunction: PCIDevice {
    public static let vendorID: UInt16 = 0x1234
    public static let deviceID: UInt16 = 0x1111
    static let classVGA: UInt32 = 0x03_0000
    public static let framebufferBAR = 0
    public static let registerBAR = 2
    public static let romAddressRegister = 0x30
    static let romEnable: UInt32 = 0x1

    /// The ROM image, padded to its BAR's size (a power of two, at least 2 KiB).
    public let rom: UnsafeMutableRawPointer?
    public let romSize: UInt32
    /// Called when the ROM BAR starts, stops or moves decoding.
    public var romMoved: (_ old: UInt32?, _ new: UInt32?) -> Void = { _, _ in }
    public private(set) var romAddress: UInt32?

    /// `romImage` is the VGA BIOS (nil: no ROM BAR); `registerWindow`: BAR2 is there.
    public init(romImage: [UInt8]?, registerWindow: Bool = true) {
        if let romImage, !romImage.isEmpty {
            var size: UInt32 = 2048
            while size < romImage.count { size <<= 1 }
            let storage = UnsafeMutableRawPointer.allocate(byteCount: Int(max(size, 4096)), alignment: 4096)
            storage.initializeMemory(as: UInt8.self, repeating: 0, count: Int(max(size, 4096)))
            romImage.withUnsafeBytes { storage.copyMemory(from: $0.baseAddress!, byteCount: romImage.count) }
            rom = storage
            romSize = size
        } else {
            rom = nil
            romSize = 0
        }
        super.init(name: "vga", vendorID: StandardVGAFunction.vendorID, deviceID: StandardVGAFunction.deviceID,
                   revision: 2, classCode: StandardVGAFunction.classVGA)
        setConfig(PCIConfig.subsystemVendorID, word: 0x1AF4)
        setConfig(PCIConfig.subsystemID, word: 0x1100)
        defineBAR(StandardVGAFunction.framebufferBAR, size: UInt32(VideoMemory.size), kind: .memory32(prefetchable: true))
        if registerWindow {
            defineBAR(StandardVGAFunction.registerBAR, size: StandardVGAMMIO.size, kind: .memory32(prefetchable: false))
        }
        if romSize > 0 {
            let mask = ~(romSize - 1) | StandardVGAFunction.romEnable
            for i in 0..<4 { setWritable(StandardVGAFunction.romAddressRegister + i, byte: UInt8(truncatingIfNeeded: mask >> (8 * UInt32(i)))) }
        }
    }

    deinit { rom?.deallocate() }

    public override func configWrite(offset: Int, value: UInt32, size: AccessSize) {
        super.configWrite(offset: offset, value: value, size: size)
        updateROMMapping()
    }

    public override func reset() {
        super.reset()
        updateROMMapping()
    }

    /// The ROM decodes with its enable bit and the command register's memory
    /// space bit set, at a non-zero address (sizing's all-ones does not fit).
    func updateROMMapping() {
        guard romSize > 0 else { return }
        let register = configDword(StandardVGAFunction.romAddressRegister)
        let address = register & ~(romSize - 1)
        let decoding = register & StandardVGAFunction.romEnable != 0
            && configWord(PCIConfig.command) & PCICommand.memorySpace != 0
            && address != 0 && UInt64(address) + UInt64(romSize) <= 0xFFFF_FFFF
        let new = decoding ? address : nil
        guard new != romAddress else { return }
        let old = romAddress
        romAddress = new
        romMoved(old, new)
    }
}

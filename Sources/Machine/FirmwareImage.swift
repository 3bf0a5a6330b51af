import Foundation
import Memory
import PCEmuSupport

/// The system BIOS image (SeaBIOS's bios-256k.bin by default): pinned ROM
/// storage mapped at the top of the 32-bit space, where the reset vector
/// 0xFFFFFFF0 finds it. Its last 128 KiB also appear at 0xE0000-0xFFFFF
/// through the i440FX's shadow areas (`ShadowMemory`).
public final class FirmwareImage {
    public static let defaultPath = "/usr/share/seabios/bios-256k.bin"
    /// The most of the image the ISA window below 1 MiB shows.
    public static let lowAliasLimit = 128 * 1024
    /// Like QEMU: whole 64 KiB blocks, at most 16 MiB.
    static let granule = 64 * 1024
    static let maximumSize = 16 << 20

    public let path: String
    public let size: Int
    /// The image's bytes; never moves or goes away while the machine exists.
    public let storage: UnsafeMutableRawPointer

    public init(path: String?) throws {
        let path = path ?? FirmwareImage.defaultPath
        let option = "-bios"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EmulatorError.badOption(option, "\(path): cannot be read (install Debian's seabios package or give -bios FILE)")
        }
        guard data.count >= FirmwareImage.granule, data.count % FirmwareImage.granule == 0,
              data.count <= FirmwareImage.maximumSize else {
            throw EmulatorError.badOption(option, "\(path): a BIOS image is a multiple of 64 KiB up to 16 MiB, not \(data.count) bytes")
        }
        self.path = path
        size = data.count
        storage = .allocate(byteCount: data.count, alignment: GuestRAM.pageSize)
        data.withUnsafeBytes { storage.copyMemory(from: $0.baseAddress!, byteCount: data.count) }
    }

    /// The firmware in pflash unit 0: a copy taken at start, which is what
    /// QEMU's pc shows below 1 MiB (its "isa-bios"); the flash itself is mapped
    /// at the top by `SystemFlash`.
    init(flashCopy bytes: UnsafeRawPointer, size: Int, path: String) {
        self.path = path
        self.size = size
        storage = .allocate(byteCount: size, alignment: GuestRAM.pageSize)
        storage.copyMemory(from: bytes, byteCount: size)
    }

    deinit { storage.deallocate() }

    /// Where the image starts: it ends at 4 GiB.
    public var highAddress: UInt64 { AddressSpace.lowLimit - UInt64(size) }

    /// The part of the image seen below 1 MiB, ending at 0xFFFFF.
    public var lowAliasSize: Int { min(size, FirmwareImage.lowAliasLimit) }
    public var lowAliasStart: UInt32 { 0x10_0000 - UInt32(lowAliasSize) }

    /// Host pointer to the byte the low alias shows at `address` (0xE0000-0xFFFFF), or nil outside it.
    public func lowAliasPointer(at address: UInt32) -> UnsafeMutableRawPointer? {
        guard address >= lowAliasStart, address < 0x10_0000 else { return nil }
        return storage + (size - lowAliasSize) + Int(address - lowAliasStart)
    }

    func mapHigh(in addressSpace: AddressSpace) throws {
        try addressSpace.map("bios", at: highAddress, size: UInt64(size), kind: .rom(storage))
    }
}

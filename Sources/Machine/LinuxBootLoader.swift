import Foundation
import Memory
import PCEmuSupport

/// Direct Linux boot by the x86 32-bit boot protocol, without firmware: the
/// protected-mode kernel at its code32_start (0x100000), the initrd as high
/// as the kernel allows, the command line and boot_params in low memory, and
/// a GDT with the flat __BOOT_CS/__BOOT_DS descriptors the protocol requires.
/// `ProtectedModeEntry` then starts the CPU at the kernel's 32-bit entry.
public struct LinuxBootLoader {
    /// Where each part goes: computed once, checked against RAM, reused on reset.
    public struct Layout: Equatable {
        public var bootParamsAddress: UInt32
        public var gdtAddress: UInt32
        public var commandLineAddress: UInt32
        public var kernelAddress: UInt32
        public var kernelSize: UInt32
        public var initrdAddress: UInt32
        public var initrdSize: UInt32
        public var entryPoint: UInt32
    }

    // Low memory below the BIOS data areas' usual 0x7C00/0x90000 users.
    public static let bootParamsAddress: UInt32 = 0x1_0000
    public static let gdtAddress: UInt32 = 0x1_1000
    public static let commandLineAddress: UInt32 = 0x2_0000
    static let pageMask: UInt32 = 0xFFF

    /// The GDT: null, null, then __BOOT_CS (0x10) flat 4 GiB code and
    /// __BOOT_DS (0x18) flat 4 GiB data, as the kernel's own boot GDT has them.
    public static let gdt: [UInt64] = [0, 0, 0x00CF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF]
    public static let codeSelector: UInt16 = 0x10
    public static let dataSelector: UInt16 = 0x18

    public let kernel: BzImage
    public let initrd: [UInt8]
    public let commandLine: [UInt8]
    public let layout: Layout
    public let bootParams: BootParams

    /// Reads the files named by -kernel/-initrd and lays them out in `ramBytes` of RAM.
    public init(kernelPath: String, initrdPath: String?, commandLine: String?, ramBytes: UInt64, e820: E820Map) throws {
        let kernel = try BzImage(bytes: LinuxBootLoader.readFile(kernelPath, option: "-kernel"), name: kernelPath)
        let initrd = try initrdPath.map { try LinuxBootLoader.readFile($0, option: "-initrd") } ?? []
        try self.init(kernel: kernel, initrd: initrd, commandLine: commandLine ?? "", ramBytes: ramBytes, e820: e820)
    }

    public init(kernel: BzImage, initrd: [UInt8], commandLine: String, ramBytes: UInt64, e820: E820Map) throws {
        self.kernel = kernel
        self.initrd = initrd
        let line = Array(commandLine.utf8)
        guard line.count <= Int(kernel.commandLineSize) else {
            throw EmulatorError.badOption("-append", "the command line is \(line.count) bytes; this kernel takes at most \(kernel.commandLineSize)")
        }
        self.commandLine = line + [0]

        let kernelAddress = kernel.code32Start
        let kernelSize = UInt32(kernel.protectedModeKernel.count)
        // The kernel decompresses itself in place: it needs init_size bytes from its load address.
        let kernelEnd = UInt64(kernelAddress) + UInt64(max(kernelSize, kernel.initSize ?? 0))
        guard kernelEnd <= ramBytes else {
            throw EmulatorError.badOption("-kernel", "the kernel needs \(kernelEnd >> 20) MiB of RAM; -m gives \(ramBytes >> 20) MiB")
        }
        var initrdAddress: UInt32 = 0
        if !initrd.isEmpty {
            let ceiling = min(ramBytes, UInt64(kernel.initrdAddressMax) + 1)
            let size = UInt64(initrd.count)
            guard size <= ceiling, (ceiling - size) & ~UInt64(LinuxBootLoader.pageMask) >= kernelEnd else {
                throw EmulatorError.badOption("-initrd", "the initrd (\(size >> 10) KiB) does not fit above the kernel in \(ramBytes >> 20) MiB of RAM")
            }
            initrdAddress = UInt32((ceiling - size) & ~UInt64(LinuxBootLoader.pageMask))
        }
        layout = Layout(bootParamsAddress: LinuxBootLoader.bootParamsAddress, gdtAddress: LinuxBootLoader.gdtAddress,
                        commandLineAddress: LinuxBootLoader.commandLineAddress, kernelAddress: kernelAddress,
                        kernelSize: kernelSize, initrdAddress: initrdAddress, initrdSize: UInt32(initrd.count),
                        entryPoint: kernel.code32Start)
        bootParams = BootParams(kernel: kernel, ramBytes: ramBytes, e820: e820,
                                commandLineAddress: layout.commandLineAddress,
                                initrdAddress: initrdAddress, initrdSize: UInt32(initrd.count))
    }

    /// Copies every part into guest RAM (again after a reset: the guest may have overwritten them).
    public func load(into ram: GuestRAM) throws {
        try copy(kernel.protectedModeKernel, to: layout.kernelAddress, in: ram)
        if !initrd.isEmpty { try copy(initrd[...], to: layout.initrdAddress, in: ram) }
        try copy(commandLine[...], to: layout.commandLineAddress, in: ram)
        try copy(bootParams.bytes[...], to: layout.bootParamsAddress, in: ram)
        let gdtBytes = LinuxBootLoader.gdt.flatMap { LittleEndian.bytes($0, count: 8) }
        try copy(gdtBytes[...], to: layout.gdtAddress, in: ram)
    }

    private func copy(_ bytes: ArraySlice<UInt8>, to address: UInt32, in ram: GuestRAM) throws {
        try bytes.withUnsafeBytes { try ram.load($0, at: Int(address)) }
    }

    static func readFile(_ path: String, option: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EmulatorError.badOption(option, "\(path): cannot be read")
        }
        return [UInt8](data)
    }
}

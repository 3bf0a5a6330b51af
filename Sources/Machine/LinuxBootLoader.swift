import Devices
import Foundation
import PCEmuSupport

/// -kernel as QEMU does it: the firmware boots the machine, and an option ROM
/// it finds in fw_cfg loads the kernel. This prepares what that ROM reads:
/// the real-mode setup sectors with the loader's fields patched into their
/// setup header, the protected-mode kernel, the initrd and the command line,
/// each with its load address; and the ROM itself, QEMU's linuxboot_dma.bin
/// from Debian's qemu-system-data, as `genroms/linuxboot_dma.bin`, first in
/// the boot order. The ROM copies each part into RAM through fw_cfg DMA and
/// jumps to the kernel's real-mode setup code, which asks the BIOS for the
/// memory map and video mode and enters protected mode itself, as after any
/// boot loader. Everything the BIOS sets up (PCI, ACPI, the VGA's text mode)
/// is there for the kernel, and a reset boots the kernel again the same way.
public struct LinuxBootLoader {
    /// Where each part goes.
    public struct Layout: Equatable {
        public var setupAddress: UInt32
        public var commandLineAddress: UInt32
        public var kernelAddress: UInt32
        public var kernelSize: UInt32
        public var initrdAddress: UInt32
        public var initrdSize: UInt32
    }

    /// Where QEMU puts a protocol 2.02+ kernel's setup code and its command
    /// line; the setup code's stack and heap lie between the two.
    public static let setupAddress: UInt32 = 0x1_0000
    /// Where the protected-mode kernel goes (the kernel is LOADED_HIGH: `BzImage` checks).
    public static let protectedModeKernelAddress: UInt32 = 0x10_0000
    public static let commandLineAddress: UInt32 = 0x2_0000
    /// QEMU keeps the initrd this far below the top of RAM (its acpi_data_size),
    /// where SeaBIOS puts its tables. The ROM moves the initrd down under the
    /// top that INT 15h E801 reports when the two differ.
    static let firmwareTablesReserve: UInt64 = 0x2_8000
    /// type_of_loader: QEMU's ID (high nibble B, revision 0); the loader is QEMU's ROM.
    static let qemuLoaderType: UInt8 = 0xB0
    /// The setup code's heap ends this far below the command line (heap_end_ptr is
    /// an offset from the setup's start; the 0x200 is the boot sector before it).
    static let heapEndBelowCommandLine: UInt32 = 0x200
    static let pageMask: UInt64 = 0xFFF

    /// The option ROM's fw_cfg file name, which SeaBIOS runs (`genroms/` files) and
    /// finds in the boot order under `/rom@`.
    public static let optionROMName = "genroms/linuxboot_dma.bin"
    public static let defaultOptionROM = "/usr/share/qemu/linuxboot_dma.bin"

    public let kernel: BzImage
    /// The setup sectors as the ROM copies them to `setupAddress`: the file's, header patched.
    public let setup: [UInt8]
    public let initrd: [UInt8]
    public let commandLine: String
    public let layout: Layout
    public let optionROM: [UInt8]

    /// Reads the files named by -kernel/-initrd and the option ROM, and lays them out in `ramBytes` of RAM.
    public init(kernelPath: String, initrdPath: String?, commandLine: String?, ramBytes: UInt64,
                optionROMPath: String = LinuxBootLoader.defaultOptionROM) throws {
        let kernel = try BzImage(bytes: LinuxBootLoader.readFile(kernelPath, option: "-kernel"), name: kernelPath)
        let initrd = try initrdPath.map { try LinuxBootLoader.readFile($0, option: "-initrd") } ?? []
        guard let rom = FileManager.default.contents(atPath: optionROMPath) else {
            throw EmulatorError.badOption("-kernel", "the Linux boot option ROM \(optionROMPath) cannot be read (Debian's qemu-system-data package)")
        }
        try self.init(kernel: kernel, initrd: initrd, commandLine: commandLine ?? "", ramBytes: ramBytes, optionROM: [UInt8](rom))
    }

    public init(kernel: BzImage, initrd: [UInt8], commandLine: String, ramBytes: UInt64, optionROM: [UInt8]) throws {
        self.kernel = kernel
        self.initrd = initrd
        self.commandLine = commandLine
        self.optionROM = optionROM
        let lineBytes = commandLine.utf8.count
        guard lineBytes <= Int(kernel.commandLineSize) else {
            throw EmulatorError.badOption("-append", "the command line is \(lineBytes) bytes; this kernel takes at most \(kernel.commandLineSize)")
        }

        // At 1 MiB, as QEMU loads a LOADED_HIGH kernel, whatever code32_start says:
        // iPXE's ipxe.lkrn leaves it 0, which is where its own setup code starts it.
        let kernelAddress = LinuxBootLoader.protectedModeKernelAddress
        let kernelSize = UInt32(kernel.protectedModeKernel.count)
        // The kernel decompresses itself in place: it needs init_size bytes from its load address.
        let kernelEnd = UInt64(kernelAddress) + UInt64(max(kernelSize, kernel.initSize ?? 0))
        guard kernelEnd <= ramBytes else {
            throw EmulatorError.badOption("-kernel", "the kernel needs \(kernelEnd >> 20) MiB of RAM; -m gives \(ramBytes >> 20) MiB")
        }
        var initrdAddress: UInt32 = 0
        if !initrd.isEmpty {
            // The highest byte the initrd may use, as QEMU computes it.
            let headerMax = kernel.canLoadAbove4GiB ? UInt64(UInt32.max) : UInt64(kernel.initrdAddressMax)
            let ramMax = ramBytes > LinuxBootLoader.firmwareTablesReserve ? ramBytes - LinuxBootLoader.firmwareTablesReserve - 1 : 0
            let highest = min(headerMax, ramMax)
            let size = UInt64(initrd.count)
            guard size < highest, (highest - size) & ~LinuxBootLoader.pageMask >= kernelEnd else {
                throw EmulatorError.badOption("-initrd", "the initrd (\(size >> 10) KiB) does not fit above the kernel in \(ramBytes >> 20) MiB of RAM")
            }
            initrdAddress = UInt32((highest - size) & ~LinuxBootLoader.pageMask)
        }
        layout = Layout(setupAddress: LinuxBootLoader.setupAddress, commandLineAddress: LinuxBootLoader.commandLineAddress,
                        kernelAddress: kernelAddress, kernelSize: kernelSize,
                        initrdAddress: initrdAddress, initrdSize: UInt32(initrd.count))
        setup = try LinuxBootLoader.patchedSetup(kernel, layout: layout, commandLine: commandLine)
    }

    /// The setup sectors with what a boot loader fills in: its type, where the
    /// command line and initrd are, the heap the setup code may use, and the
    /// video mode a `vga=` on the command line asks for.
    static func patchedSetup(_ kernel: BzImage, layout: Layout, commandLine: String) throws -> [UInt8] {
        typealias Field = BzImage.Field
        var setup = Array(kernel.setup)
        func put(_ value: UInt32, at offset: Int, count: Int) {
            LittleEndian.write(UInt64(value), into: &setup, at: offset, count: count)
        }
        setup[Field.typeOfLoader] = qemuLoaderType
        put(layout.commandLineAddress, at: Field.commandLinePointer, count: 4)
        setup[Field.loadFlags] |= BzImage.LoadFlag.canUseHeap
        put(layout.commandLineAddress - layout.setupAddress - heapEndBelowCommandLine, at: Field.heapEndPointer, count: 2)
        if layout.initrdSize > 0 {
            put(layout.initrdAddress, at: Field.ramdiskImage, count: 4)
            put(layout.initrdSize, at: Field.ramdiskSize, count: 4)
        }
        if let mode = try videoMode(in: commandLine) { put(UInt32(mode), at: Field.videoMode, count: 2) }
        return setup
    }

    /// The mode of a `vga=` argument: normal, ext, ask, or a number (decimal, 0x hex, 0 octal).
    static func videoMode(in commandLine: String) throws -> UInt16? {
        guard let argument = commandLine.split(separator: " ").last(where: { $0.hasPrefix("vga=") }) else { return nil }
        let value = argument.dropFirst(4)
        switch value {
        case "normal": return 0xFFFF
        case "ext": return 0xFFFE
        case "ask": return 0xFFFD
        default:
            let parsed: UInt16?
            if value.hasPrefix("0x") || value.hasPrefix("0X") {
                parsed = UInt16(value.dropFirst(2), radix: 16)
            } else if value.hasPrefix("0") && value.count > 1 {
                parsed = UInt16(value.dropFirst(), radix: 8)
            } else {
                parsed = UInt16(value, radix: 10)
            }
            guard let parsed else { throw EmulatorError.badOption("-append", "invalid vga=\(value): normal, ext, ask or a mode number") }
            return parsed
        }
    }

    /// Puts every part, the option ROM and a boot order starting with it into fw_cfg.
    public func install(in config: FirmwareConfig) throws {
        config.setLinuxBoot(setupAddress: layout.setupAddress, setup: setup,
                            kernelAddress: layout.kernelAddress, kernel: Array(kernel.protectedModeKernel),
                            initrdAddress: layout.initrdAddress, initrd: initrd,
                            commandLineAddress: layout.commandLineAddress, commandLine: commandLine)
        try config.addFile(name: LinuxBootLoader.optionROMName, data: optionROM)
        try config.setBootOrder(["/rom@\(LinuxBootLoader.optionROMName)"])
    }

    static func readFile(_ path: String, option: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EmulatorError.badOption(option, "\(path): cannot be read")
        }
        return [UInt8](data)
    }
}

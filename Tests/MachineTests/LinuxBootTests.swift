import CPURuntime
import Configuration
import Devices
import Foundation
@testable import Machine
import TestSupport
import X86State
import XCTest

/// The e820 map, and -kernel's hand-over to the firmware with a real Debian
/// bzImage: built by scripts/build-default-guest.sh into a temporary
/// GUEST_CACHE once per run.
final class LinuxBootTests: XCTestCase {
    nonisolated(unsafe) static var guestDirectory: URL?

    /// vmlinuz and initrd.gz of the default guest, built on first use.
    static func defaultGuest() throws -> (kernel: String, initrd: String) {
        if guestDirectory == nil {
            let directory = try makeTemporaryDirectory("pcemu-guest")
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("scripts/build-default-guest.sh").path
            let result = try ChildProcess.run("/bin/bash", [script], timeout: 600, environment: ["GUEST_CACHE": directory.path])
            guard result.status == 0 else {
                throw TestSetupError("build-default-guest.sh failed (\(result.status.map(String.init) ?? "timeout")): \(result.stderr.suffix(500))")
            }
            guestDirectory = directory
        }
        let directory = guestDirectory!
        return (directory.appendingPathComponent("vmlinuz").path, directory.appendingPathComponent("initrd.gz").path)
    }

    override class func tearDown() {
        if let guestDirectory { try? FileManager.default.removeItem(at: guestDirectory) }
        guestDirectory = nil
        super.tearDown()
    }

    // MARK: e820

    func testE820MapFor256MiB() {
        let map = E820Map(ramBytes: 256 << 20, firmwareBytes: 256 << 10)
        let entries = map.entries.map { [$0.address, $0.length, UInt64($0.type)] }
        XCTAssertEqual(entries, [
            [0, 0x9FC00, 1],
            [0x9FC00, 0x400, 2],
            [0xF0000, 0x10000, 2],
            [0x100000, (256 << 20) - 0x100000, 1],
            [0xFFFC_0000, 0x40000, 2],
        ])
    }

    // MARK: bzImage

    func testSyntheticHeadersAreCheckedByName() {
        var image = [UInt8](repeating: 0, count: 8192)
        XCTAssertThrowsError(try BzImage(bytes: image)) { XCTAssertTrue("\($0)".contains("HdrS"), "\($0)") }
        image.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        image[0x1FE] = 0x55
        image[0x1FF] = 0xAA
        image[0x206] = 0x01  // protocol 2.01
        image[0x207] = 0x02
        XCTAssertThrowsError(try BzImage(bytes: image)) { XCTAssertTrue("\($0)".contains("2.01 is too old"), "\($0)") }
        image[0x206] = 0x05  // protocol 2.05
        XCTAssertThrowsError(try BzImage(bytes: image)) { XCTAssertTrue("\($0)".contains("LOADED_HIGH"), "\($0)") }
        image[0x211] = BzImage.LoadFlag.loadedHigh
        image[0x201] = 0x62
        image[0x1F1] = 0
        image.replaceSubrange(0x214..<0x218, with: [0, 0, 0x10, 0])
        let kernel = try? BzImage(bytes: image)
        XCTAssertEqual(kernel?.setupSectors, 4, "0 setup sectors means 4")
        XCTAssertEqual(kernel?.setupOffset, 5 * 512)
        XCTAssertEqual(kernel?.code32Start, 0x100000)
        XCTAssertEqual(kernel?.commandLineSize, 255, "before 2.06, 255 bytes")
        XCTAssertEqual(kernel?.initrdAddressMax, 0, "from 2.03 on the header says")
        XCTAssertNil(kernel?.initSize, "init_size is 2.10's")
    }

    func testParsesTheDefaultGuestKernel() throws {
        let guest = try LinuxBootTests.defaultGuest()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: guest.kernel)))
        let kernel = try BzImage(bytes: bytes)
        XCTAssertGreaterThanOrEqual(kernel.protocolVersion, 0x020F, "Debian 12's kernel speaks protocol 2.15")
        XCTAssertNotEqual(kernel.loadFlags & BzImage.LoadFlag.loadedHigh, 0)
        XCTAssertEqual(kernel.code32Start, 0x100000)
        XCTAssertGreaterThan(kernel.setupSectors, 4)
        XCTAssertEqual(kernel.setupOffset + kernel.protectedModeKernel.count, bytes.count)
        XCTAssertEqual(kernel.commandLineSize, 2047)
        let initSize = try XCTUnwrap(kernel.initSize)
        XCTAssertGreaterThan(Int(initSize), kernel.protectedModeKernel.count, "decompression needs room beyond the file")
        XCTAssertEqual(kernel.setupHeaderEnd, 0x202 + Int(bytes[0x201]))
    }

    /// What QEMU's x86_load_linux hands its linuxboot option ROM, item by item.
    func testHandsTheDefaultGuestToTheFirmwareAsQEMUDoes() throws {
        let guest = try LinuxBootTests.defaultGuest()
        let machine = try TestMachine.make {
            $0.memoryBytes = 256 << 20
            $0.kernel = guest.kernel
            $0.initrd = guest.initrd
            $0.append = "console=ttyS0 quiet"
        }
        let kernelFile = [UInt8](try Data(contentsOf: URL(fileURLWithPath: guest.kernel)))
        let initrdFile = [UInt8](try Data(contentsOf: URL(fileURLWithPath: guest.initrd)))
        let config = machine.firmwareConfig
        func number(_ key: UInt16) -> UInt64? { config.item(key).map { LittleEndian.read($0, at: 0, count: $0.count) } }
        typealias Key = FirmwareConfig.Key

        // The setup sectors at 0x10000, with the loader's fields; every other byte is the file's.
        let setupSize = (Int(kernelFile[0x1F1]) + 1) * 512
        XCTAssertEqual(number(Key.setupAddress), 0x1_0000)
        XCTAssertEqual(number(Key.setupSize), UInt64(setupSize))
        let setup = try XCTUnwrap(config.item(Key.setupData))
        XCTAssertEqual(setup.count, setupSize)
        func field(_ offset: Int, _ count: Int) -> UInt64 { LittleEndian.read(setup, at: offset, count: count) }
        XCTAssertEqual(field(0x210, 1), 0xB0, "type_of_loader: QEMU's")
        XCTAssertEqual(field(0x211, 1), UInt64(kernelFile[0x211] | 0x80), "loadflags: CAN_USE_HEAP added")
        XCTAssertEqual(field(0x224, 2), 0x2_0000 - 0x1_0000 - 0x200, "heap_end_ptr: up to the command line")
        XCTAssertEqual(field(0x228, 4), 0x2_0000, "cmd_line_ptr")
        let initrdAddress = ((256 << 20) - 0x2_8000 - 1 - UInt64(initrdFile.count)) & ~0xFFF
        XCTAssertEqual(field(0x218, 4), initrdAddress, "ramdisk_image: page-aligned below the firmware's tables")
        XCTAssertEqual(field(0x21C, 4), UInt64(initrdFile.count), "ramdisk_size")
        var unpatched = setup
        for (offset, count) in [(0x210, 2), (0x218, 8), (0x224, 2), (0x228, 4)] {
            unpatched.replaceSubrange(offset..<offset + count, with: kernelFile[offset..<offset + count])
        }
        XCTAssertEqual(unpatched, Array(kernelFile[..<setupSize]))

        // The protected-mode kernel at 1 MiB, the initrd and the command line, NUL-terminated.
        XCTAssertEqual(number(Key.kernelAddress), 0x10_0000)
        XCTAssertEqual(number(Key.kernelSize), UInt64(kernelFile.count - setupSize))
        XCTAssertEqual(config.item(Key.kernelData), Array(kernelFile[setupSize...]))
        XCTAssertEqual(number(Key.initrdAddress), initrdAddress)
        XCTAssertEqual(number(Key.initrdSize), UInt64(initrdFile.count))
        XCTAssertEqual(config.item(Key.initrdData), initrdFile)
        XCTAssertEqual(number(Key.commandLineAddress), 0x2_0000)
        XCTAssertEqual(number(Key.commandLineSize), 20)
        XCTAssertEqual(config.item(Key.commandLineData), Array("console=ttyS0 quiet".utf8) + [0])

        // The option ROM SeaBIOS runs, first in the boot order.
        let rom = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "/usr/share/qemu/linuxboot_dma.bin")))
        XCTAssertEqual(config.file(named: "genroms/linuxboot_dma.bin"), rom)
        XCTAssertEqual(Array(rom.prefix(2)), [0x55, 0xAA], "an option ROM")
        XCTAssertEqual(config.file(named: "bootorder"), Array("/rom@genroms/linuxboot_dma.bin".utf8) + [0])

        // The CPU starts in the BIOS, and so it does after a reset, with every item still there.
        assertAtResetVector(machine.cpu)
        machine.cpu.state.pointee.eip = 0x1234
        machine.reset()
        assertAtResetVector(machine.cpu)
        XCTAssertEqual(config.item(Key.kernelData)?.count, kernelFile.count - setupSize)
        XCTAssertNotNil(config.file(named: "genroms/linuxboot_dma.bin"))
    }

    /// A tiny kernel: boot sector and one setup sector with a protocol 2.15 header, then 16 bytes.
    func syntheticKernel() throws -> BzImage {
        var image = [UInt8](repeating: 0, count: 1024 + 16)
        for (offset, bytes) in [(0x1F1, [1]), (0x1FE, [0x55, 0xAA]), (0x200, [0xEB, 0x66]), (0x202, Array("HdrS".utf8)),
                                (0x206, [0x0F, 0x02]), (0x211, [1]), (0x214, [0, 0, 0x10, 0]), (0x22C, [0xFF, 0xFF, 0xFF, 0x37]),
                                (0x238, [0xFF, 0x07])] as [(Int, [UInt8])] {
            image.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        }
        return try BzImage(bytes: image)
    }

    func testVGAOnTheCommandLineSetsTheVideoMode() throws {
        let kernel = try syntheticKernel()
        func mode(_ line: String) throws -> UInt64 {
            let boot = try LinuxBootLoader(kernel: kernel, initrd: [], commandLine: line, ramBytes: 32 << 20, optionROM: [0x55, 0xAA])
            return LittleEndian.read(boot.setup, at: 0x1FA, count: 2)
        }
        XCTAssertEqual(try mode("console=ttyS0"), 0, "the file's vid_mode stays")
        XCTAssertEqual(try mode("vga=0x318 quiet"), 0x318)
        XCTAssertEqual(try mode("vga=791"), 791)
        XCTAssertEqual(try mode("vga=ext"), 0xFFFE)
        XCTAssertEqual(try mode("vga=ask"), 0xFFFD)
        XCTAssertEqual(try mode("vga=normal"), 0xFFFF)
        XCTAssertThrowsError(try mode("vga=huge")) { XCTAssertTrue("\($0)".contains("-append: invalid vga=huge"), "\($0)") }
    }

    func testNoInitrdLeavesTheRamdiskFieldsAlone() throws {
        let boot = try LinuxBootLoader(kernel: try syntheticKernel(), initrd: [], commandLine: "", ramBytes: 32 << 20, optionROM: [0x55, 0xAA])
        XCTAssertEqual(LittleEndian.read(boot.setup, at: 0x218, count: 8), 0)
        XCTAssertEqual(boot.layout.initrdSize, 0)
        XCTAssertEqual(boot.layout.kernelSize, 16)
    }

    func testAMissingOptionROMIsNamed() throws {
        let guest = try LinuxBootTests.defaultGuest()
        XCTAssertThrowsError(try LinuxBootLoader(kernelPath: guest.kernel, initrdPath: nil, commandLine: nil, ramBytes: 64 << 20,
                                                 optionROMPath: "/nonexistent/linuxboot_dma.bin")) {
            XCTAssertTrue("\($0)".contains("/nonexistent/linuxboot_dma.bin cannot be read (Debian's qemu-system-data package)"), "\($0)")
        }
    }

    func testAKernelThatDoesNotFitIsRefusedByName() throws {
        let guest = try LinuxBootTests.defaultGuest()
        XCTAssertThrowsError(try TestMachine.make { $0.memoryBytes = 8 << 20; $0.kernel = guest.kernel; $0.initrd = guest.initrd }) {
            XCTAssertTrue("\($0)".contains("-initrd") || "\($0)".contains("-kernel"), "\($0)")
        }
        let long = String(repeating: "x", count: 3000)
        XCTAssertThrowsError(try TestMachine.make { $0.kernel = guest.kernel; $0.append = long }) {
            XCTAssertTrue("\($0)".contains("at most 2047"), "\($0)")
        }
    }

    private func assertAtResetVector(_ cpu: X86CPU, line: UInt = #line) {
        let state = cpu.state.pointee
        XCTAssertEqual(state.cr0 & ControlRegister.protectionEnable, 0, line: line)
        XCTAssertEqual(state.eip, 0xFFF0, line: line)
        XCTAssertEqual(state.segments.1.base, 0xFFFF_0000, line: line)
        XCTAssertEqual(state.segments.1.selector, 0xF000, line: line)
    }
}

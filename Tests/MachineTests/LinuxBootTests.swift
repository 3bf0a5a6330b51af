import CPURuntime
import Configuration
import Devices
import Foundation
@testable import Machine
import TestSupport
import X86State
import XCTest

/// The e820 map, and direct Linux boot with a real Debian bzImage: built by
/// scripts/build-default-guest.sh into a temporary GUEST_CACHE once per run.
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
        XCTAssertEqual(map.bootParamsRecords.count, 5 * 20)
        XCTAssertEqual(Array(map.bootParamsRecords[60..<80]),
                       LittleEndian.bytes(0x100000, count: 8) + LittleEndian.bytes((256 << 20) - 0x100000, count: 8) + [1, 0, 0, 0])
    }

    func testTheMachineGivesFirmwareTheSameE820() throws {
        let machine = try TestMachine.make { $0.memoryBytes = 256 << 20 }
        let file = try XCTUnwrap(machine.firmwareConfig.file(named: "etc/e820"))
        XCTAssertEqual(file, machine.e820.bootParamsRecords)
        XCTAssertEqual(machine.e820.entries.count, 5)
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

    func testLoadsTheDefaultGuestByThe32BitBootProtocol() throws {
        let guest = try LinuxBootTests.defaultGuest()
        let machine = try TestMachine.make {
            $0.memoryBytes = 256 << 20
            $0.kernel = guest.kernel
            $0.initrd = guest.initrd
            $0.append = "console=ttyS0 quiet"
        }
        let boot = try XCTUnwrap(machine.linuxBoot)
        let layout = boot.layout
        let kernelFile = [UInt8](try Data(contentsOf: URL(fileURLWithPath: guest.kernel)))
        let initrdFile = [UInt8](try Data(contentsOf: URL(fileURLWithPath: guest.initrd)))
        let memory = machine.addressSpace

        // The protected-mode kernel at 1 MiB, byte for byte (spot checks: start, middle, end).
        XCTAssertEqual(layout.kernelAddress, 0x100000)
        XCTAssertEqual(Int(layout.kernelSize), kernelFile.count - boot.kernel.setupOffset)
        for offset in [0, Int(layout.kernelSize) / 2, Int(layout.kernelSize) - 16] {
            XCTAssertEqual(memory.bytes(at: layout.kernelAddress + UInt32(offset), count: 16),
                           Array(kernelFile[(boot.kernel.setupOffset + offset)...].prefix(16)), "kernel + \(offset)")
        }
        // The initrd page-aligned, as high as it fits, above the decompressed kernel.
        XCTAssertEqual(layout.initrdAddress & 0xFFF, 0)
        XCTAssertEqual(Int(layout.initrdSize), initrdFile.count)
        XCTAssertLessThanOrEqual(UInt64(layout.initrdAddress) + UInt64(layout.initrdSize), 256 << 20)
        XCTAssertGreaterThan(UInt64(layout.initrdAddress) + UInt64(layout.initrdSize), (256 << 20) - 4096)
        XCTAssertGreaterThanOrEqual(layout.initrdAddress, 0x100000 + boot.kernel.initSize!)
        XCTAssertEqual(memory.bytes(at: layout.initrdAddress, count: 32), Array(initrdFile.prefix(32)))
        XCTAssertEqual(memory.bytes(at: layout.initrdAddress + layout.initrdSize - 8, count: 8), Array(initrdFile.suffix(8)))
        // The command line, NUL-terminated.
        XCTAssertEqual(memory.bytes(at: layout.commandLineAddress, count: 20), Array("console=ttyS0 quiet".utf8) + [0])

        // boot_params: the kernel's header with the loader's fields.
        let zeroPage = layout.bootParamsAddress
        func field(_ offset: Int, _ count: Int) -> UInt64 {
            LittleEndian.read(memory.bytes(at: zeroPage + UInt32(offset), count: count), at: 0, count: count)
        }
        XCTAssertEqual(field(0x202, 4), 0x5372_6448, "HdrS")
        XCTAssertEqual(field(0x206, 2), UInt64(boot.kernel.protocolVersion))
        XCTAssertEqual(field(0x1F1, 1), UInt64(kernelFile[0x1F1]))
        XCTAssertEqual(field(0x210, 1), 0xFF, "type_of_loader: undefined")
        XCTAssertEqual(field(0x228, 4), UInt64(layout.commandLineAddress))
        XCTAssertEqual(field(0x218, 4), UInt64(layout.initrdAddress))
        XCTAssertEqual(field(0x21C, 4), UInt64(initrdFile.count))
        XCTAssertEqual(field(0x214, 4), 0x100000)
        XCTAssertEqual(field(0x1E0, 4), UInt64((256 - 1) * 1024), "alt_mem_k")
        XCTAssertEqual(field(0x1E8, 1), UInt64(machine.e820.entries.count))
        XCTAssertEqual(memory.bytes(at: zeroPage + 0x2D0, count: machine.e820.entries.count * 20), machine.e820.bootParamsRecords)
        XCTAssertEqual(field(0x1EF, 1), 0, "sentinel left zero")

        // The GDT's __BOOT_CS and __BOOT_DS.
        XCTAssertEqual(LittleEndian.read(memory.bytes(at: layout.gdtAddress + 0x10, count: 8), at: 0, count: 8), 0x00CF_9A00_0000_FFFF)
        XCTAssertEqual(LittleEndian.read(memory.bytes(at: layout.gdtAddress + 0x18, count: 8), at: 0, count: 8), 0x00CF_9200_0000_FFFF)

        // The CPU at the 32-bit entry.
        assertAtKernelEntry(machine.cpu, layout: layout)

        // fw_cfg carries the same parts for firmware that wants them.
        XCTAssertEqual(machine.firmwareConfig.item(FirmwareConfig.Key.kernelSize), LittleEndian.bytes(UInt64(layout.kernelSize), count: 4))
        XCTAssertEqual(machine.firmwareConfig.item(FirmwareConfig.Key.initrdAddress), LittleEndian.bytes(UInt64(layout.initrdAddress), count: 4))

        // A reset reloads what the guest may have overwritten and enters again.
        memory.write(layout.kernelAddress, value: 0, size: .dword)
        memory.write(layout.bootParamsAddress + 0x202, value: 0, size: .dword)
        machine.cpu.state.pointee.eip = 0x1234
        machine.reset()
        XCTAssertEqual(memory.bytes(at: layout.kernelAddress, count: 4), Array(kernelFile[boot.kernel.setupOffset...].prefix(4)))
        XCTAssertEqual(field(0x202, 4), 0x5372_6448)
        assertAtKernelEntry(machine.cpu, layout: layout)
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

    private func assertAtKernelEntry(_ cpu: X86CPU, layout: LinuxBootLoader.Layout, line: UInt = #line) {
        let state = cpu.state.pointee
        XCTAssertNotEqual(state.cr0 & ControlRegister.protectionEnable, 0, line: line)
        XCTAssertEqual(state.cr0 & ControlRegister.paging, 0, line: line)
        XCTAssertEqual(state.eip, UInt64(layout.entryPoint), line: line)
        XCTAssertEqual(cpu.testRegister(Register.esi.rawValue), layout.bootParamsAddress, line: line)
        XCTAssertEqual(cpu.testFlags() & EFLAGS.interrupt, 0, line: line)
        XCTAssertEqual(state.segments.1.selector, 0x10, line: line)
        XCTAssertEqual(state.segments.1.limit, 0xFFFF_FFFF, line: line)
        XCTAssertTrue(state.segments.1.isBig, line: line)
        for data in [state.segments.0, state.segments.2, state.segments.3] {
            XCTAssertEqual(data.selector, 0x18, line: line)
            XCTAssertEqual(data.base, 0, line: line)
            XCTAssertEqual(data.limit, 0xFFFF_FFFF, line: line)
        }
        let flags = HiddenFlags(rawValue: state.hiddenFlags)
        XCTAssertTrue(flags.contains([.protectedMode, .code32, .stack32]), line: line)
        XCTAssertEqual(flags.cpl, 0, line: line)
        XCTAssertEqual(state.gdtBase, layout.gdtAddress, line: line)
        XCTAssertEqual(state.a20Mask, 0xFFFF_FFFF, line: line)
    }
}

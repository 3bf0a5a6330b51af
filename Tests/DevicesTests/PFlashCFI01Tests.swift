import Devices
import Foundation
import Lifecycle
import Memory
import Storage
import TestSupport
import XCTest

/// The flash chip driven through the address space as OVMF's variable driver
/// (QemuFlashFvbServicesRuntimeDxe) drives it: byte program, block erase,
/// status, read array; and the other commands QEMU's pflash_cfi01 answers.
/// Expected values are QEMU's model as its pc machine configures it.
final class PFlashCFI01Tests: XCTestCase {
    static let base: UInt64 = 0xFFFC_0000
    static let size = 64 * 1024

    var directory: URL!
    var path: String!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-pflash")
        path = directory.appendingPathComponent("vars.fd").path
        var bytes = [UInt8](repeating: 0, count: PFlashCFI01Tests.size)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 7 &+ 3) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func makeChip(readOnly: Bool = false, persistent: Bool = true) throws -> (PFlashCFI01, AddressSpace, BlockImage?) {
        let image: BlockImage? = persistent && !readOnly ? try RawImage(path: path, readOnly: false) : nil
        let contents = try Data(contentsOf: URL(fileURLWithPath: path))
        let chip = contents.withUnsafeBytes { PFlashCFI01(name: "system.flash1", contents: $0, readOnly: readOnly, image: image) }
        let space = AddressSpace(ram: try GuestRAM(size: 1 << 20))
        try chip.map(in: space, at: PFlashCFI01Tests.base)
        return (chip, space, image)
    }

    func write(_ space: AddressSpace, _ offset: UInt64, _ value: UInt32, _ size: AccessSize = .byte) {
        space.write(PFlashCFI01Tests.base + offset, value: value, size: size)
    }

    func read(_ space: AddressSpace, _ offset: UInt64, _ size: AccessSize = .byte) -> UInt32 {
        space.read(PFlashCFI01Tests.base + offset, size: size)
    }

    func testReadArrayModeIsROMUntilACommand() throws {
        let (chip, space, _) = try makeChip()
        XCTAssertEqual(space.backingKind(at: PFlashCFI01Tests.base), .rom, "reads go straight to the storage")
        XCTAssertNotNil(space.hostPointer(at: PFlashCFI01Tests.base + 0x123))
        XCTAssertEqual(read(space, 0x10), UInt32(UInt8(truncatingIfNeeded: 0x10 * 7 + 3)))
        write(space, 0, 0x70)
        XCTAssertFalse(chip.isReadArrayMode)
        XCTAssertEqual(space.backingKind(at: PFlashCFI01Tests.base), .mmio, "a command turns the chip into registers")
        XCTAssertEqual(read(space, 0x10), 0x80, "status: ready")
        XCTAssertEqual(read(space, 0x10, .dword), 0x0080_0080, "a dword read sees the status twice (QEMU's legacy layout)")
        write(space, 0, 0xFF)
        XCTAssertTrue(chip.isReadArrayMode)
        XCTAssertEqual(space.backingKind(at: PFlashCFI01Tests.base), .rom)
    }

    func testCFIQueryAndIdentifierAsQEMUAnswers() throws {
        let (_, space, _) = try makeChip()
        write(space, 0x55, 0x98)
        let qry = (0x10...0x12).map { read(space, UInt64($0)) }
        XCTAssertEqual(qry, [0x51, 0x52, 0x59], "QRY")
        XCTAssertEqual(read(space, 0x13), 0x01, "Intel command set")
        XCTAssertEqual(read(space, 0x27), 16, "2^16 bytes")
        XCTAssertEqual(read(space, 0x2A), 8, "256-byte write buffer")
        XCTAssertEqual(read(space, 0x2C), 1, "one erase region")
        XCTAssertEqual([0x2D, 0x2E, 0x2F, 0x30].map { read(space, UInt64($0)) }, [15, 0, 0x10, 0], "16 blocks of 4 KiB")
        XCTAssertEqual(read(space, 0x1000 + 0x10), 0x51, "only the low address byte selects")
        XCTAssertEqual(read(space, 0x10, .dword), 0x51, "one table byte whatever the width")
        XCTAssertEqual(read(space, 0x60), 0, "past the table")
        write(space, 0, 0x00)
        XCTAssertEqual(read(space, 0x10), 0x51, "only read array leaves query mode")
        write(space, 0, 0xFF)
        write(space, 0, 0x90)
        XCTAssertEqual(read(space, 0, .word), 0, "manufacturer: zero on QEMU's pc")
        XCTAssertEqual(read(space, 1), 0, "device: zero")
        write(space, 0, 0xFF)
        XCTAssertEqual(read(space, 1), 10)
    }

    /// QemuFlashWrite: 0x10 then the byte, for each byte; QemuFlashEraseBlock:
    /// 0x20 then 0xD0; then 0xFF. The file holds the result at once.
    func testOVMFSequenceProgramsErasesAndReachesTheFile() throws {
        let (chip, space, _) = try makeChip()
        write(space, 0x2000, 0x20)
        write(space, 0x2000, 0xD0)
        XCTAssertEqual(read(space, 0x2000), 0x80, "status after the erase")
        write(space, 0x2000, 0xFF)
        XCTAssertEqual(read(space, 0x2000), 0xFF)
        XCTAssertEqual(read(space, 0x2FFF), 0xFF)
        XCTAssertEqual(read(space, 0x3000), UInt32(UInt8(truncatingIfNeeded: 0x3000 * 7 + 3)), "the next sector is untouched")
        for (index, byte) in Array("PCEmu".utf8).enumerated() {
            write(space, 0x2010 + UInt64(index), 0x10)
            write(space, 0x2010 + UInt64(index), UInt32(byte))
        }
        write(space, 0x2020, 0x40)
        write(space, 0x2020, 0xBEEF, .word)
        write(space, 0, 0x70)
        XCTAssertEqual(read(space, 0), 0x80, "no error bits")
        write(space, 0x2010, 0xFF)
        XCTAssertEqual(chip.status, 0x80)
        let text = (0..<5).map { UInt8(read(space, 0x2010 + UInt64($0))) }
        XCTAssertEqual(String(decoding: text, as: UTF8.self), "PCEmu")
        XCTAssertEqual(read(space, 0x2020, .word), 0xBEEF)
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(file.count, PFlashCFI01Tests.size, "the file keeps its size")
        XCTAssertEqual(Array(file[0x2010..<0x2015]), Array("PCEmu".utf8))
        XCTAssertEqual(Array(file[0x2020..<0x2022]), [0xEF, 0xBE])
        XCTAssertEqual(file[0x2030], 0xFF)
        XCTAssertEqual(file[0x1FFF], UInt8(truncatingIfNeeded: 0x1FFF * 7 + 3))
    }

    func testWriteToBufferCommitsOnConfirmAndDropsOnAbort() throws {
        let (_, space, _) = try makeChip()
        write(space, 0x100, 0xE8)
        XCTAssertEqual(read(space, 0x100), 0x80, "buffer available")
        write(space, 0x100, 3)                       // four bytes
        for index in 0..<4 { write(space, 0x104 + UInt64(index), 0xA0 + UInt32(index)) }
        XCTAssertEqual(read(space, 0x104), 0x80, "status while the buffer fills")
        write(space, 0x100, 0xD0)
        write(space, 0, 0xFF)
        XCTAssertEqual(read(space, 0x104, .dword), 0xA3A2_A1A0)

        write(space, 0x200, 0xE8)
        write(space, 0x200, 1)
        write(space, 0x200, 0x11)
        write(space, 0x201, 0x22)
        write(space, 0x200, 0xFF)                    // not a confirm: the buffer is dropped
        XCTAssertEqual(read(space, 0x200), UInt32(UInt8(truncatingIfNeeded: 0x200 * 7 + 3)))

        write(space, 0x300, 0xE8)
        write(space, 0x300, 1)
        write(space, 0x300, 0x11)
        write(space, 0x400, 0x22)                    // outside the buffer's 256 bytes
        write(space, 0x300, 0xD0)                    // refused: the write returns to the array
        XCTAssertEqual(read(space, 0x300), UInt32(UInt8(truncatingIfNeeded: 0x300 * 7 + 3)), "nothing written")
        write(space, 0, 0x70)
        XCTAssertEqual(read(space, 0), 0x90, "program error")
        write(space, 0, 0x50)
        XCTAssertEqual(read(space, 0x300), UInt32(UInt8(truncatingIfNeeded: 0x300 * 7 + 3)), "clear status returns to the array")
    }

    func testLockBitsCompleteAndUnknownCommandsReturnToTheArray() throws {
        let (chip, space, _) = try makeChip()
        write(space, 0, 0x60)
        write(space, 0, 0x01)
        XCTAssertEqual(read(space, 0), 0x80)
        write(space, 0, 0x60)
        write(space, 0, 0xD0)
        XCTAssertEqual(read(space, 0), 0x80)
        write(space, 0, 0x60)
        write(space, 0, 0x33)
        XCTAssertTrue(chip.isReadArrayMode, "an unknown lock command")
        write(space, 0, 0xC7)
        XCTAssertTrue(chip.isReadArrayMode, "an unknown command")
        write(space, 0, 0x20)
        write(space, 0, 0x55)
        XCTAssertTrue(chip.isReadArrayMode, "an erase without its confirm")
    }

    func testReadOnlyUnitFailsWithQEMUsStatusBits() throws {
        let (_, space, _) = try makeChip(readOnly: true)
        write(space, 0, 0x20)
        write(space, 0, 0xD0)
        XCTAssertEqual(read(space, 0), 0xA0, "ready + erase error")
        write(space, 5, 0x10)
        write(space, 5, 0x00)
        XCTAssertEqual(read(space, 0), 0xB0, "ready + erase error + program error")
        write(space, 0, 0x50)
        XCTAssertEqual(read(space, 0), 3, "the array is unchanged")
        write(space, 0, 0x70)
        XCTAssertEqual(read(space, 0), 0, "clear status cleared every bit")
    }

    func testAccessesPastTheEndAreBounded() throws {
        let (_, space, _) = try makeChip()
        let last = UInt64(PFlashCFI01Tests.size - 1)
        write(space, last, 0x40)
        write(space, last, 0x1234_5678, .dword)
        write(space, last, 0x20)
        write(space, last, 0xD0)
        write(space, 0, 0xFF)
        XCTAssertEqual(read(space, last), 0xFF)
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(file.count, PFlashCFI01Tests.size)
    }

    func testResetAndStateRoundTrip() throws {
        let (chip, space, _) = try makeChip()
        write(space, 0x40, 0x10)
        write(space, 0x40, 0x5A)
        write(space, 0x300, 0xE8)
        write(space, 0x300, 2)
        write(space, 0x300, 0x77)                    // a buffered write in progress
        let saved = chip.savedState()

        let (other, otherSpace, _) = try makeChip(persistent: false)
        try other.loadState(saved)
        XCTAssertFalse(other.isReadArrayMode)
        XCTAssertEqual(otherSpace.backingKind(at: PFlashCFI01Tests.base), .mmio)
        write(otherSpace, 0x301, 0x78)
        write(otherSpace, 0x302, 0x79)
        write(otherSpace, 0x300, 0xD0)
        write(otherSpace, 0, 0xFF)
        XCTAssertEqual(read(otherSpace, 0x40), 0x5A, "the contents came with the state")
        XCTAssertEqual(read(otherSpace, 0x300, .dword) & 0xFF_FFFF, 0x79_7877, "and the buffer")

        chip.reset()
        XCTAssertTrue(chip.isReadArrayMode)
        XCTAssertEqual(space.backingKind(at: PFlashCFI01Tests.base), .rom)
        XCTAssertEqual(chip.status, 0x80)
        XCTAssertEqual(read(space, 0x40), 0x5A, "reset keeps the contents")

        var bad = saved
        bad.put("wcycle", UInt8(9))
        XCTAssertThrowsError(try other.loadState(bad))
    }
}

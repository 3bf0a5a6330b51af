import Memory
import XCTest
@testable import Devices

/// A bus master's copies: RAM above 4 GiB reached at 64-bit addresses, a
/// 32-bit address wrapping at 4 GiB, nothing written where nothing is, and
/// every write reported with its 64-bit address.
final class GuestMemoryDMATests: XCTestCase {
    var ram: GuestRAM!
    var space: AddressSpace!
    var written: [(PhysicalAddress, Int)] = []
    var dma: GuestMemoryDMA!

    override func setUp() {
        ram = try! GuestRAM(size: 2 << 20)
        space = AddressSpace(ram: ram)
        // 1 MiB low, 1 MiB at 4 GiB (the block's second half).
        try! space.map("ram-low", at: 0, size: 1 << 20, kind: .ram(offset: 0))
        try! space.map("ram-above-4g", at: 1 << 32, size: 1 << 20, kind: .ram(offset: 1 << 20))
        written = []
        dma = GuestMemoryDMA(memory: space) { [unowned self] in written.append(($0, $1)) }
    }

    func testCopiesReachRAMAboveFourGiB() {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        dma.write(0x1_0000_0FF0 as PhysicalAddress, bytes)
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: ram.base + (1 << 20) + 0xFF0, count: bytes.count)), bytes)
        XCTAssertEqual(dma.read(0x1_0000_0FF0 as PhysicalAddress, count: bytes.count), bytes)
        XCTAssertEqual(written.count, 1)
        XCTAssertEqual(written.first?.0, 0x1_0000_0FF0)
        XCTAssertEqual(written.first?.1, 10_000)
        dma.writeDword(0x1_000F_FFFC as PhysicalAddress, 0xDEAD_BEEF)
        XCTAssertEqual(dma.readDword(0x1_000F_FFFC as PhysicalAddress), 0xDEAD_BEEF)
        XCTAssertEqual(ram.base.load(fromByteOffset: (2 << 20) - 4, as: UInt32.self), 0xDEAD_BEEF)
    }

    func testNothingPastTheRAMIsWrittenAndItReadsAsOnes() {
        ram.base.storeBytes(of: 0x12_3456, as: UInt32.self)
        let before = Array(UnsafeRawBufferPointer(start: ram.base, count: ram.size))
        // From the last 16 bytes of the high RAM into the nothing after it, and far past the space's end.
        dma.write(0x1_000F_FFF0 as PhysicalAddress, [UInt8](repeating: 0x5A, count: 8192))
        dma.write(AddressSpace.physicalLimit - 16, [UInt8](repeating: 0x33, count: 64))
        dma.write(PhysicalAddress.max - 8, [UInt8](repeating: 0x44, count: 64))  // no wrap round to 0
        let after = Array(UnsafeRawBufferPointer(start: ram.base, count: ram.size))
        XCTAssertNil(zip(after, before).prefix((2 << 20) - 16).enumerated().first { $0.element.0 != $0.element.1 }?.offset,
                     "only the last 16 bytes changed")
        XCTAssertEqual(Array(after[((2 << 20) - 16)...]), [UInt8](repeating: 0x5A, count: 16))
        XCTAssertEqual(dma.read(0x1_0010_0000 as PhysicalAddress, count: 5000), [UInt8](repeating: 0xFF, count: 5000))
        XCTAssertEqual(dma.read(AddressSpace.physicalLimit, count: 4), [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(dma.read(PhysicalAddress.max - 1, count: 4), [0xFF, 0xFF, 0xFF, 0xFF], "no wrap round to 0")
    }

    func testThirtyTwoBitAddressesWrapAtFourGiB() {
        // A 32-bit bus master's buffer over 0xFFFFFFFF goes on at 0, not at 4 GiB.
        dma.write(0xFFFF_FFFE as UInt32, [1, 2, 3, 4])
        XCTAssertEqual(dma.read(0 as PhysicalAddress, count: 2), [3, 4])
        XCTAssertEqual(dma.read(0x1_0000_0000 as PhysicalAddress, count: 2), [0, 0], "the high RAM untouched")
        XCTAssertEqual(dma.read(0xFFFF_FFFE as UInt32, count: 4), [0xFF, 0xFF, 3, 4])
        XCTAssertEqual(written.map { $0.0 }, [0xFFFF_FFFE, 0])
    }
}

import Memory
import XCTest

/// A byte-wide device with a few registers.
final class ByteRegisters: PortHandler {
    var registers = [UInt8](repeating: 0, count: 8)
    override func read(offset: UInt16, size: AccessSize) -> UInt32 { UInt32(registers[Int(offset)]) }
    override func write(offset: UInt16, value: UInt32, size: AccessSize) { registers[Int(offset)] = UInt8(value) }
}

/// A device that decodes 16- and 32-bit accesses itself.
final class WideRegister: PortHandler {
    var accesses: [(UInt16, AccessSize)] = []
    override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }
    override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        accesses.append((offset, size))
        return 0x1234_5678
    }
}

final class IOPortBusTests: XCTestCase {
    func testDeviceSeesOffsetsFromItsBase() throws {
        let bus = IOPortBus()
        let device = ByteRegisters()
        try bus.attach(device, name: "dev", base: 0x3F8, count: 8)
        bus.write(0x3FB, value: 0x83, size: .byte)
        XCTAssertEqual(device.registers[3], 0x83)
        XCTAssertEqual(bus.read(0x3FB, size: .byte), 0x83)
    }

    func testUnassignedPortsFloatHigh() {
        let bus = IOPortBus()
        XCTAssertEqual(bus.read(0x1234, size: .byte), 0xFF)
        XCTAssertEqual(bus.read(0x1234, size: .word), 0xFFFF)
        XCTAssertEqual(bus.read(0xFFFF, size: .dword), 0xFFFF_FFFF)
        bus.write(0x1234, value: 0, size: .dword)  // vanishes without a trace
    }

    func testPortsCannotBeTakenTwice() throws {
        let bus = IOPortBus()
        try bus.attach(ByteRegisters(), name: "com1", base: 0x3F8, count: 8)
        XCTAssertThrowsError(try bus.attach(ByteRegisters(), name: "other", base: 0x3FF, count: 1)) { error in
            XCTAssertTrue("\(error)".contains("com1"), "\(error)")
        }
        XCTAssertThrowsError(try bus.attach(ByteRegisters(), name: "wrap", base: 0xFFFF, count: 2))
    }

    func testWordAccessToByteDeviceIsSplitLittleEndian() throws {
        let bus = IOPortBus()
        let device = ByteRegisters()
        try bus.attach(device, name: "dev", base: 0x70, count: 4)
        bus.write(0x70, value: 0xBBAA, size: .word)
        XCTAssertEqual(device.registers[0], 0xAA)
        XCTAssertEqual(device.registers[1], 0xBB)
        device.registers[2] = 0xCC
        device.registers[3] = 0xDD
        XCTAssertEqual(bus.read(0x70, size: .dword), 0xDDCC_BBAA)
        // The upper byte of a word read at the last port comes from the next, empty port.
        XCTAssertEqual(bus.read(0x73, size: .word), 0xFFDD)
    }

    func testNativeWideAccessesAreNotSplit() throws {
        let bus = IOPortBus()
        let device = WideRegister()
        try bus.attach(device, name: "data", base: 0x1F0, count: 1)
        XCTAssertEqual(bus.read(0x1F0, size: .word), 0x5678)
        XCTAssertEqual(bus.read(0x1F0, size: .dword), 0x1234_5678)
        XCTAssertEqual(device.accesses.map { $0.1 }, [.word, .dword])
    }

    func testDetachFreesPortsAndOwnerNamesThem() throws {
        let bus = IOPortBus()
        try bus.attach(ByteRegisters(), name: "ne2000", base: 0x300, count: 0x20)
        XCTAssertEqual(bus.owner(of: 0x310), "ne2000")
        bus.detach(base: 0x300, count: 0x20)
        XCTAssertNil(bus.owner(of: 0x310))
        XCTAssertEqual(bus.read(0x300, size: .byte), 0xFF)
    }
}

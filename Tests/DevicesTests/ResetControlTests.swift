import Memory
import XCTest
@testable import Devices

final class ResetControlTests: XCTestCase {
    var harness: PortHarness!
    var a20Levels: [Bool] = []
    var resets = 0

    override func setUp() {
        harness = PortHarness()
        a20Levels = []
        resets = 0
        let portA = SystemControlPortA(setA20: { [unowned self] in self.a20Levels.append($0) },
                                       requestReset: { [unowned self] in self.resets += 1 })
        try! harness.bus.attach(portA, name: "port-a", base: SystemControlPortA.port, count: 1)
        let rcr = ResetControlRegister { [unowned self] in self.resets += 1 }
        try! harness.bus.attach(rcr, name: "rcr", base: ResetControlRegister.port, count: 1)
    }

    func testFastA20ThroughPort92LikeLinux() {
        // Linux enable_a20_fast: set bit 1, clear bit 0 (no reset).
        let value = (harness.inb(0x92) | 0x02) & ~0x01
        harness.out(0x92, value)
        XCTAssertEqual(a20Levels, [true])
        XCTAssertEqual(harness.inb(0x92), 0x02)
        XCTAssertEqual(resets, 0)
        harness.out(0x92, 0x02)
        XCTAssertEqual(a20Levels, [true], "no change, no call")
        harness.out(0x92, 0x00)
        XCTAssertEqual(a20Levels, [true, false])
    }

    func testFastResetOnRisingBit0() {
        harness.out(0x92, 0x03)
        XCTAssertEqual(resets, 1)
        harness.out(0x92, 0x03)
        XCTAssertEqual(resets, 1, "bit 0 already set: no new reset")
    }

    func testPort0xCF9Resets() {
        harness.out(0xCF9, 0x02)         // select hard reset: stored, no reset
        XCTAssertEqual(harness.inb(0xCF9), 0x02)
        XCTAssertEqual(resets, 0)
        harness.out(0xCF9, 0x06)
        XCTAssertEqual(resets, 1)
        harness.out(0xCF9, 0x0E)
        XCTAssertEqual(resets, 2)
    }
}

final class CoprocessorErrorPortTests: XCTestCase {
    func testFERRRaisesIRQ13AndAWriteToPortF0ClearsIt() throws {
        var level = false
        let port = CoprocessorErrorPort(irq13: InterruptLine(sink: { level = $0 }))
        let bus = IOPortBus()
        try bus.attach(port, name: "fpu-error", base: CoprocessorErrorPort.port, count: 1)
        port.raiseError()
        XCTAssertTrue(level)
        bus.write(0xF0, value: 0, size: .byte)
        XCTAssertFalse(level)
    }
}

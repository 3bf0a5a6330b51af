import XCTest
@testable import Devices

final class RecordingBackend: SerialBackend {
    var bytes: [UInt8] = []
    func transmit(_ byte: UInt8) { bytes.append(byte) }
}

final class UART16550Tests: XCTestCase {
    static let base: UInt16 = 0x3F8
    let thr = base, ier = base + 1, iir = base + 2, lcr = base + 3, mcr = base + 4, lsr = base + 5
    let msr = base + 6, scr = base + 7
    /// At 9600 8N1 (divisor 12) one character takes 10 bits: 1.0417 ms.
    let characterTime: Int64 = 1_041_666

    var harness: PortHarness!
    var irq4: LineProbe!
    var backend: RecordingBackend!
    var uart: UART16550!

    override func setUp() {
        harness = PortHarness()
        irq4 = LineProbe()
        backend = RecordingBackend()
        uart = UART16550(name: "com1", clock: harness.clock, scheduler: harness.scheduler, irq: irq4.line, backend: backend)
        try! harness.bus.attach(uart, name: "com1", base: UART16550.com1Base, count: UART16550.portCount)
    }

    /// 9600 baud 8N1 through the divisor latch, as SeaBIOS and Linux set it.
    func setLineTo9600() {
        harness.out(lcr, 0x83)
        harness.out(thr, 12)
        harness.out(ier, 0)
        harness.out(lcr, 0x03)
    }

    func testLinuxAutoconfigFindsA16550A() {
        // Scratch register, then the loopback test of autoconfig().
        harness.out(scr, 0xA5)
        XCTAssertEqual(harness.inb(scr), 0xA5)
        harness.out(mcr, 0x1A)           // loopback with RTS and OUT2
        XCTAssertEqual(harness.inb(msr) & 0xF0, 0x90, "CTS from RTS, DCD from OUT2")
        harness.out(mcr, 0x00)
        harness.out(0x3FA, 0x01)         // enable FIFOs
        XCTAssertEqual(harness.inb(iir) >> 6, 3, "both top IIR bits: a 16550A")
        harness.out(0x3FA, 0x00)
        XCTAssertEqual(harness.inb(iir), 0x01)
    }

    func testDivisorLatchIsBehindDLAB() {
        harness.out(lcr, 0x83)
        harness.out(thr, 0x01)
        harness.out(ier, 0x02)
        XCTAssertEqual(harness.inb(thr), 0x01)
        XCTAssertEqual(harness.inb(ier), 0x02)
        harness.out(lcr, 0x03)
        XCTAssertEqual(harness.inb(ier), 0x00, "IER untouched by the latch writes")
        XCTAssertEqual(uart.characterTimeNanoseconds, 10 * 0x201 * 16 * 1_000_000_000 / 1_843_200)
        XCTAssertTrue(backend.bytes.isEmpty)
    }

    func testTransmitAndTransmitterEmptyInterrupt() {
        setLineTo9600()
        harness.out(ier, 0x02)
        XCTAssertFalse(irq4.level, "OUT2 closed: nothing reaches the PIC")
        XCTAssertEqual(harness.inb(iir), 0x02)
        harness.out(ier, 0x00)
        harness.out(mcr, 0x0B)           // DTR, RTS, OUT2
        harness.out(ier, 0x02)
        XCTAssertTrue(irq4.level)
        XCTAssertEqual(harness.inb(iir), 0x02)
        XCTAssertFalse(irq4.level, "reading IIR acknowledged THRE")
        XCTAssertEqual(harness.inb(iir), 0x01)
        for byte in Array("hi\n".utf8) { harness.out(thr, byte) }
        XCTAssertEqual(backend.bytes, Array("hi\n".utf8))
        XCTAssertEqual(irq4.risingEdges, 1 + 3, "an edge per byte written")
        XCTAssertEqual(harness.inb(lsr) & 0x60, 0x60)
    }

    func testReceiveTriggerLevelLikeLinux() {
        setLineTo9600()
        harness.out(0x3FA, 0x81)         // FIFO on, trigger 8 (Linux's 16550A setting)
        harness.out(mcr, 0x0B)
        harness.out(ier, 0x01)
        for byte in UInt8(1)...7 { uart.receive(byte) }
        XCTAssertFalse(irq4.level)
        XCTAssertEqual(harness.inb(lsr) & 0x01, 0x01)
        uart.receive(8)
        XCTAssertTrue(irq4.level)
        XCTAssertEqual(harness.inb(iir), 0xC4)
        var received: [UInt8] = []
        while harness.inb(lsr) & 0x01 != 0 { received.append(harness.inb(thr)) }
        XCTAssertEqual(received, Array(1...8))
        XCTAssertFalse(irq4.level)
        XCTAssertEqual(harness.scheduler.pendingCount, 0, "empty FIFO: no timeout armed")
    }

    func testCharacterTimeoutAfterFourCharacterTimes() {
        setLineTo9600()
        harness.out(0x3FA, 0xC7)         // FIFO on and cleared, trigger 14
        harness.out(mcr, 0x08)
        harness.out(ier, 0x01)
        uart.receive(0x41)
        uart.receive(0x42)
        harness.advance(by: 4 * characterTime - 1_000)
        XCTAssertFalse(irq4.level)
        harness.advance(by: 2_000)
        XCTAssertTrue(irq4.level)
        XCTAssertEqual(harness.inb(iir), 0xCC)
        XCTAssertEqual(harness.inb(thr), 0x41)
        XCTAssertFalse(irq4.level, "a read clears the timeout and restarts it")
        harness.advance(by: 4 * characterTime + 1_000)
        XCTAssertTrue(irq4.level)
        XCTAssertEqual(harness.inb(thr), 0x42)
        XCTAssertEqual(harness.inb(iir), 0xC1)
    }

    func testOverrunReportsLineStatusFirst() {
        setLineTo9600()
        harness.out(0x3FA, 0x01)
        harness.out(mcr, 0x08)
        harness.out(ier, 0x07)           // line status, received data, THRE
        for byte in UInt8(0)..<16 { uart.receive(byte) }
        XCTAssertEqual(uart.receiveSpace, 0)
        uart.receive(0xFF)
        XCTAssertEqual(harness.inb(iir), 0xC6, "line status outranks data and THRE")
        XCTAssertEqual(harness.inb(lsr) & 0x03, 0x03, "overrun and data ready")
        XCTAssertEqual(harness.inb(lsr) & 0x02, 0x00, "reading LSR clears the overrun")
        XCTAssertEqual(harness.inb(iir), 0xC4)
        for expected in UInt8(0)..<16 { XCTAssertEqual(harness.inb(thr), expected) }
        XCTAssertEqual(harness.inb(iir), 0xC2, "then THRE")
    }

    func testWithoutFIFOsANewCharacterOverwritesTheUnreadOne() {
        harness.out(mcr, 0x08)
        harness.out(ier, 0x01)
        uart.receive(0x31)
        XCTAssertTrue(irq4.level)
        XCTAssertEqual(harness.inb(iir), 0x04)
        uart.receive(0x32)
        XCTAssertEqual(harness.inb(lsr) & 0x03, 0x03)
        XCTAssertEqual(harness.inb(thr), 0x32)
        XCTAssertFalse(irq4.level)
    }

    func testLoopbackEchoesAndGatesTheInterrupt() {
        setLineTo9600()
        harness.out(0x3FA, 0x07)
        harness.out(mcr, 0x1B)           // loopback with OUT2 set
        harness.out(ier, 0x01)
        harness.out(thr, 0x55)
        XCTAssertTrue(backend.bytes.isEmpty, "nothing leaves in loopback")
        XCTAssertEqual(harness.inb(lsr) & 0x01, 0x01)
        XCTAssertEqual(harness.inb(iir), 0xC4, "the interrupt is identified...")
        XCTAssertFalse(irq4.level, "...but the OUT2 pin is forced inactive")
        uart.receive(0x99)               // the outside line is disconnected
        XCTAssertEqual(harness.inb(thr), 0x55)
        XCTAssertEqual(harness.inb(lsr) & 0x01, 0x00)
    }

    func testModemStatusInterruptFromLoopbackLines() {
        harness.out(mcr, 0x10)
        _ = harness.inb(msr)
        harness.out(ier, 0x08)
        harness.out(mcr, 0x13)           // raise DTR and RTS
        XCTAssertEqual(harness.inb(iir), 0x00, "modem status pending")
        XCTAssertEqual(harness.inb(msr), 0x33, "CTS and DSR, and both deltas")
        XCTAssertEqual(harness.inb(iir), 0x01)
        harness.out(mcr, 0x08)           // out of loopback, OUT2: the cable's lines
        XCTAssertEqual(harness.inb(msr) & 0xF0, 0xB0)
        XCTAssertFalse(irq4.level)
    }

    func testResetAndNonsense() {
        harness.out(lsr, 0xFF)           // read-only
        harness.out(0x3FA, 0xFF)
        XCTAssertEqual(harness.inb(thr), 0x00, "empty receiver")
        harness.out(lcr, 0x80)
        harness.out(thr, 0)
        harness.out(ier, 0)              // divisor 0
        harness.out(lcr, 0x03)
        XCTAssertGreaterThan(uart.characterTimeNanoseconds, 0)
        uart.reset()
        XCTAssertEqual(harness.inb(iir), 0x01)
        XCTAssertEqual(harness.inb(lsr), 0x60)
        XCTAssertFalse(irq4.level)
    }
}

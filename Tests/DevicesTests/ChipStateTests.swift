import Lifecycle
import Memory
import XCTest
@testable import Devices

/// Save → encode → decode → load into a fresh chip: the fresh chip then
/// behaves as the original does from that point, armed timers included.
final class ChipStateTests: XCTestCase {
    func roundTrip<D: StatefulDevice>(_ device: D) throws -> StateRecord {
        try StateRecordCodec.decode(StateRecordCodec.encode(device.savedState()))
    }

    func testPICPairRoundTrip() throws {
        let harness = PortHarness()
        var output = false
        let pic = PIC8259 { output = $0 }
        try pic.attach(to: harness.bus)
        // SeaBIOS's initialisation: vectors 0x08/0x70, cascade on IRQ 2, some masks.
        for (port, byte) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01), (0xA0, 0x11), (0xA1, 0x70),
                             (0xA1, 0x02), (0xA1, 0x01), (0x21, 0xB8), (0xA1, 0x8C)] as [(UInt16, UInt8)] {
            harness.out(port, byte)
        }
        harness.out(0x4D1, 0x0E)  // ELCR: IRQ 9-11 level
        pic.setIRQ(9, level: true)  // level request on the slave, unmasked, delivered through IRQ 2
        pic.setIRQ(3, level: true)  // edge request, masked
        XCTAssertTrue(output)
        harness.out(0x20, 0x0A)  // OCW3: read IRR next

        let saved = try roundTrip(pic)
        let fresh = PortHarness()
        var freshOutput = false
        let copy = PIC8259 { freshOutput = $0 }
        try copy.attach(to: fresh.bus)
        try copy.loadState(saved)
        XCTAssertTrue(freshOutput, "the loaded requests drive INT")
        XCTAssertEqual(copy.savedState(), pic.savedState())
        for port: UInt16 in [0x20, 0x21, 0xA1, 0x4D0, 0x4D1] { XCTAssertEqual(fresh.inb(port), harness.inb(port), "port \(port)") }
        XCTAssertEqual(copy.acknowledge(), pic.acknowledge())
        XCTAssertEqual(copy.acknowledge(), pic.acknowledge())

        // Damage in the record is refused with the field's name.
        var bad = saved
        var master = try saved.record("master")
        master.put("initStep", UInt8(9))
        bad.put("master", master)
        XCTAssertThrowsError(try copy.loadState(bad)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "pic-master", field: "initStep"))
        }
        var old = StateRecord(name: PIC8259.stateName, version: 0)
        old.put("master", master)
        XCTAssertThrowsError(try copy.loadState(old)) {
            XCTAssertEqual($0 as? StateRecordError, .wrongVersion(record: "i8259-pair", expected: 1, found: 0))
        }
    }

    func testPITRoundTripFiresIRQ0AtTheSameGuestTimes() throws {
        let harness = PortHarness()
        let irq0 = LineProbe()
        let pit = PIT8254(clock: harness.clock, scheduler: harness.scheduler, irq0: irq0.line)
        try harness.bus.attach(pit, name: "pit", base: PIT8254.base, count: PIT8254.portCount)
        harness.out(0x43, 0x34)  // counter 0, mode 2, Linux's HZ=1000 tick
        harness.out(0x40, UInt8(1193 & 0xFF))
        harness.out(0x40, UInt8(1193 >> 8))
        harness.out(0x43, 0xB6)  // counter 2, mode 3, low byte only so far
        harness.out(0x42, 0x34)
        harness.run(until: 2_500_000)
        harness.out(0x43, 0x00)  // latch counter 0, read it later

        let savedClock = harness.clock.savedState()
        let saved = try roundTrip(pit)

        let fresh = PortHarness()
        fresh.clock.advance(instructions: 123_456_789)
        let freshIRQ = LineProbe()
        let copy = PIT8254(clock: fresh.clock, scheduler: fresh.scheduler, irq0: freshIRQ.line)
        try fresh.bus.attach(copy, name: "pit", base: PIT8254.base, count: PIT8254.portCount)
        try fresh.clock.loadState(savedClock)
        try copy.loadState(saved)
        XCTAssertEqual(copy.savedState(), pit.savedState())
        XCTAssertEqual(fresh.scheduler.nextDeadline, harness.scheduler.nextDeadline, "counter 0's next edge is armed")
        XCTAssertEqual(fresh.inb(0x40), harness.inb(0x40), "the latched count")
        XCTAssertEqual(fresh.inb(0x40), harness.inb(0x40))
        harness.out(0x42, 0x12)
        fresh.out(0x42, 0x12)  // the high byte the counter was waiting for

        let edgesBefore = irq0.risingEdges, freshBefore = freshIRQ.risingEdges
        harness.run(until: 7_500_000)
        fresh.run(until: 7_500_000)
        XCTAssertEqual(irq0.risingEdges - edgesBefore, 5)
        XCTAssertEqual(freshIRQ.risingEdges - freshBefore, 5, "IRQ 0 goes on at the same guest times")
        XCTAssertEqual(copy.savedState(), pit.savedState())
        harness.out(0x43, 0x00)
        fresh.out(0x43, 0x00)
        XCTAssertEqual(fresh.inb(0x40), harness.inb(0x40))
    }

    func testRTCRoundTripKeepsCMOSTimeAndPeriodicInterrupts() throws {
        func cmos(_ harness: PortHarness, _ index: UInt8) -> UInt8 {
            harness.out(0x70, index)
            return harness.inb(0x71)
        }
        let harness = PortHarness()
        let irq8 = LineProbe()
        let rtc = MC146818(clock: harness.clock, scheduler: harness.scheduler, irq: irq8.line, startTime: 1_709_251_198)
        try harness.bus.attach(rtc, name: "rtc", base: MC146818.base, count: MC146818.portCount)
        for (index, value) in [(0x0A, 0x26), (0x0B, 0x42), (0x40, 0x99)] as [(UInt8, UInt8)] {  // 1024 Hz, periodic on
            harness.out(0x70, index)
            harness.out(0x71, value)
        }
        harness.run(until: 1_500_000_000)
        harness.out(0x70, 0x0C)  // index left at register C

        let savedClock = harness.clock.savedState()
        let saved = try roundTrip(rtc)
        let fresh = PortHarness()
        let freshIRQ = LineProbe()
        let copy = MC146818(clock: fresh.clock, scheduler: fresh.scheduler, irq: freshIRQ.line, startTime: 0)
        try fresh.bus.attach(copy, name: "rtc", base: MC146818.base, count: MC146818.portCount)
        try fresh.clock.loadState(savedClock)
        try copy.loadState(saved)
        XCTAssertEqual(copy.savedState(), rtc.savedState())
        XCTAssertEqual(freshIRQ.level, irq8.level)
        XCTAssertEqual(fresh.inb(0x71), harness.inb(0x71), "register C at the saved index")

        let before = irq8.risingEdges, freshBefore = freshIRQ.risingEdges
        for step in 1...50 {
            let until = 1_500_000_000 + Int64(step) * 1_000_000
            harness.run(until: until)
            fresh.run(until: until)
            _ = cmos(harness, 0x0C)
            _ = cmos(fresh, 0x0C)
        }
        XCTAssertGreaterThan(irq8.risingEdges - before, 40)
        XCTAssertEqual(freshIRQ.risingEdges - freshBefore, irq8.risingEdges - before, "periodic interrupts go on alike")
        harness.run(until: 3_000_000_000)
        fresh.run(until: 3_000_000_000)
        for index: UInt8 in [0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x40] {
            XCTAssertEqual(cmos(fresh, index), cmos(harness, index), "CMOS 0x\(String(index, radix: 16))")
        }
    }

    func testUARTRoundTripKeepsFIFOAndTheCharacterTimeout() throws {
        let harness = PortHarness()
        let irq4 = LineProbe()
        let uart = UART16550(name: "com1", clock: harness.clock, scheduler: harness.scheduler, irq: irq4.line)
        try harness.bus.attach(uart, name: "com1", base: 0x3F8, count: UART16550.portCount)
        for (offset, byte) in [(3, 0x83), (0, 0x01), (1, 0x00), (3, 0x03), (2, 0xC7), (4, 0x0B), (1, 0x01), (7, 0x5A)] as [(UInt16, UInt8)] {
            harness.out(0x3F8 + offset, byte)  // 115200 8N1, FIFO at 14, OUT2, receive interrupts
        }
        for byte in Array("hello".utf8) { uart.receive(byte) }
        XCTAssertFalse(irq4.level, "below the trigger level: only the timeout will tell")
        XCTAssertNotNil(harness.scheduler.nextDeadline)

        let savedClock = harness.clock.savedState()
        let saved = try roundTrip(uart)
        let fresh = PortHarness()
        let freshIRQ = LineProbe()
        let copy = UART16550(name: "com1", clock: fresh.clock, scheduler: fresh.scheduler, irq: freshIRQ.line)
        try fresh.bus.attach(copy, name: "com1", base: 0x3F8, count: UART16550.portCount)
        try fresh.clock.loadState(savedClock)
        try copy.loadState(saved)
        XCTAssertEqual(copy.savedState(), uart.savedState())
        XCTAssertEqual(fresh.scheduler.nextDeadline, harness.scheduler.nextDeadline, "the character timeout is armed")
        let deadline = harness.scheduler.nextDeadline!
        harness.run(until: deadline)
        fresh.run(until: deadline)
        XCTAssertTrue(irq4.level)
        XCTAssertTrue(freshIRQ.level, "the timeout fires at the same guest time")
        for port: UInt16 in [0x3FA, 0x3FD, 0x3FF, 0x3F8, 0x3F8, 0x3FB] {
            XCTAssertEqual(fresh.inb(port), harness.inb(port), "port 0x\(String(port, radix: 16))")
        }
        var tooMany = saved
        tooMany.put("receive", [UInt8](repeating: 0x41, count: 17))
        XCTAssertThrowsError(try copy.loadState(tooMany))
    }

    func testSystemPortsRoundTrip() throws {
        let harness = PortHarness(), fresh = PortHarness()
        func build(_ h: PortHarness) throws -> (SystemControlPortA, ResetControlRegister, ACPIGPEBlock, CoprocessorErrorPort, LineProbe) {
            let irq13 = LineProbe()
            let a = SystemControlPortA(setA20: { _ in }, requestReset: {})
            let cf9 = ResetControlRegister(requestReset: {})
            let gpe = ACPIGPEBlock()
            let ferr = CoprocessorErrorPort(irq13: irq13.line)
            try h.bus.attach(a, name: "92", base: 0x92, count: 1)
            try h.bus.attach(cf9, name: "cf9", base: 0xCF9, count: 1)
            try h.bus.attach(gpe, name: "gpe", base: ACPIGPEBlock.base, count: ACPIGPEBlock.portCount)
            return (a, cf9, gpe, ferr, irq13)
        }
        let original = try build(harness), copy = try build(fresh)
        harness.out(0x92, 0x02)
        harness.out(0xCF9, 0x02)
        harness.out(ACPIGPEBlock.base + 2, 0x05)
        original.3.raiseError()
        try copy.0.loadState(try roundTrip(original.0))
        try copy.1.loadState(try roundTrip(original.1))
        try copy.2.loadState(try roundTrip(original.2))
        try copy.3.loadState(try roundTrip(original.3))
        XCTAssertTrue(copy.4.level, "FERR# still holds IRQ 13")
        for port: UInt16 in [0x92, 0xCF9, ACPIGPEBlock.base, ACPIGPEBlock.base + 2] {
            XCTAssertEqual(fresh.inb(port), harness.inb(port), "port 0x\(String(port, radix: 16))")
        }
        XCTAssertEqual(fresh.inb(0x92), 0x02)

        let pit = PIT8254(clock: harness.clock, scheduler: harness.scheduler, irq0: LineProbe().line)
        var speaker: [Bool] = []
        let portB = SystemControlPortB(pit: pit, clock: harness.clock)
        let copyB = SystemControlPortB(pit: pit, clock: harness.clock) { speaker.append($0) }
        portB.write(offset: 0, value: 0x03, size: .byte)
        try copyB.loadState(try roundTrip(portB))
        XCTAssertEqual(speaker, [true], "the loaded speaker enable is told to the speaker")
        XCTAssertEqual(copyB.savedState(), portB.savedState())
    }

    func testDMARoundTripContinuesATransferWhereItStopped() throws {
        let ram = try GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        for index in 0..<256 { ram.base.storeBytes(of: UInt8(index), toByteOffset: 0x2_1000 + index, as: UInt8.self) }
        let harness = PortHarness(), fresh = PortHarness()
        let dma = DMA8237(memory: space), copy = DMA8237(memory: space)
        try dma.attach(to: harness.bus)
        try copy.attach(to: fresh.bus)
        // Channel 1 like the SB16's 8-bit playback: read from memory at 0x21000, 256 bytes, auto-init; the cascade (channel 4) unmasked.
        for (port, byte) in [(0x0A, 0x05), (0x0C, 0x00), (0x02, 0x00), (0x02, 0x10), (0x83, 0x02),
                             (0x03, 0xFF), (0x03, 0x00), (0x0B, 0x59), (0x0A, 0x01), (0xD4, 0x00)] as [(UInt16, UInt8)] {
            harness.out(port, byte)
        }
        var first = [UInt8](repeating: 0, count: 100)
        _ = first.withUnsafeMutableBytes { dma.readFromMemory(channel: 1, into: $0) }
        _ = harness.inb(0x02)  // the flip-flop now points at the address's high byte
        try copy.loadState(try roundTrip(dma))
        XCTAssertEqual(copy.savedState(), dma.savedState())
        var rest = [UInt8](repeating: 0, count: 200), copyRest = [UInt8](repeating: 0, count: 200)
        _ = rest.withUnsafeMutableBytes { dma.readFromMemory(channel: 1, into: $0) }
        _ = copyRest.withUnsafeMutableBytes { copy.readFromMemory(channel: 1, into: $0) }
        XCTAssertEqual(copyRest, rest)
        XCTAssertEqual(Array(rest.prefix(3)), [100, 101, 102], "the transfer goes on from byte 100")
        for port: UInt16 in [0x08, 0x83, 0x02, 0x03, 0x03] { XCTAssertEqual(fresh.inb(port), harness.inb(port), "port \(port)") }
    }
}

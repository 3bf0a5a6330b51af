import Lifecycle
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
}

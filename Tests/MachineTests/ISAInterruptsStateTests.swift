@testable import Devices
import Lifecycle
import XCTest
@testable import Machine

/// The IRQ wiring's own levels (shared IRQs, drivers cut off under the HPET's
/// legacy replacement, I/O APIC pins driven directly) through a save and a
/// load into a machine wired the same way: lines then go on alike.
final class ISAInterruptsStateTests: XCTestCase {
    final class Wiring {
        let pic = PIC8259 { _ in }
        let ioapic = IOAPIC(bus: APICBus())
        let irqs: ISAInterrupts
        let pit, rtc, cardA, cardB: (line: InterruptLine, driver: UInt32)

        init() {
            irqs = ISAInterrupts(pic: pic, ioAPIC: ioapic)
            pit = irqs.lineAndDriver(0)
            rtc = irqs.lineAndDriver(8)
            cardA = irqs.lineAndDriver(10)
            cardB = irqs.lineAndDriver(10)
        }

        var observed: [StateRecord] { [pic.savedState(), ioapic.savedState(), irqs.savedState()] }
    }

    func testSharedAndCutOffLinesGoOnAlikeAfterALoad() throws {
        let original = Wiring()
        original.cardA.line.raise()
        original.cardB.line.raise()
        original.irqs.cut(0, driver: original.pit.driver, true)
        original.pit.line.raise()  // cut off: IRQ 0 stays low
        original.irqs.setIOAPICPin(20, true)
        XCTAssertEqual(original.pic.master.inputLevels, 0)  // the master sees nothing on 0 ...
        XCTAssertEqual(original.pic.slave.inputLevels, 1 << 2, "... the slave sees IRQ 10")

        let saved = try StateRecordCodec.decode(StateRecordCodec.encode(original.irqs.savedState()))
        let copy = Wiring()
        try copy.pic.loadState(original.pic.savedState())
        try copy.ioapic.loadState(original.ioapic.savedState())
        try copy.irqs.loadState(saved)
        // The drivers' own lines are loaded with the drivers; here they are set as before.
        copy.cardA.line.raise()
        copy.cardB.line.raise()
        copy.pit.line.raise()
        XCTAssertEqual(copy.observed, original.observed)

        for wiring in [original, copy] { wiring.cardA.line.lower() }
        XCTAssertEqual(copy.pic.slave.inputLevels, 1 << 2, "card B still holds IRQ 10")
        XCTAssertEqual(copy.observed, original.observed)
        for wiring in [original, copy] { wiring.cardB.line.lower() }
        XCTAssertEqual(copy.pic.slave.inputLevels, 0)
        XCTAssertEqual(copy.observed, original.observed)
        for wiring in [original, copy] { wiring.irqs.cut(0, driver: wiring.pit.driver, false) }
        XCTAssertEqual(copy.pic.master.inputLevels & 1, 1, "the PIT's IRQ 0 is back")
        XCTAssertEqual(copy.observed, original.observed)
    }

    func testADamagedRecordIsRefusedAndChangesNothing() throws {
        let original = Wiring()
        original.cardA.line.raise()
        let saved = original.irqs.savedState()
        let target = Wiring()
        target.rtc.line.raise()
        let before = target.irqs.savedState()

        var unwired = saved
        var asserted = [UInt32](repeating: 0, count: 16)
        asserted[10] = 1 << 5  // IRQ 10 has two drivers here, not six
        unwired.put("asserted", words: asserted)
        XCTAssertThrowsError(try target.irqs.loadState(unwired)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "isa-irqs", field: "asserted"))
        }
        var inconsistent = saved
        inconsistent.put("levels", flags: [Bool](repeating: false, count: 16))  // IRQ 10 is held
        XCTAssertThrowsError(try target.irqs.loadState(inconsistent)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "isa-irqs", field: "levels"))
        }
        var short = saved
        short.put("directPins", flags: [true])
        XCTAssertThrowsError(try target.irqs.loadState(short))
        XCTAssertEqual(target.irqs.savedState(), before)
    }
}

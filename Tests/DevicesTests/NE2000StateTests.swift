import Lifecycle
import Memory
import XCTest
@testable import Devices

/// Both NE2000 boards saved mid-work (frames in the ring, a remote DMA
/// half done, interrupts pending), loaded into a fresh board, and driven on
/// as Linux's 8390 driver would: the fresh board answers alike.
extension NE2000Tests {
    /// Frames in the ring, a tally count, and a remote write of 8 bytes with one word sent.
    func busyBoard() {
        initialise()
        XCTAssertEqual(card.chip.receive(frame(to: NE2000Tests.mac, length: 300)), .stored)
        XCTAssertEqual(card.chip.receive(frame(to: [UInt8](repeating: 0xFF, count: 6), length: 80)), .stored)
        card.chip.recordMissedFrame()
        setRemote(address: Int(NE2000Tests.transmitPage) << 8, count: 8)
        out(cr, remoteWrite | start)
        harness.outw(NE2000Tests.base + data, 0x1234)
    }

    /// What the driver sees from here on: the rest of the remote write, every
    /// register of pages 0-2, the frames in the ring, a new frame, the line.
    func driveOn(_ receive: ([UInt8]) -> FrameReceiveResult) -> [String] {
        var seen: [String] = []
        for word: UInt16 in [0x5678, 0x9ABC, 0xDEF0] { harness.outw(NE2000Tests.base + data, word) }
        for page in [noDMA | start, noDMA | start | page1, noDMA | start | page2] {
            out(cr, page)
            seen.append("\((0..<16).map { inb(UInt16($0)) })")
        }
        out(cr, noDMA | start)
        seen.append("\(readRemote(address: Int(NE2000Tests.ringStart) << 8, count: 400))")
        seen.append("\(readRemote(address: Int(NE2000Tests.transmitPage) << 8, count: 8))")
        out(bnry, NE2000Tests.ringStart + 2)
        out(isr, 0xFF)
        seen.append("\(receive(frame(to: NE2000Tests.mac, length: 200))) \(irq.level)")
        out(cr, noDMA | start | page1)
        seen.append("curr \(inb(curr)) isr \(inb(isr))")
        return seen
    }

    func testISABoardRoundTripGoesOnAlike() throws {
        busyBoard()
        XCTAssertTrue(irq.level)
        let saved = try throughBytes(card.savedState())

        let originalHarness = harness!, originalIRQ = irq!, original = card!
        harness = PortHarness()
        irq = LineProbe()
        card = NE2000ISA(macAddress: NE2000Tests.mac, irq: irq.line)
        try card.attach(to: harness.bus)
        try card.loadState(saved)
        XCTAssertTrue(irq.level, "the loaded ISR and IMR drive the IRQ")
        XCTAssertEqual(card.savedState(), original.savedState())
        let copy = card!
        let fromCopy = driveOn { copy.chip.receive($0) }

        harness = originalHarness
        irq = originalIRQ
        card = original
        XCTAssertEqual(driveOn { original.chip.receive($0) }, fromCopy)
        XCTAssertEqual(copy.savedState(), original.savedState())
    }

    func testRTL8029RoundTripMovesItsPortsAndKeepsINTA() throws {
        func plugged(into harness: PortHarness) -> NE2000PCI {
            let nic = NE2000PCI(macAddress: NE2000Tests.mac)
            nic.portsMoved = { [unowned harness, unowned nic] old, new in
                if let old { harness.bus.detach(base: old, count: NE2000Ports.count) }
                if let new { try! harness.bus.attach(nic.ports, name: "ne2k_pci", base: new, count: NE2000Ports.count) }
            }
            return nic
        }
        harness = PortHarness()  // the RTL8029 in the ISA board's place
        let nic = plugged(into: harness)
        nic.configWrite(offset: 0x10, value: UInt32(NE2000Tests.base), size: .dword)
        nic.configWrite(offset: 0x04, value: 0x0001, size: .word)
        initialise()
        XCTAssertEqual(nic.chip.receive(frame(to: NE2000Tests.mac, length: 300)), .stored)
        XCTAssertTrue(nic.interruptLevel)
        let saved = try functionRecord(nic)

        let originalHarness = harness!
        harness = PortHarness()
        let copy = plugged(into: harness)
        XCTAssertEqual(inb(cr), 0xFF, "nothing decodes before the load")
        try copy.prepareFunctionLoad(saved)()
        XCTAssertEqual(inb(0x0A), 0x50, "BAR 0 decodes where the saved configuration says")
        XCTAssertTrue(copy.interruptLevel)
        let fromCopy = driveOn { copy.chip.receive($0) }
        harness = originalHarness
        XCTAssertEqual(driveOn { nic.chip.receive($0) }, fromCopy)
    }

    func testADamagedBoardRecordIsRefusedAndChangesNothing() throws {
        busyBoard()
        let saved = card.savedState()
        let target = NE2000ISA(macAddress: NE2000Tests.mac, irq: LineProbe().line)
        let before = target.savedState()
        func damaged(_ change: (inout StateRecord) -> Void) -> StateRecord {
            var chip = try! saved.record("chip")
            change(&chip)
            var board = saved
            board.put("chip", chip)
            return board
        }
        let refusals: [(StateRecord, StateRecordError)] = [
            (damaged { $0.put("ram", [UInt8](repeating: 0, count: 100)) }, .outOfRange(record: "dp8390", field: "ram")),
            (damaged { $0.put("pageStart", UInt16(0x146)) }, .outOfRange(record: "dp8390", field: "pageStart")),
            (damaged { $0.put("command", UInt8(0x03)) }, .outOfRange(record: "dp8390", field: "command")),
            (damaged { $0.put("command", UInt8(0x21)) }, .outOfRange(record: "dp8390", field: "started")),
            (damaged { $0.put("tally", [UInt8](repeating: 0, count: 4)) }, .outOfRange(record: "dp8390", field: "tally")),
            (damaged { $0.put("receiveActivity", UInt8(1)) },
             .wrongType(record: "dp8390", field: "receiveActivity", expected: "bool", found: "unsigned")),
        ]
        for (record, error) in refusals {
            XCTAssertThrowsError(try target.loadState(record)) { XCTAssertEqual($0 as? StateRecordError, error) }
        }
        var oldChip = StateRecord(name: "dp8390", version: 0)
        for (name, value) in try saved.record("chip").fields { oldChip.put(name, value) }
        var old = saved
        old.put("chip", oldChip)
        XCTAssertThrowsError(try target.loadState(old)) {
            XCTAssertEqual($0 as? StateRecordError, .wrongVersion(record: "dp8390", expected: 1, found: 0))
        }
        let otherMAC = NE2000ISA(macAddress: [0x52, 0x54, 0x00, 0x12, 0x34, 0x99], irq: LineProbe().line)
        XCTAssertThrowsError(try target.loadState(otherMAC.savedState())) {
            guard case .configurationMismatch(record: "dp8390", reason: _)? = $0 as? StateRecordError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(target.savedState(), before)
    }
}

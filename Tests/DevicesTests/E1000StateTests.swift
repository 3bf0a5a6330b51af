import Lifecycle
import Memory
import Timing
import XCTest
@testable import Devices

/// The e1000 saved with a frame half gathered, an EEPROM read under way and
/// the ITR timer armed, loaded into a fresh card on a fresh clock (its RAM
/// copied, as the machine saves RAM on its own): the interrupt rises at the
/// same guest time, the frame goes out whole, the rings go on.
extension E1000Tests {
    /// Rings set up, one frame received (the line rose and was acknowledged),
    /// a second one 100 µs later (the rise waits for ITR), 30 bytes of a
    /// frame gathered, a PHY register and half an EEPROM command written.
    func busyCard() {
        setUpReceiveRing()
        setUpTransmitRing()
        writel(ITR, 1000)
        var frame = [UInt8](repeating: 0xAB, count: 100)
        frame[0..<6] = ArraySlice(mac)
        XCTAssertEqual(card.receive(frame), .stored)
        _ = readl(ICR)
        clock.skip(to: clock.now + 100_000)
        XCTAssertEqual(card.receive(frame), .stored)
        XCTAssertFalse(card.interruptLevel)
        poke(0x20000, (0..<30).map { UInt8($0) })
        poke(0x10000, descriptor(buffer: 0x20000, lower: 30 | 0x08 << 24, upper: 0))  // RS, no EOP
        writel(TDT, 1)
        writel(MDIC, 4 << 16 | 1 << 21 | 1 << 26 | 0x01E1)
        writel(EECD, 0x40 | 0x2)
        for bit: UInt32 in [4, 4] {  // the first two bits of READ
            writel(EECD, 0x40 | 0x2 | bit)
            writel(EECD, 0x40 | 0x2 | bit | 1)
        }
        card.ioWindow.write(offset: 0, value: STATUS, size: .dword)
    }

    /// From here on: the rest of the frame, the end of the EEPROM read, registers.
    func driveOn(clock: VirtualClock, scheduler: EventScheduler) -> [String] {
        var seen = ["\(card.interruptLevel)"]
        let deadline = scheduler.nextDeadline ?? -1
        seen.append("deadline \(deadline - clock.now)")
        clock.skip(to: deadline)
        _ = scheduler.runExpired(now: clock.now)
        seen.append("\(card.interruptLevel) at \(clock.now)")
        sent = []
        poke(0x20100, (30..<60).map { UInt8($0) })
        poke(0x10010, descriptor(buffer: 0x20100, lower: 30 | 0x09 << 24, upper: 0))  // EOP | RS
        writel(TDT, 2)
        seen.append("\(sent)")
        writel(EECD, 0x40 | 0x2)
        writel(EECD, 0x40 | 0x2 | 1)  // the third bit, 0
        for bit in (0..<6).reversed() {
            let data: UInt32 = (1 >> bit) & 1 != 0 ? 4 : 0
            writel(EECD, 0x40 | 0x2 | data)
            writel(EECD, 0x40 | 0x2 | data | 1)
        }
        var word: UInt32 = 0
        for _ in 0..<16 {
            writel(EECD, 0x40 | 0x2)
            writel(EECD, 0x40 | 0x2 | 1)
            word = word << 1 | (readl(EECD) >> 3 & 1)
        }
        seen.append("eeprom word 1: \(String(word, radix: 16))")
        writel(MDIC, 4 << 16 | 1 << 21 | 1 << 27)
        seen.append("\(readl(MDIC) & 0xFFFF) \(card.ioWindow.read(offset: 4, size: .dword))")
        seen.append("\([ICR, RDH, RDT, TDH, TDT, ITR, IMS, GPRC, GPTC].map(readl))")
        return seen
    }

    func testRoundTripFiresTheModeratedInterruptAtTheSameGuestTime() throws {
        busyCard()
        let savedClock = clock.savedState()
        let saved = try functionRecord(card)
        XCTAssertNotNil(scheduler.nextDeadline, "the ITR timer is armed")

        let original = card!, originalRAM = ram!
        let freshClock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)), freshScheduler = EventScheduler()
        freshClock.advance(instructions: 77_777)
        ram = try GuestRAM(size: originalRAM.size)
        ram.base.copyMemory(from: originalRAM.base, byteCount: ram.size)
        let space = AddressSpace(ram: ram)
        _ = try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        card = E1000(macAddress: mac, memory: space, memoryWritten: { _, _ in }, clock: freshClock, scheduler: freshScheduler)
        card.transmit = { [unowned self] frame in sent.append(frame) }
        try freshClock.loadState(savedClock)
        try card.prepareFunctionLoad(saved)()
        XCTAssertEqual(try functionRecord(card), saved)
        let fromCopy = driveOn(clock: freshClock, scheduler: freshScheduler)

        card = original
        ram = originalRAM
        let fromOriginal = driveOn(clock: clock, scheduler: scheduler)
        XCTAssertEqual(fromOriginal[1], "deadline 156000", "ITR's 256 µs from the first rise")
        XCTAssertEqual(fromOriginal[2], "true at \(clock.now)")
        XCTAssertEqual(fromOriginal[3], "\([(0..<60).map { UInt8($0) }])", "the gathered half and the rest, one frame")
        XCTAssertEqual(fromOriginal[4], "eeprom word 1: 1200")
        XCTAssertEqual(fromCopy, fromOriginal)
    }

    func testADamagedCardRecordIsRefusedAndChangesNothing() throws {
        busyCard()
        let saved = try functionRecord(card)
        let target = E1000(macAddress: mac, memory: AddressSpace(ram: ram), memoryWritten: { _, _ in }, clock: clock, scheduler: EventScheduler())
        let before = try functionRecord(target)
        func damaged(_ change: (inout StateRecord) throws -> Void) rethrows -> StateRecord {
            var record = saved
            try change(&record)
            return record
        }
        func nested(_ field: String, _ change: (inout StateRecord) -> Void) throws -> StateRecord {
            try damaged { record in
                var inner = try record.record(field)
                change(&inner)
                record.put(field, inner)
            }
        }
        let refusals: [(StateRecord, StateRecordError)] = [
            (try damaged { record in
                var words = try record.words("registers", count: 0x8000, as: UInt32.self)
                words[Int(RDLEN >> 2)] = 0x1234_5678
                record.put("registers", words: words)
            }, .outOfRange(record: "e1000", field: "registers")),
            (damaged { $0.put("pending", [UInt8](repeating: 0, count: 0x20000)) }, .outOfRange(record: "e1000", field: "pending")),
            (damaged { $0.put("lastInterruptTime", clock.now + 1) }, .outOfRange(record: "e1000", field: "lastInterruptTime")),
            (try nested("context") { $0.put("ipStart", 0x100) }, .outOfRange(record: "e1000-offload-context", field: "ipStart")),
            (try nested("eeprom") { $0.put("commandBits", 12) }, .outOfRange(record: "e1000-eeprom", field: "commandBits")),
            (try nested("eeprom") { $0.put("pins", UInt32(0x100)) }, .outOfRange(record: "e1000-eeprom", field: "pins")),
            (try nested("phy") { record in
                var words = try! record.words("registers", count: 32, as: UInt16.self)
                words[2] = 0x1234  // another PHY's identifier
                record.put("registers", words: words)
            }, .outOfRange(record: "e1000-phy", field: "registers")),
            (damaged { $0.put("timer.e1000-itr", StateRecord(name: "timer", version: 2)) },
             .wrongVersion(record: "timer", expected: 1, found: 2)),
        ]
        for (record, error) in refusals {
            XCTAssertThrowsError(try target.prepareFunctionLoad(record)) { XCTAssertEqual($0 as? StateRecordError, error) }
        }
        let otherMAC = try nested("eeprom") { record in
            var words = try! record.words("words", count: 64, as: UInt16.self)
            words[2] ^= 0x0100
            record.put("words", words: words)
        }
        XCTAssertThrowsError(try target.prepareFunctionLoad(otherMAC)) {
            guard case .configurationMismatch(record: "e1000-eeprom", reason: _)? = $0 as? StateRecordError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try functionRecord(target), before)
    }
}

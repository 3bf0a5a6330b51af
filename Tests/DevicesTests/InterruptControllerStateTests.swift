import Lifecycle
import Memory
import Timing
import XCTest
@testable import Devices

/// The HPET and the APICs saved mid-run, encoded, decoded and loaded into
/// fresh chips on a clock that had been elsewhere: the copies go on exactly
/// as the originals do (registers, interrupts at the same guest times), and a
/// damaged record is refused without changing anything.
final class InterruptControllerStateTests: XCTestCase {
    func roundTrip<D: StatefulDevice>(_ device: D) throws -> StateRecord {
        try StateRecordCodec.decode(StateRecordCodec.encode(device.savedState()))
    }

    // MARK: HPET

    final class HPETRig {
        let harness = PortHarness()
        /// Every line change after `mark`, as (time, GSI, level).
        var changes: [(Int64, Int, Bool)] = []
        var legacy: [Bool] = []
        lazy var hpet = HPET(clock: harness.clock, scheduler: harness.scheduler, interrupt: { [unowned self] gsi, level in
            changes.append((harness.clock.now, gsi, level))
        }, legacyReplacementChanged: { [unowned self] on in legacy.append(on) })

        func readl(_ offset: UInt32) -> UInt32 { hpet.read(offset: offset, size: .dword) }
        func writel(_ offset: UInt32, _ value: UInt32) { hpet.write(offset: offset, value: value, size: .dword) }
        /// Every register the guest can read.
        var registers: [UInt32] {
            ([0x000, 0x004, 0x010, 0x020, 0x0F0, 0x0F4] + (0..<3).flatMap { n in [0x100, 0x104, 0x108, 0x10C].map { $0 + 0x20 * n } })
                .map { readl(UInt32($0)) }
        }
    }

    /// Linux's periodic HPET clockevent in legacy replacement (timer 0 at
    /// HZ=250, 32-bit), and timer 2 as a level-triggered one-shot on GSI 20
    /// that has fired and is still held.
    func programLikeLinux(_ rig: HPETRig) {
        rig.writel(0x010, 0)
        rig.writel(0x0F0, 0)
        rig.writel(0x100, 1 << 2 | 1 << 3 | 1 << 6 | 1 << 8)  // enable, periodic, SETVAL, 32-bit
        rig.writel(0x108, 400_000)  // the first match at 4 ms
        rig.writel(0x108, 400_000)  // the period, 4 ms at 100 MHz
        rig.writel(0x140, 1 << 1 | 1 << 2 | 20 << 9)  // timer 2: level, enabled, GSI 20
        rig.writel(0x148, 150_000)
        rig.writel(0x14C, 0)
        rig.writel(0x010, 1 | 2)  // enable, legacy replacement
    }

    func testHPETRoundTripKeepsTheCounterAndInterruptsAtTheSameTimes() throws {
        let rig = HPETRig()
        programLikeLinux(rig)
        rig.harness.run(until: 9_000_123)
        XCTAssertEqual(rig.readl(0x020), 1 << 2, "timer 2 fired and holds GSI 20")

        let savedClock = rig.harness.clock.savedState()
        let saved = try roundTrip(rig.hpet)
        let copy = HPETRig()
        copy.harness.clock.advance(instructions: 987_654_321)
        _ = copy.hpet
        try copy.harness.clock.loadState(savedClock)
        try copy.hpet.loadState(saved)
        XCTAssertEqual(copy.legacy, [true], "the PIT and RTC leave IRQ 0 and 8")
        XCTAssertEqual(copy.changes.map { $0.1 }, [20], "the held line is driven")
        XCTAssertEqual(copy.registers, rig.registers)
        XCTAssertEqual(copy.hpet.savedState(), rig.hpet.savedState())
        XCTAssertEqual(copy.harness.scheduler.nextDeadline, rig.harness.scheduler.nextDeadline)

        rig.changes = []
        copy.changes = []
        for harness in [rig.harness, copy.harness] { harness.run(until: 30_000_000) }
        for target in [rig, copy] {
            target.writel(0x020, 1 << 2)  // the driver acknowledges timer 2
            target.writel(0x148, 3_000_500)
            target.writel(0x14C, 0)
        }
        for harness in [rig.harness, copy.harness] { harness.run(until: 41_000_000) }
        XCTAssertEqual(rig.changes.filter { $0.1 == 0 && $0.2 }.count, 8, "IRQ 0 every 4 ms")
        XCTAssertEqual(copy.changes.map { "\($0.0) \($0.1) \($0.2)" }, rig.changes.map { "\($0.0) \($0.1) \($0.2)" })
        XCTAssertEqual(copy.registers, rig.registers)
    }

    func testHPETRefusesADamagedRecordAndChangesNothing() throws {
        let rig = HPETRig()
        programLikeLinux(rig)
        rig.harness.run(until: 1_000_000)
        let saved = try roundTrip(rig.hpet)

        let target = HPETRig()
        target.writel(0x100, 1 << 2)
        target.writel(0x010, 1)
        target.harness.run(until: 2_000_000)
        let before = target.hpet.savedState(), deadline = target.harness.scheduler.nextDeadline

        var timers = try saved.records("timers")
        var timer2 = timers[2]
        timer2.put("configuration", (try timer2.unsigned("configuration", as: UInt64.self)) | 1 << 4)  // claims periodic capability
        timers[2] = timer2
        var bad = saved
        bad.put("timers", timers)
        XCTAssertThrowsError(try target.hpet.loadState(bad)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "hpet-timer", field: "configuration"))
        }
        var late = saved
        late.put("startTime", Int64(5_000_000))  // after the clock's now
        XCTAssertThrowsError(try target.hpet.loadState(late)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "hpet", field: "startTime"))
        }
        var status = saved
        status.put("interruptStatus", UInt64(1 << 3))
        XCTAssertThrowsError(try target.hpet.loadState(status))
        var bytes = StateRecordCodec.encode(saved)
        bytes[bytes.count / 2] ^= 0x40
        XCTAssertThrowsError(try StateRecordCodec.decode(bytes)) { XCTAssertTrue($0 is StateRecordError) }
        XCTAssertEqual(target.hpet.savedState(), before)
        XCTAssertEqual(target.harness.scheduler.nextDeadline, deadline, "the armed match is left alone")
        XCTAssertEqual(target.legacy, [])
        XCTAssertEqual(target.changes.count, 0)
    }

    // MARK: the local APIC and the I/O APIC

    final class APICRig {
        let harness = PortHarness()
        let bus = APICBus()
        let apic: LocalAPIC
        let ioapic: IOAPIC
        var outputs: [Bool] = []
        var moves: [(UInt32?, UInt32?)] = []

        init() {
            apic = LocalAPIC(clock: harness.clock, scheduler: harness.scheduler)
            bus.attach(apic)
            ioapic = IOAPIC(bus: bus)
            apic.outputChanged = { [unowned self] level in outputs.append(level) }
            apic.baseChanged = { [unowned self] old, new in moves.append((old, new)) }
        }

        func readl(_ offset: UInt32) -> UInt32 { apic.read(offset: offset, size: .dword) }
        func writel(_ offset: UInt32, _ value: UInt32) { apic.write(offset: offset, value: value, size: .dword) }
        func ioRegister(_ index: UInt32) -> UInt32 {
            ioapic.write(offset: 0, value: index, size: .dword)
            return ioapic.read(offset: 0x10, size: .dword)
        }
        func setIORegister(_ index: UInt32, _ value: UInt32) {
            ioapic.write(offset: 0, value: index, size: .dword)
            ioapic.write(offset: 0x10, value: value, size: .dword)
        }
        /// Every local APIC register a guest can read, and the I/O APIC's.
        var registers: [UInt32] {
            let local = [0x20, 0x30, 0x80, 0xA0, 0xD0, 0xE0, 0xF0, 0x280, 0x300, 0x310, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370,
                         0x380, 0x390, 0x3E0].map { readl(UInt32($0)) }
            let words = (0..<24).map { readl(0x100 + 0x10 * UInt32($0)) }
            let select = ioapic.read(offset: 0, size: .dword)
            let io = (0..<(0x10 + 48)).map { ioRegister(UInt32($0)) }
            ioapic.write(offset: 0, value: select, size: .dword)
            return local + words + io + [select]
        }
    }

    /// What Linux leaves: the APIC enabled, its timer periodic (vector 0xEC,
    /// divide by 16), the PIT's edge pin 2 and a level PCI pin 11, one
    /// interrupt in service, one waiting, and a level pin awaiting its EOI.
    func programLikeLinux(_ rig: APICRig) {
        rig.writel(0xF0, 0x1FF)
        rig.writel(0x80, 0)
        rig.writel(0xE0, 0xFFFF_FFFF)
        rig.writel(0xD0, 0x0100_0000)
        rig.writel(0x350, 0x1_0700)  // LINT0 masked ExtINT
        rig.writel(0x360, 0x400)  // LINT1 NMI
        rig.writel(0x3E0, 0x3)  // divide by 16
        rig.writel(0x320, 0x2_00EC)  // periodic, vector 0xEC
        rig.writel(0x380, 62_500)  // 1 ms
        rig.setIORegister(0x15, 0x0100_0000)
        rig.setIORegister(0x14, 0x0000_0830)  // pin 2: vector 0x30, logical, edge
        rig.setIORegister(0x27, 0x0100_0000)
        rig.setIORegister(0x26, 0x0000_8839)  // pin 11: vector 0x39, logical, level, active high
        rig.ioapic.setPin(11, level: true)
        XCTAssertEqual(rig.apic.acknowledge(), 0x39)  // in service, remote IRR set
        rig.harness.run(until: 2_500_000)
        rig.ioapic.setPin(2, level: true)
        rig.ioapic.setPin(2, level: false)
        rig.setIORegister(0x01, 0)  // IOREGSEL left at the version
    }

    func testAPICsRoundTripGoOnAlike() throws {
        let rig = APICRig()
        programLikeLinux(rig)
        let savedClock = rig.harness.clock.savedState()
        let savedLocal = try roundTrip(rig.apic), savedIO = try roundTrip(rig.ioapic)

        let copy = APICRig()
        copy.harness.clock.advance(instructions: 55_555_555)
        try copy.harness.clock.loadState(savedClock)
        try copy.ioapic.loadState(savedIO)
        try copy.apic.loadState(savedLocal)
        XCTAssertEqual(copy.outputs, [true], "the loaded IRR drives INTR")
        XCTAssertEqual(copy.registers, rig.registers)
        XCTAssertEqual(copy.apic.savedState(), rig.apic.savedState())
        XCTAssertEqual(copy.ioapic.savedState(), rig.ioapic.savedState())
        XCTAssertEqual(copy.harness.scheduler.nextDeadline, rig.harness.scheduler.nextDeadline, "the timer's next expiry")
        XCTAssertTrue(copy.moves.isEmpty)

        // The guest goes on, every 100 µs for 5 ms: the handler in service
        // finishes (pin 11 is still high, so the I/O APIC sends it again), then
        // each interrupt is taken and EOI'd; pin 11 rises once more later.
        var taken: [[String]] = [[], []]
        for step in 1...50 {
            for (index, target) in [rig, copy].enumerated() {
                target.harness.run(until: 2_500_000 + Int64(step) * 100_000)
                if step == 10 { target.writel(0xB0, 0) }
                if step == 30 { target.ioapic.setPin(11, level: true) }
                while target.apic.interruptPending {
                    let vector = target.apic.acknowledge()
                    taken[index].append("\(target.harness.clock.now):\(vector)")
                    if vector == 0x39 { target.ioapic.setPin(11, level: false) }  // the device is serviced
                    target.writel(0xB0, 0)
                }
            }
        }
        XCTAssertEqual(taken[0].filter { $0.hasSuffix(":57") }.count, 2, "pin 11 again after the EOI, and once more")
        XCTAssertEqual(taken[0].filter { $0.hasSuffix(":48") }.count, 1, "the PIT's edge once its class is let through")
        XCTAssertEqual(taken[0].filter { $0.hasSuffix(":236") }.count, 6, "the APIC timer every 1 ms (and the one waiting)")
        XCTAssertEqual(taken[1], taken[0])
        XCTAssertEqual(copy.registers, rig.registers)
    }

    func testTheLocalAPICsPageMovesToTheLoadedBase() throws {
        let rig = APICRig()
        XCTAssertTrue(rig.apic.writeBaseMSR(0xFEF0_0900))
        rig.writel(0xF0, 0x1FF)
        rig.writel(0x320, 0x0_00EC)  // one-shot, vector 0xEC
        rig.writel(0x380, 1_000)
        let saved = try roundTrip(rig.apic)
        let copy = APICRig()
        try copy.apic.loadState(saved)
        XCTAssertEqual(copy.moves.map { "\($0.0 ?? 0) \($0.1 ?? 0)" }, ["\(0xFEE0_0000) \(0xFEF0_0000)"])
        XCTAssertEqual(copy.apic.baseMSR, 0xFEF0_0900)
        rig.harness.run(until: 1_000_000)
        copy.harness.run(until: 1_000_000)
        XCTAssertEqual(copy.apic.acknowledge(), 0xEC)
        XCTAssertEqual(rig.apic.acknowledge(), 0xEC)
    }

    func testAPICsRefuseADamagedRecordAndChangeNothing() throws {
        let rig = APICRig()
        programLikeLinux(rig)
        let savedLocal = try roundTrip(rig.apic), savedIO = try roundTrip(rig.ioapic)
        let target = APICRig()
        target.writel(0xF0, 0x1FF)
        target.writel(0x320, 0x2_00EC)
        target.writel(0x380, 5_000)
        target.setIORegister(0x10, 0x31)
        let beforeLocal = target.apic.savedState(), beforeIO = target.ioapic.savedState(), registers = target.registers
        let deadline = target.harness.scheduler.nextDeadline

        var reservedMode = savedLocal
        reservedMode.put("lvt", words: [UInt32(0x6_00EC), 0x1_0000, 0x1_0000, 0x1_0700, 0x400, 0x1_0000])
        XCTAssertThrowsError(try target.apic.loadState(reservedMode)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "local-apic", field: "lvt"))
        }
        var otherCPU = savedLocal
        otherCPU.put("apicID", UInt8(1))
        XCTAssertThrowsError(try target.apic.loadState(otherCPU)) {
            XCTAssertEqual($0 as? StateRecordError, .configurationMismatch(record: "local-apic", reason: "APIC ID 1, this CPU's is 0"))
        }
        var shortIRR = savedLocal
        shortIRR.put("request", words: [UInt32](repeating: 0, count: 7))
        XCTAssertThrowsError(try target.apic.loadState(shortIRR))
        var moved = savedLocal
        moved.put("base", UInt64(0xFEF0_0800))  // not the bootstrap processor
        XCTAssertThrowsError(try target.apic.loadState(moved))
        var deliveryStatus = savedIO
        deliveryStatus.put("entries", words: [UInt64](repeating: 1 << 12, count: 24))
        XCTAssertThrowsError(try target.ioapic.loadState(deliveryStatus)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "ioapic", field: "entries"))
        }
        var levels = savedIO
        levels.put("levels", [UInt8](repeating: 2, count: 24))
        XCTAssertThrowsError(try target.ioapic.loadState(levels))

        XCTAssertEqual(target.apic.savedState(), beforeLocal)
        XCTAssertEqual(target.ioapic.savedState(), beforeIO)
        XCTAssertEqual(target.registers, registers)
        XCTAssertEqual(target.harness.scheduler.nextDeadline, deadline)
        XCTAssertTrue(target.moves.isEmpty)
        XCTAssertEqual(target.outputs, [])
    }
}

import Memory
import XCTest
@testable import Devices

/// The NE2000 driven through its ports the way Linux's ne and 8390 drivers
/// drive it: PROM read, ring set-up, remote DMA in both directions,
/// transmit, receive with every filter, and nonsense a guest may program.
final class NE2000Tests: XCTestCase {
    static let base: UInt16 = 0x300
    static let mac: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    static let ringStart: UInt8 = 0x46, ringStop: UInt8 = 0x80, transmitPage: UInt8 = 0x40

    var harness: PortHarness!
    var irq: LineProbe!
    var card: NE2000ISA!
    var sent: [[UInt8]] = []
    var spaceFreed = 0

    override func setUp() {
        harness = PortHarness()
        irq = LineProbe()
        card = NE2000ISA(macAddress: NE2000Tests.mac, irq: irq.line)
        try! card.attach(to: harness.bus)
        card.chip.transmit = { [unowned self] in self.sent.append($0) }
        card.chip.receiveSpaceFreed = { [unowned self] in self.spaceFreed += 1 }
        sent = []
        spaceFreed = 0
    }

    // Register offsets and bits as the driver names them.
    let cr: UInt16 = 0x00, pstart: UInt16 = 0x01, pstop: UInt16 = 0x02, bnry: UInt16 = 0x03, tpsr: UInt16 = 0x04
    let tbcr0: UInt16 = 0x05, tbcr1: UInt16 = 0x06, isr: UInt16 = 0x07, rsar0: UInt16 = 0x08, rsar1: UInt16 = 0x09
    let rbcr0: UInt16 = 0x0A, rbcr1: UInt16 = 0x0B, rcr: UInt16 = 0x0C, tcr: UInt16 = 0x0D, dcr: UInt16 = 0x0E
    let imr: UInt16 = 0x0F, curr: UInt16 = 0x07, data: UInt16 = 0x10, resetPort: UInt16 = 0x1F
    let stop: UInt8 = 0x01, start: UInt8 = 0x02, txp: UInt8 = 0x04, remoteRead: UInt8 = 0x08
    let remoteWrite: UInt8 = 0x10, noDMA: UInt8 = 0x20, page1: UInt8 = 0x40, page2: UInt8 = 0x80

    func out(_ register: UInt16, _ value: UInt8) { harness.out(NE2000Tests.base + register, value) }
    func inb(_ register: UInt16) -> UInt8 { harness.inb(NE2000Tests.base + register) }

    func setRemote(address: Int, count: Int) {
        out(rbcr0, UInt8(count & 0xFF)); out(rbcr1, UInt8(count >> 8))
        out(rsar0, UInt8(address & 0xFF)); out(rsar1, UInt8(address >> 8))
    }

    /// ne_open's 8390 init, word mode: the ring 0x46-0x80, transmit buffer at 0x40.
    func initialise(receiveConfiguration: UInt8 = 0x04) {
        out(cr, noDMA | stop)
        out(dcr, 0x49)
        out(rbcr0, 0); out(rbcr1, 0)
        out(rcr, 0x20)
        out(tcr, 0x02)
        out(tpsr, NE2000Tests.transmitPage)
        out(pstart, NE2000Tests.ringStart)
        out(bnry, NE2000Tests.ringStop - 1)
        out(pstop, NE2000Tests.ringStop)
        out(isr, 0xFF)
        out(imr, 0)
        out(cr, noDMA | stop | page1)
        for (index, byte) in NE2000Tests.mac.enumerated() { out(1 + UInt16(index), byte) }
        for index in 0..<8 { out(8 + UInt16(index), 0) }
        out(curr, NE2000Tests.ringStart)
        out(cr, noDMA | stop)
        out(isr, 0xFF)
        out(imr, 0x3F)
        out(cr, noDMA | start)
        out(tcr, 0)
        out(rcr, receiveConfiguration)
    }

    func readRemote(address: Int, count: Int) -> [UInt8] {
        setRemote(address: address, count: count)
        out(cr, remoteRead | start)
        var bytes: [UInt8] = []
        for _ in stride(from: 0, to: count, by: 2) {
            let word = harness.inw(NE2000Tests.base + data)
            bytes.append(UInt8(word & 0xFF)); bytes.append(UInt8(word >> 8))
        }
        out(isr, 0x40)
        return Array(bytes.prefix(count))
    }

    func frame(to destination: [UInt8], length: Int = 100) -> [UInt8] {
        destination + [0x02, 0, 0, 0, 0, 1] + [0x08, 0x00] + (0..<length - 14).map { UInt8(truncatingIfNeeded: $0) }
    }

    // MARK: Tests

    func testResetPortAndPROM() {
        XCTAssertEqual(inb(resetPort) & 0, 0)
        XCTAssertEqual(inb(isr) & 0x80, 0x80, "RST after the reset port is read")
        XCTAssertEqual(inb(cr) & stop, stop)
        // ne_probe1: byte mode, 32 bytes of PROM through remote DMA.
        out(cr, noDMA | stop)
        out(dcr, 0x48)
        setRemote(address: 0, count: 32)
        out(cr, remoteRead | start)
        let prom = (0..<32).map { _ in inb(data) }
        for index in 0..<6 {
            XCTAssertEqual(prom[2 * index], NE2000Tests.mac[index])
            XCTAssertEqual(prom[2 * index + 1], NE2000Tests.mac[index])
        }
        XCTAssertEqual(prom[28...31], [0x57, 0x57, 0x57, 0x57], "the NE2000 signature")
        XCTAssertEqual(inb(isr) & 0x40, 0x40, "remote DMA complete")
    }

    func testRemoteDMAWriteAndReadBackInWords() {
        initialise()
        let bytes = (0..<64).map { UInt8($0 * 3 & 0xFF) }
        setRemote(address: 0x4000, count: bytes.count)
        out(cr, remoteWrite | start)
        for index in stride(from: 0, to: bytes.count, by: 2) {
            harness.outw(NE2000Tests.base + data, UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8)
        }
        XCTAssertEqual(inb(isr) & 0x40, 0x40)
        XCTAssertEqual(readRemote(address: 0x4000, count: bytes.count), bytes)
        // Dword accesses, as the RTL8029's 32-bit mode.
        setRemote(address: 0x4000, count: 4)
        out(cr, remoteRead | start)
        XCTAssertEqual(harness.inl(NE2000Tests.base + data), UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
    }

    func testTransmitRaisesPTXAndInterrupt() {
        initialise()
        let packet = frame(to: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], length: 60)
        setRemote(address: Int(NE2000Tests.transmitPage) << 8, count: packet.count)
        out(cr, remoteWrite | start)
        for index in stride(from: 0, to: packet.count, by: 2) {
            harness.outw(NE2000Tests.base + data, UInt16(packet[index]) | UInt16(packet[index + 1]) << 8)
        }
        out(isr, 0x40)
        out(tbcr0, UInt8(packet.count)); out(tbcr1, 0)
        out(cr, noDMA | txp | start)
        XCTAssertEqual(sent, [packet])
        XCTAssertEqual(inb(isr) & 0x02, 0x02)
        XCTAssertEqual(inb(0x04) & 0x01, 0x01, "TSR: transmitted")
        XCTAssertEqual(inb(cr) & txp, 0, "TXP clears when done")
        XCTAssertTrue(irq.level)
        out(isr, 0x02)
        XCTAssertFalse(irq.level)
    }

    func testReceiveWritesHeaderAndAdvancesCURR() {
        initialise()
        let packet = frame(to: NE2000Tests.mac, length: 300)
        XCTAssertEqual(card.chip.receive(packet), .stored)
        XCTAssertTrue(irq.level)
        XCTAssertEqual(inb(isr) & 0x01, 0x01)
        out(cr, noDMA | start | page1)
        let current = inb(curr)
        out(cr, noDMA | start)
        // 304 bytes with the header: two pages.
        XCTAssertEqual(current, NE2000Tests.ringStart + 2)
        let header = readRemote(address: Int(NE2000Tests.ringStart) << 8, count: 4)
        XCTAssertEqual(header, [0x01, NE2000Tests.ringStart + 2, UInt8(304 & 0xFF), UInt8(304 >> 8)])
        XCTAssertEqual(readRemote(address: (Int(NE2000Tests.ringStart) << 8) + 4, count: 300), packet)
    }

    func testByteAccessesInWordModeMoveWords() {
        initialise()
        setRemote(address: 0x4000, count: 4)
        out(cr, remoteWrite | start)
        out(data, 0x11); out(data, 0x22)
        XCTAssertEqual(readRemote(address: 0x4000, count: 4), [0x11, 0x00, 0x22, 0x00])
    }

    /// The 8390 driver reads CURR, takes the frames up to it, moves BNRY,
    /// then acknowledges PRX: a frame arriving between its last look at
    /// CURR and the acknowledgement keeps PRX set, so it is not stranded.
    func testAcknowledgingPRXWithUnreadFramesKeepsItSet() {
        initialise()
        XCTAssertEqual(card.chip.receive(frame(to: NE2000Tests.mac)), .stored)
        out(bnry, NE2000Tests.ringStart)  // the driver took it: BNRY = next - 1
        XCTAssertEqual(card.chip.receive(frame(to: NE2000Tests.mac)), .stored)  // arrives late
        out(isr, 0x01)
        XCTAssertEqual(inb(isr) & 0x01, 0x01, "a frame is still unread")
        XCTAssertTrue(irq.level)
        out(isr, 0x01)
        XCTAssertEqual(inb(isr) & 0x01, 0, "only once without new activity")
        out(bnry, NE2000Tests.ringStart + 1)
        XCTAssertEqual(card.chip.receive(frame(to: NE2000Tests.mac)), .stored)
        out(bnry, NE2000Tests.ringStart + 2)  // all read
        out(isr, 0x01)
        XCTAssertEqual(inb(isr) & 0x01, 0, "an empty ring acknowledges normally")
    }

    func testShortFramesArePaddedTo60() {
        initialise()
        XCTAssertEqual(card.chip.receive(frame(to: NE2000Tests.mac, length: 42)), .stored)
        let header = readRemote(address: Int(NE2000Tests.ringStart) << 8, count: 4)
        XCTAssertEqual(Int(header[2]) | Int(header[3]) << 8, 64)
    }

    func testAddressFilters() {
        initialise(receiveConfiguration: 0x00)
        let broadcast = [UInt8](repeating: 0xFF, count: 6)
        XCTAssertEqual(card.chip.receive(frame(to: [0x52, 0x54, 0x00, 0x12, 0x34, 0x57])), .filtered, "another station")
        XCTAssertEqual(card.chip.receive(frame(to: broadcast)), .filtered, "broadcast without AB")
        out(rcr, 0x04)
        XCTAssertEqual(card.chip.receive(frame(to: broadcast)), .stored)
        XCTAssertEqual(readRemote(address: Int(NE2000Tests.ringStart) << 8, count: 1), [0x21], "RSR: intact, group address")

        let multicast: [UInt8] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01]
        out(rcr, 0x08)
        XCTAssertEqual(card.chip.receive(frame(to: multicast)), .filtered, "hash bit clear")
        let bit = DP8390.multicastHashIndex(multicast[...])
        out(cr, noDMA | start | page1)
        out(8 + UInt16(bit >> 3), 1 << UInt8(bit & 7))
        out(cr, noDMA | start)
        XCTAssertEqual(card.chip.receive(frame(to: multicast)), .stored)

        out(rcr, 0x10)
        XCTAssertEqual(card.chip.receive(frame(to: [0x02, 1, 2, 3, 4, 5])), .stored, "promiscuous")
        out(rcr, 0x30)
        XCTAssertEqual(card.chip.receive(frame(to: NE2000Tests.mac)), .filtered, "monitor mode stores nothing")
    }

    func testMulticastHashMatchesTheEthernetCRC() {
        // The top six bits of the big-endian Ethernet CRC, which is zlib's
        // CRC-32 of the address complemented and bit-reversed (values from
        // Python's zlib): the IPv6 all-nodes and IPv4 all-hosts groups.
        XCTAssertEqual(DP8390.multicastHashIndex([0x33, 0x33, 0x00, 0x00, 0x00, 0x01][...]), 0x3E)
        XCTAssertEqual(DP8390.multicastHashIndex([0x01, 0x00, 0x5E, 0x00, 0x00, 0x01][...]), 0x1F)
    }

    func testFullRingHoldsFramesUntilBNRYMoves() {
        initialise()
        var stored = 0
        while card.chip.receive(frame(to: NE2000Tests.mac, length: 1514)) == .stored { stored += 1 }
        // 58 pages, 6 per frame; the last would reach BNRY.
        XCTAssertEqual(stored, 9)
        XCTAssertFalse(card.chip.hasRoom(forFrameOf: 1514))
        let before = spaceFreed
        out(bnry, NE2000Tests.ringStart + 11)
        XCTAssertEqual(spaceFreed, before + 1, "the driver freeing space is announced")
        XCTAssertEqual(card.chip.receive(frame(to: NE2000Tests.mac, length: 1514)), .stored, "wraps past PSTOP")
        out(cr, noDMA | start | page1)
        let current = inb(curr)
        out(cr, noDMA | start)
        XCTAssertEqual(current, NE2000Tests.ringStart + 2, "9 * 6 = 54 pages, then 6 more around the end of a 58-page ring")
        // The frame crossing PSTOP reads back whole through the remote DMA's wrap.
        let packet = frame(to: NE2000Tests.mac, length: 1514)
        let address = (Int(NE2000Tests.ringStart) + 54) << 8
        XCTAssertEqual(readRemote(address: address + 4, count: 1514), packet)
    }

    /// iPXE switches pages with commands that set neither STA nor STP
    /// (0x40, then 0x00): the chip keeps running, as QEMU's does.
    func testPageSwitchWithoutStartOrStopKeepsTheChipRunning() {
        initialise()
        out(cr, page1)
        _ = inb(curr)
        out(cr, 0x00)
        XCTAssertEqual(card.chip.receive(frame(to: NE2000Tests.mac)), .stored)
    }

    func testStoppedReceiverTakesNothing() {
        initialise()
        out(cr, noDMA | stop)
        XCTAssertEqual(card.chip.receive(frame(to: NE2000Tests.mac)), .noRoom)
    }

    func testNonsenseFromTheGuestIsContained() {
        initialise()
        // Remote DMA running off the end of the address space and through the PROM.
        setRemote(address: 0xFFF0, count: 0xFFFF)
        out(cr, remoteWrite | start)
        for _ in 0..<0x40 { harness.outw(NE2000Tests.base + data, 0xAAAA) }
        setRemote(address: 0x0000, count: 8)
        out(cr, remoteWrite | start)
        for _ in 0..<8 { out(data, 0) }
        XCTAssertEqual(readRemote(address: 0, count: 2), [0x52, 0x52], "the PROM is read-only")
        setRemote(address: 0xC000, count: 4)
        out(cr, remoteRead | start)
        XCTAssertEqual(harness.inl(NE2000Tests.base + data), 0xFFFF_FFFF, "no memory above 0xBFFF")
        // A transmit buffer hanging off the end of memory.
        out(tpsr, 0xBF); out(tbcr0, 0xFF); out(tbcr1, 0x05)
        out(cr, noDMA | txp | start)
        XCTAssertTrue(sent.isEmpty)
        XCTAssertEqual(inb(isr) & 0x08, 0x08, "TXE")
        // A ring outside memory, inverted, or CURR outside it.
        for (first, last, current) in [(UInt8(0x00), UInt8(0x10), UInt8(0x00)), (0x80, 0x46, 0x50), (0x46, 0xFF, 0x50), (0x46, 0x80, 0x90)] {
            out(cr, noDMA | stop); out(pstart, first); out(pstop, last)
            out(cr, noDMA | stop | page1); out(curr, current); out(cr, noDMA | start)
            XCTAssertEqual(card.chip.receive(frame(to: NE2000Tests.mac)), .noRoom)
        }
        // Oversized and runt frames from the wire.
        out(cr, noDMA | stop); out(pstart, 0x46); out(pstop, 0x80)
        out(cr, noDMA | stop | page1); out(curr, 0x46); out(cr, noDMA | start)
        XCTAssertEqual(card.chip.receive([UInt8](repeating: 0, count: 9000)), .filtered)
        XCTAssertEqual(card.chip.receive([1, 2]), .filtered)
        // Page 3 and unknown offsets.
        out(cr, 0xC0 | noDMA | start)
        out(0x05, 0x12)
        _ = inb(0x05)
    }

    func testTallyCountersClearWhenRead() {
        initialise()
        for _ in 0..<3 { card.chip.recordMissedFrame() }
        XCTAssertEqual(inb(0x0F), 3)
        XCTAssertEqual(inb(0x0F), 0)
        for _ in 0..<128 { card.chip.recordMissedFrame() }
        XCTAssertEqual(inb(isr) & 0x20, 0x20, "counter MSB raises CNT")
    }

    func testPage2ReadsBackConfiguration() {
        initialise()
        out(cr, noDMA | start | page2)
        XCTAssertEqual(inb(0x01), NE2000Tests.ringStart)
        XCTAssertEqual(inb(0x02), NE2000Tests.ringStop)
        XCTAssertEqual(inb(0x04), NE2000Tests.transmitPage)
        XCTAssertEqual(inb(0x0C), 0x04)
        XCTAssertEqual(inb(0x0E), 0x49)
        XCTAssertEqual(inb(0x0F), 0x3F)
    }

    func testRTL8029OnPCIBehindThePIIX3() throws {
        let bus = PCIBus()
        try bus.attach(to: harness.bus)
        var irqLevels: [Int: Bool] = [:]
        let piix = PIIX3 { irq, level in irqLevels[irq] = level }
        try bus.plug(piix, slot: PIIX3.slot)
        bus.interruptRouter = piix
        let nic = NE2000PCI(macAddress: NE2000Tests.mac)
        nic.portsMoved = { [unowned self] old, new in
            if let old { self.harness.bus.detach(base: old, count: NE2000Ports.count) }
            if let new { try! self.harness.bus.attach(nic.ports, name: "ne2k_pci", base: new, count: NE2000Ports.count) }
        }
        try bus.plug(nic, slot: 3)
        XCTAssertEqual(harness.pciReadl(slot: 3, 0x00), 0x8029_10EC)
        XCTAssertEqual(harness.pciReadl(slot: 3, 0x08) >> 8, 0x02_00_00)
        XCTAssertEqual(harness.pciReadb(slot: 3, 0x3D), 1, "INTA")
        harness.pciWritel(slot: 3, 0x10, 0xFFFF_FFFF)
        XCTAssertEqual(harness.pciReadl(slot: 3, 0x10), 0xFFFF_FFE1, "32 I/O ports")
        harness.pciWritel(slot: 3, 0x10, 0xC100)
        harness.pciWritew(slot: 3, 0x04, 0x0001)
        // Slot 3's INTA is PIRQC: route it to IRQ 11.
        harness.pciWriteb(slot: 1, 0x62, 11)
        _ = harness.inb(0xC100 + 0x1F)
        XCTAssertEqual(harness.inb(0xC100 + 0x07) & 0x80, 0x80)
        // ne2k-pci's PROM read: word mode, 32 byte reads, one PROM word each.
        harness.out(0xC100 + 0x00, 0x21); harness.out(0xC100 + 0x0E, 0x49)
        harness.out(0xC100 + 0x0A, 32); harness.out(0xC100 + 0x0B, 0)
        harness.out(0xC100 + 0x08, 0); harness.out(0xC100 + 0x09, 0)
        harness.out(0xC100 + 0x00, 0x0A)
        let prom = (0..<32).map { _ in harness.inb(0xC100 + 0x10) }
        XCTAssertEqual(Array(prom[0..<6]), NE2000Tests.mac)
        XCTAssertEqual(prom[14], 0x57)
        harness.out(0xC100 + 0x0F, 0x01)  // IMR: packet received
        harness.out(0xC100 + 0x07, 0xFF)
        nic.chip.reset()
        harness.out(0xC100 + 0x00, 0x21)
        harness.out(0xC100 + 0x01, 0x46); harness.out(0xC100 + 0x02, 0x80); harness.out(0xC100 + 0x03, 0x7F)
        harness.out(0xC100 + 0x00, 0x61); harness.out(0xC100 + 0x07, 0x46)
        harness.out(0xC100 + 0x00, 0x22); harness.out(0xC100 + 0x0C, 0x04); harness.out(0xC100 + 0x0F, 0x01)
        XCTAssertEqual(nic.chip.receive([UInt8](repeating: 0xFF, count: 6) + [UInt8](repeating: 0, count: 54)), .stored)
        XCTAssertEqual(irqLevels[11], true)
        harness.out(0xC100 + 0x03, 0x46)  // the driver took the frame
        harness.out(0xC100 + 0x07, 0x01)
        XCTAssertEqual(irqLevels[11], false)
        // BAR moved: the old ports float.
        harness.pciWritel(slot: 3, 0x10, 0xC200)
        XCTAssertEqual(harness.inb(0xC100 + 0x0E), 0xFF)
        XCTAssertEqual(harness.inb(0xC200 + 0x0A), 0x50, "RTL8029 ID 'P'")
    }
}

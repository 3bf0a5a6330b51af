import Memory
import Timing
import XCTest
@testable import Devices

/// The 82540EM driven the way Linux's e1000 driver drives it: the EEPROM
/// bit-banged through EECD, the PHY through MDIC, descriptor rings in guest
/// RAM, interrupt causes read and cleared through ICR.
final class E1000Tests: XCTestCase {
    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
    let scheduler = EventScheduler()
    var ram: GuestRAM!
    var card: E1000!
    var sent: [[UInt8]] = []
    let mac: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]

    // Register offsets as the driver names them.
    let CTRL: UInt32 = 0x0, STATUS: UInt32 = 0x8, EECD: UInt32 = 0x10, EERD: UInt32 = 0x14, MDIC: UInt32 = 0x20
    let ICR: UInt32 = 0xC0, ITR: UInt32 = 0xC4, ICS: UInt32 = 0xC8, IMS: UInt32 = 0xD0, IMC: UInt32 = 0xD8
    let RCTL: UInt32 = 0x100, TCTL: UInt32 = 0x400
    let RDBAL: UInt32 = 0x2800, RDBAH: UInt32 = 0x2804, RDLEN: UInt32 = 0x2808, RDH: UInt32 = 0x2810, RDT: UInt32 = 0x2818
    let TDBAL: UInt32 = 0x3800, TDBAH: UInt32 = 0x3804, TDLEN: UInt32 = 0x3808, TDH: UInt32 = 0x3810, TDT: UInt32 = 0x3818
    let MTA: UInt32 = 0x5200, GPTC: UInt32 = 0x4080, GPRC: UInt32 = 0x4074

    override func setUp() {
        ram = try! GuestRAM(size: 4 << 20)
        let space = AddressSpace(ram: ram)
        _ = try! space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        card = E1000(macAddress: mac, memory: space, memoryWritten: { _, _ in }, clock: clock, scheduler: scheduler)
        card.transmit = { [unowned self] frame in sent.append(frame) }
    }

    func readl(_ offset: UInt32) -> UInt32 { card.registerWindow.read(offset: offset, size: .dword) }
    func writel(_ offset: UInt32, _ value: UInt32) { card.registerWindow.write(offset: offset, value: value, size: .dword) }
    func poke(_ address: Int, _ bytes: [UInt8]) { (ram.base + address).copyMemory(from: bytes, byteCount: bytes.count) }
    func peek(_ address: Int, _ count: Int) -> [UInt8] { [UInt8](UnsafeRawBufferPointer(start: ram.base + address, count: count)) }
    func poke32(_ address: Int, _ value: UInt32) { ram.base.storeBytes(of: value, toByteOffset: address, as: UInt32.self) }

    func testPCIIdentityAndBARs() {
        XCTAssertEqual(card.configWord(PCIConfig.vendorID), 0x8086)
        XCTAssertEqual(card.configWord(PCIConfig.deviceID), 0x100E)
        XCTAssertEqual(card.barInfo(0)?.size, 0x20000)
        XCTAssertEqual(card.barInfo(0)?.kind, .memory32(prefetchable: false))
        XCTAssertEqual(card.barInfo(1)?.kind, .io)
        XCTAssertEqual(readl(STATUS) & 0x83, 0x83, "link up, full duplex, 1000 Mb/s")
    }

    /// e1000_read_eeprom for Microwire: request and grant, chip select, the
    /// READ opcode (110) and six address bits out on DI, 16 bits in on DO.
    func readEEPROMWord(_ address: Int) -> UInt16 {
        let SK: UInt32 = 1, CS: UInt32 = 2, DI: UInt32 = 4, DO: UInt32 = 8, REQ: UInt32 = 0x40, GNT: UInt32 = 0x80
        writel(EECD, REQ)
        XCTAssertNotEqual(readl(EECD) & GNT, 0)
        writel(EECD, REQ | CS)
        func shiftOut(_ value: Int, bits: Int) {
            for bit in (0..<bits).reversed() {
                let data = (value >> bit) & 1 != 0 ? DI : 0
                writel(EECD, REQ | CS | data)
                writel(EECD, REQ | CS | data | SK)
                writel(EECD, REQ | CS | data)
            }
        }
        shiftOut(0b110, bits: 3)
        shiftOut(address, bits: 6)
        var word: UInt16 = 0
        for _ in 0..<16 {
            writel(EECD, REQ | CS | SK)
            word = word << 1 | (readl(EECD) & DO != 0 ? 1 : 0)
            writel(EECD, REQ | CS)
        }
        writel(EECD, 0)  // release
        return word
    }

    func testEEPROMHoldsTheMACAndAValidChecksum() {
        let words = (0..<64).map(readEEPROMWord)
        XCTAssertEqual(words[0], 0x5452)
        XCTAssertEqual(words[1], 0x1200)
        XCTAssertEqual(words[2], 0x5634)
        XCTAssertEqual(words.reduce(UInt16(0), &+), 0xBABA, "e1000_validate_eeprom_checksum")
        // EERD reads the same word in one step.
        writel(EERD, 2 << 8 | 1)
        XCTAssertEqual(readl(EERD) & 0x10, 0x10)
        XCTAssertEqual(readl(EERD) >> 16, 0x5634)
    }

    func testPHYThroughMDIC() {
        func phyRead(_ register: UInt32, phy: UInt32 = 1) -> UInt32 {
            writel(MDIC, register << 16 | phy << 21 | 1 << 27)
            return readl(MDIC)
        }
        XCTAssertEqual(phyRead(2) & 0xFFFF, 0x0141)
        XCTAssertEqual(phyRead(3) & 0xFFFF, 0x0C20, "M88E1011")
        XCTAssertNotEqual(phyRead(1) & 0x24, 0, "link up, auto-negotiation complete")
        XCTAssertNotEqual(phyRead(1) & (1 << 28), 0, "ready")
        XCTAssertNotEqual(phyRead(2, phy: 2) & (1 << 30), 0, "no PHY at address 2")
        // A write is kept; a reset brings back the defaults.
        writel(MDIC, 0x10 << 16 | 1 << 21 | 1 << 26 | 0x0808)
        XCTAssertEqual(phyRead(0x10) & 0xFFFF, 0x0808)
        writel(MDIC, 0 << 16 | 1 << 21 | 1 << 26 | 0x8000)
        XCTAssertEqual(phyRead(0x10) & 0xFFFF, 0x0068)
    }

    /// A transmit ring at 0x10000 of `count` descriptors, enabled.
    func setUpTransmitRing(count: UInt32 = 8) {
        writel(TDBAL, 0x10000)
        writel(TDBAH, 0)
        writel(TDLEN, count * 16)
        writel(TDH, 0)
        writel(TDT, 0)
        writel(TCTL, 1 << 1)
    }

    func descriptor(buffer: UInt32, lower: UInt32, upper: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in [buffer, 0, lower, upper] { bytes += withUnsafeBytes(of: value.littleEndian, Array.init) }
        return bytes
    }

    func testLegacyTransmitWithChecksumInsertionAndInterrupt() {
        setUpTransmitRing()
        writel(IMS, 0x3)  // TXDW, TXQE
        var frame = [UInt8](repeating: 0, count: 60)
        frame[0..<6] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        for i in 14..<60 { frame[i] = UInt8(i) }
        frame[40] = 0; frame[41] = 0  // the field starts at 0, as the driver leaves it
        poke(0x20000, frame)
        // EOP | IFCS | IC | RS; checksum at 40, over 20...end.
        poke(0x10000, descriptor(buffer: 0x20000, lower: 60 | 40 << 16 | 0x0F << 24, upper: 20 << 8))
        writel(TDT, 1)
        XCTAssertEqual(sent.count, 1)
        XCTAssertEqual(readl(TDH), 1)
        XCTAssertEqual(peek(0x10000 + 12, 1)[0] & 1, 1, "DD written back")
        let checksum = E1000Offload.onesComplementSum(sent[0], from: 20, through: 59)
        XCTAssertEqual(checksum, 0xFFFF, "the inserted checksum makes the sum all ones")
        XCTAssertTrue(card.interruptLevel)
        XCTAssertEqual(readl(ICR) & 0x3, 0x3)
        XCTAssertFalse(card.interruptLevel, "reading ICR clears it")
        XCTAssertEqual(readl(GPTC), 1)
        XCTAssertEqual(readl(GPTC), 0, "statistics clear on read")
    }

    /// Linux's e1000_tso: a context descriptor (IP and TCP checksum offsets, MSS,
    /// header length), then data descriptors with TSE, IXSM and TXSM.
    func testTCPSegmentationCutsOneFrameIntoMSSSizedSegments() {
        setUpTransmitRing()
        var header = [UInt8](repeating: 0, count: 54)
        header[0..<6] = [0x52, 0x55, 0x0A, 0x00, 0x02, 0x02]
        header[6..<12] = ArraySlice(mac)
        header[12] = 0x08  // IPv4
        header[14] = 0x45
        header[18] = 0x12; header[19] = 0x34  // identification
        header[22] = 64; header[23] = 6  // TTL, TCP
        header[26..<30] = [10, 0, 2, 15]; header[30..<34] = [10, 0, 2, 2]
        header[38..<42] = [0, 0, 0x10, 0x00]  // sequence 0x1000
        header[46] = 0x50; header[47] = 0x18  // data offset 5, PSH|ACK
        // The driver leaves the pseudo-header sum without the length in the TCP checksum field.
        var pseudo: UInt32 = 0x0A00 + 0x020F + 0x0A00 + 0x0202 + 6
        while pseudo > 0xFFFF { pseudo = (pseudo & 0xFFFF) + (pseudo >> 16) }
        header[50] = UInt8(pseudo >> 8); header[51] = UInt8(pseudo & 0xFF)
        let payload = (0..<2500).map { UInt8(truncatingIfNeeded: $0 * 7) }
        poke(0x20000, header)
        poke(0x21000, payload)
        // Context: IPCSS 14, IPCSO 24, IPCSE 33; TUCSS 34, TUCSO 50; PAYLEN; TCP|IP|TSE|DEXT|RS; HDRLEN 54, MSS 1000.
        let context = descriptor(buffer: 14 | 24 << 8 | 33 << 16, lower: 2500 | 0x2F << 24, upper: 54 << 8 | 1000 << 16)
        // Its second half holds TUCSS/TUCSO: the descriptor's bytes 4-7.
        var contextBytes = context
        contextBytes[4] = 34; contextBytes[5] = 50
        let dataType: UInt32 = 1 << 20
        let headerData = descriptor(buffer: 0x20000, lower: 54 | dataType | 0x24 << 24, upper: 0x3 << 8)
        let payloadData = descriptor(buffer: 0x21000, lower: 2500 | dataType | 0x2D << 24, upper: 0x3 << 8)
        poke(0x10000, contextBytes)
        poke(0x10010, headerData)
        poke(0x10020, payloadData)
        writel(TDT, 3)
        XCTAssertEqual(sent.map(\.count), [1054, 1054, 554])
        var received: [UInt8] = []
        for (index, segment) in sent.enumerated() {
            XCTAssertEqual(Int(segment[16]) << 8 | Int(segment[17]), segment.count - 14, "IP total length")
            XCTAssertEqual(Int(segment[18]) << 8 | Int(segment[19]), 0x1234 + index, "IP identification")
            XCTAssertEqual(E1000Offload.onesComplementSum(segment, from: 14, through: 33), 0xFFFF, "IP header checksum")
            let sequence = Int(segment[40]) << 8 | Int(segment[41])
            XCTAssertEqual(sequence, 0x1000 + index * 1000)
            XCTAssertEqual(segment[47] & 0x08 != 0, index == 2, "PSH on the last segment only")
            // The TCP checksum with the full pseudo header.
            let tcpLength = UInt32(segment.count - 34)
            XCTAssertEqual(E1000Offload.onesComplementSum(segment, from: 34, through: segment.count - 1,
                                                          initial: 0x0A00 + 0x020F + 0x0A00 + 0x0202 + 6 + tcpLength), 0xFFFF)
            received += segment[54...]
        }
        XCTAssertEqual(received, payload)
    }

    /// A receive ring at 0x30000: eight descriptors with 2 KiB buffers from 0x40000.
    func setUpReceiveRing() {
        for index in 0..<8 { poke32(0x30000 + index * 16, UInt32(0x40000 + index * 0x800)) }
        writel(RDBAL, 0x30000)
        writel(RDBAH, 0)
        writel(RDLEN, 8 * 16)
        writel(RDH, 0)
        writel(RDT, 7)
        // EN | BAM | SECRC, 2 KiB buffers.
        writel(RCTL, 1 << 1 | 1 << 15 | 1 << 26)
        writel(IMS, 0x80 | 0x40 | 0x10)
    }

    func testReceiveFiltersAndFillsTheRing() {
        setUpReceiveRing()
        var frame = [UInt8](repeating: 0xAB, count: 100)
        frame[0..<6] = ArraySlice(mac)
        XCTAssertEqual(card.receive(frame), .stored)
        XCTAssertEqual(peek(0x40000, 100), frame)
        XCTAssertEqual(peek(0x30008, 2), [100, 0], "length")
        XCTAssertEqual(peek(0x3000C, 1)[0] & 0x3, 0x3, "DD | EOP")
        XCTAssertEqual(readl(RDH), 1)
        XCTAssertTrue(card.interruptLevel)
        XCTAssertEqual(readl(ICR) & 0x80, 0x80, "RXT0")
        // Another station's frame is filtered; a broadcast gets in.
        var other = frame
        other[5] = 0x99
        XCTAssertEqual(card.receive(other), .filtered)
        var broadcast = frame
        broadcast[0..<6] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        XCTAssertEqual(card.receive(broadcast), .stored)
        // A multicast address gets in once its hash bit is set (RCTL.MO 0: bits 47:36).
        var multicast = frame
        multicast[0..<6] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB]
        XCTAssertEqual(card.receive(multicast), .filtered)
        let hash = (UInt32(0xFB) << 4 | UInt32(0x00) >> 4) & 0xFFF
        writel(MTA + (hash >> 5) * 4, 1 << (hash & 31))
        XCTAssertEqual(card.receive(multicast), .stored)
        // The ring holds seven; the fifth to eighth frames fill it, then there is no room.
        for _ in 0..<4 { XCTAssertEqual(card.receive(frame), .stored) }
        XCTAssertEqual(card.receive(frame), .noRoom)
        XCTAssertEqual(readl(ICR) & 0x50, 0x50, "RXO and RXDMT0")
        XCTAssertEqual(readl(GPRC), 7)
    }

    func testInterruptModerationDelaysTheNextRise() {
        writel(ITR, 1000)  // 256 µs
        writel(IMS, 0x4)
        writel(ICS, 0x4)
        XCTAssertTrue(card.interruptLevel)
        _ = readl(ICR)
        XCTAssertFalse(card.interruptLevel)
        clock.skip(to: clock.now + 100_000)
        writel(ICS, 0x4)
        XCTAssertFalse(card.interruptLevel, "within the interval")
        clock.skip(to: clock.now + 156_000)
        _ = scheduler.runExpired(now: clock.now)
        XCTAssertTrue(card.interruptLevel)
        // IMC masks it again.
        writel(IMC, 0x4)
        XCTAssertFalse(card.interruptLevel)
    }

    /// Addresses and lengths from the guest that lead nowhere: nothing breaks.
    func testNonsenseRingsAreHarmless() {
        writel(TDBAL, 0xFFFF_FFF0)
        writel(TDLEN, 0xFFFF_FFFF)
        writel(TDT, 0xFFFF)
        writel(TCTL, 1 << 1)
        poke(0x10000, descriptor(buffer: 0xFFFF_F000, lower: 0xFFFF | 0x09 << 24, upper: 0))
        setUpTransmitRing()
        writel(TDT, 1)
        XCTAssertEqual(sent.count, 1, "a frame gathered from beyond RAM reads as all ones")
        writel(RDBAH, 1)
        XCTAssertEqual(card.receive([UInt8](repeating: 0xFF, count: 60)), .noRoom, "a ring above 4 GiB is not used")
    }
}

import Foundation
import Memory
import Timing
import XCTest
@testable import Devices

/// The 82540EM programmed with garbage: random descriptor rings, rings and
/// buffers outside RAM or over the card's own registers, absurd lengths and
/// offload contexts, head and tail nonsense. The card must not crash, must
/// finish every register access quickly (no hang), and must give the guest
/// nothing but guest memory: buffers outside RAM read as the bus's all-ones.
final class E1000FuzzTests: XCTestCase {
    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
    let scheduler = EventScheduler()
    static let ramSize = 1 << 20
    /// Where the card's own registers sit in the address space, so a descriptor can point at them.
    static let registerBase: UInt32 = 0xFEBC_0000
    var ram: GuestRAM!
    var space: AddressSpace!
    var card: E1000!
    var sent: [[UInt8]] = []
    var generator = FuzzRandom(seed: 0x5EED_E100)

    let RCTL: UInt32 = 0x100, TCTL: UInt32 = 0x400, ICR: UInt32 = 0xC0, IMS: UInt32 = 0xD0, ITR: UInt32 = 0xC4
    let RDBAL: UInt32 = 0x2800, RDBAH: UInt32 = 0x2804, RDLEN: UInt32 = 0x2808, RDH: UInt32 = 0x2810, RDT: UInt32 = 0x2818
    let TDBAL: UInt32 = 0x3800, TDBAH: UInt32 = 0x3804, TDLEN: UInt32 = 0x3808, TDH: UInt32 = 0x3810, TDT: UInt32 = 0x3818

    override func setUpWithError() throws {
        ram = try GuestRAM(size: E1000FuzzTests.ramSize)
        space = AddressSpace(ram: ram)
        _ = try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        card = E1000(macAddress: [0x52, 0x54, 0, 0x12, 0x34, 0x56], memory: space, memoryWritten: { _, _ in },
                     clock: clock, scheduler: scheduler)
        _ = try space.map("e1000", at: UInt64(E1000FuzzTests.registerBase), size: UInt64(E1000.registerBytes),
                          kind: .mmio(card.registerWindow))
        card.transmit = { [unowned self] frame in sent.append(frame) }
        card.receiveSpaceFreed = { [unowned self] in _ = card.receive(randomFrame()) }
    }

    func writel(_ offset: UInt32, _ value: UInt32) { card.registerWindow.write(offset: offset, value: value, size: .dword) }
    func readl(_ offset: UInt32) -> UInt32 { card.registerWindow.read(offset: offset, size: .dword) }

    func random(_ bound: Int) -> Int { Int(generator.next() % UInt64(bound)) }
    func random32() -> UInt32 { UInt32(truncatingIfNeeded: generator.next()) }

    func randomFrame() -> [UInt8] {
        var frame = (0..<(random(2) == 0 ? random(80) : random(9000))).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        if frame.count >= 6, random(2) == 0 { frame.replaceSubrange(0..<6, with: [UInt8](repeating: 0xFF, count: 6)) }
        return frame
    }

    /// An address a guest might give: in RAM, near its end, past it, over the
    /// card's registers, in the high hole, or anything.
    func randomAddress() -> UInt32 {
        switch random(6) {
        case 0: return UInt32(random(E1000FuzzTests.ramSize))
        case 1: return UInt32(E1000FuzzTests.ramSize - random(64))
        case 2: return UInt32(E1000FuzzTests.ramSize + random(1 << 24))
        case 3: return E1000FuzzTests.registerBase + UInt32(random(Int(E1000.registerBytes)))
        case 4: return 0xFFFF_FFFF - UInt32(random(4096))
        default: return random32()
        }
    }

    func fillRAMRandomly() {
        for offset in stride(from: 0, to: E1000FuzzTests.ramSize, by: 8) {
            ram.base.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self)
        }
    }

    /// A descriptor of random shape: legacy, context or data, with random
    /// command bits, lengths from nothing to absurd and a random buffer.
    func randomDescriptor() -> [UInt8] {
        let address = UInt64(randomAddress()) | (random(8) == 0 ? UInt64(random32()) << 32 : 0)
        let length = [0, 1, 13, 60, 1514, 0xFFFF, 0xF_FFFF, random(0x1_0000)][random(8)]
        let command = UInt32(random(256))
        let type = UInt32(random(3) == 0 ? 0 : 1)
        var lower = UInt32(length & 0xF_FFFF) | type << 20 | command << 24
        if random(3) == 0 { lower = random32() }
        let upper: UInt32 = random(2) == 0 ? random32() : UInt32(random(256)) << 8 | UInt32([0, 1, 8, 536, 0xFFFF][random(5)]) << 16
        var bytes: [UInt8] = []
        for value in [UInt32(truncatingIfNeeded: address), UInt32(address >> 32), lower, upper] {
            bytes += (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }
        return bytes
    }

    func writeRandomRing(at base: UInt32, descriptors: Int) {
        for index in 0..<descriptors {
            let address = base &+ UInt32(index * 16)
            guard Int(address) + 16 <= E1000FuzzTests.ramSize else { return }
            let bytes = randomDescriptor()
            (ram.base + Int(address)).copyMemory(from: bytes, byteCount: 16)
        }
    }

    /// One random thing a broken driver might do to the registers.
    func randomRegisterWrite() {
        let ringBase = randomAddress() & ~0xF
        switch random(12) {
        case 0: writel(TDBAL, ringBase); writeRandomRing(at: ringBase, descriptors: 64)
        case 1: writel(RDBAL, ringBase); writeRandomRing(at: ringBase, descriptors: 64)
        case 2: writel(TDLEN, [0, 128, 4096, 0xFFFF_FFFF, random32()][random(5)])
        case 3: writel(RDLEN, [0, 128, 4096, 0xFFFF_FFFF, random32()][random(5)])
        case 4: writel(TDH, random(2) == 0 ? UInt32(random(300)) : random32())
        case 5: writel(RDH, random(2) == 0 ? UInt32(random(300)) : random32())
        case 6: writel(TDT, random(2) == 0 ? UInt32(random(300)) : random32())
        case 7: writel(RDT, random(2) == 0 ? UInt32(random(300)) : random32())
        case 8: writel(TCTL, random32() | (random(2) == 0 ? 2 : 0))
        case 9: writel(RCTL, random32() | (random(2) == 0 ? 2 : 0))
        case 10: writel([TDBAH, RDBAH, ITR, IMS][random(4)], random(2) == 0 ? 0 : random32())
        default: _ = card.receive(randomFrame())
        }
    }

    /// Thousands of random register writes over random rings; each one must
    /// return quickly, and everything sent must be a frame TSO could make.
    func testRandomProgrammingNeverCrashesOrHangs() {
        var slowest = 0.0
        for round in 0..<40 {
            fillRAMRandomly()
            writel(0, 1 << 26)  // CTRL.RST between rounds, as a driver's reset does
            writel(TCTL, 2)
            writel(RCTL, 2 | 1 << 15)
            for _ in 0..<250 {
                let start = Date()
                randomRegisterWrite()
                _ = readl(ICR)
                // A millisecond of guest time: moderation and continuation timers run.
                clock.advance(instructions: 1_000_000)
                _ = scheduler.runExpired(now: clock.now)
                slowest = max(slowest, Date().timeIntervalSince(start))
                XCTAssertLessThan(readl(TDH), max(1, readl(TDLEN) / 16) + 0x10000, "round \(round)")
            }
            for frame in sent { XCTAssertTrue((14...0x10000).contains(frame.count), "frame of \(frame.count) bytes") }
            sent.removeAll()
        }
        XCTAssertLessThan(slowest, 2.0, "one register write took \(slowest) s")
    }

    /// Buffers outside RAM read as the bus's all-ones, never host memory.
    func testBuffersOutsideRAMGiveAllOnes() {
        let ring: UInt32 = 0x1000
        for (index, address) in [UInt32(E1000FuzzTests.ramSize), 0xFFFF_F000, 0x8000_0000].enumerated() {
            var descriptor = [UInt8](repeating: 0, count: 16)
            for i in 0..<4 { descriptor[i] = UInt8(truncatingIfNeeded: address >> (8 * UInt32(i))) }
            descriptor[8] = 0x00; descriptor[9] = 0x02  // 512 bytes
            descriptor[11] = 0x01 | 0x08  // EOP, RS
            (ram.base + Int(ring) + index * 16).copyMemory(from: descriptor, byteCount: 16)
        }
        writel(TDBAL, ring)
        writel(TDLEN, 128)
        writel(TCTL, 2)
        writel(TDT, 3)
        XCTAssertEqual(sent.count, 3)
        for frame in sent { XCTAssertEqual(frame, [UInt8](repeating: 0xFF, count: 512)) }
        XCTAssertEqual(readl(TDH), 3)
    }

    /// A buffer that runs past RAM's end: the part inside is RAM, the rest all-ones.
    func testBufferStraddlingTheEndOfRAM() {
        let ring: UInt32 = 0x1000, buffer = UInt32(E1000FuzzTests.ramSize - 100)
        (ram.base + Int(buffer)).initializeMemory(as: UInt8.self, repeating: 0x5A, count: 100)
        var descriptor = [UInt8](repeating: 0, count: 16)
        for i in 0..<4 { descriptor[i] = UInt8(truncatingIfNeeded: buffer >> (8 * UInt32(i))) }
        descriptor[8] = 200
        descriptor[11] = 0x01
        (ram.base + Int(ring)).copyMemory(from: descriptor, byteCount: 16)
        writel(TDBAL, ring); writel(TDLEN, 128); writel(TCTL, 2); writel(TDT, 1)
        XCTAssertEqual(sent.first, [UInt8](repeating: 0x5A, count: 100) + [UInt8](repeating: 0xFF, count: 100))
    }

    /// The write-back of a descriptor landing on the card's own TDT: no
    /// recursion into the ring, and the ring still ends.
    func testDescriptorWriteBackIntoTheCardsOwnRegisters() {
        // A 16-descriptor ring placed so descriptor 1's status byte (offset 12) is TDT's low byte.
        let ringBase = E1000FuzzTests.registerBase + TDT - 16 - 12
        writel(TDBAL, ringBase)
        writel(TDLEN, 256)
        writel(TCTL, 2)
        writel(TDT, 5)
        XCTAssertLessThan(readl(TDH), 16)
        // The receive ring over the registers too: frames go nowhere outside RAM.
        writel(RDBAL, E1000FuzzTests.registerBase + RDT - 16 * 2)
        writel(RDLEN, 128)
        writel(RDH, 0)
        writel(RCTL, 2 | 1 << 15 | 1 << 3)
        writel(RDT, 7)
        let start = Date()
        for _ in 0..<100 { _ = card.receive([UInt8](repeating: 0xFF, count: 1514)) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.0)
        XCTAssertLessThan(readl(RDH), 8)
    }

    /// TSO with a one-byte MSS over 64 KiB, on every descriptor of a large ring: bounded work.
    func testAbsurdSegmentationIsBounded() {
        let ring: UInt32 = 0x10000, buffer: UInt32 = 0x40000
        // Context: IPv4 TCP TSO, header 54, MSS 1.
        var context = [UInt8](repeating: 0, count: 16)
        context[0] = 14; context[1] = 24  // IPCSS, IPCSO
        context[4] = 34; context[5] = 50  // TUCSS, TUCSO
        context[8] = 0xFF; context[9] = 0xFF  // PAYLEN
        context[11] = 0x20 | 0x04 | 0x02 | 0x01 | 0x08  // DEXT, TSE, IP, TCP (TUCMD bits in the command byte), RS
        context[13] = 54; context[14] = 1; context[15] = 0  // HDRLEN 54, MSS 1
        (ram.base + Int(ring)).copyMemory(from: context, byteCount: 16)
        let descriptors = 4096
        for index in 1..<descriptors {
            var data = [UInt8](repeating: 0, count: 16)
            for i in 0..<4 { data[i] = UInt8(truncatingIfNeeded: buffer >> (8 * UInt32(i))) }
            data[8] = 0xFF; data[9] = 0xFF; data[10] = 0x10  // 64 KiB, DTYP 1
            data[11] = 0x20 | 0x04 | 0x01  // DEXT, TSE, EOP
            (ram.base + Int(ring) + index * 16).copyMemory(from: data, byteCount: 16)
        }
        writel(TDBAL, ring)
        writel(TDLEN, UInt32(descriptors * 16))
        writel(TCTL, 2)
        let start = Date()
        writel(TDT, UInt32(descriptors - 1))
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.0, "one TDT write")
        XCTAssertLessThan(sent.count, 1 << 20)
    }
}

/// A small deterministic generator (SplitMix64), so a failure can be replayed.
struct FuzzRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

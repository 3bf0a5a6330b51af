import Foundation
import Memory
import Timing
import XCTest
@testable import Devices

/// A guest programming the xHCI controller with garbage: random register
/// writes, rings of random TRBs with pointers inside and outside RAM (and
/// past 4 GiB), segment tables and contexts of garbage, rings placed over
/// the controller's own registers, Link TRBs that point at themselves. The
/// controller must neither crash nor hang, write nothing past the guest's
/// physical address space, and bound its work per doorbell.
final class XHCIFuzzTests: XCTestCase {
    typealias Generator = UHCIFuzzTests.Generator

    /// 1 MiB of RAM, the controller's window mapped at `window`.
    static let ramSize = 1 << 20
    static let window: UInt32 = 0xFEBF_0000

    func makeMachine() throws -> (GuestRAM, AddressSpace, VirtualClock, EventScheduler) {
        let ram = try GuestRAM(size: XHCIFuzzTests.ramSize)
        let space = AddressSpace(ram: ram)
        _ = try space.map("ram", at: 0, size: UInt64(XHCIFuzzTests.ramSize), kind: .ram(offset: 0))
        return (ram, space, VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)), EventScheduler())
    }

    func testRandomRingsAndRegistersNeitherCrashNorHang() throws {
        let (ram, space, clock, scheduler) = try makeMachine()
        var writesPastTheSpace = 0
        var outsideRAM = 0
        let controller = XHCI(memory: space, memoryWritten: { address, length in
            if address + UInt64(length) > AddressSpace.physicalLimit { writesPastTheSpace += 1 }
            if UInt64(address) + UInt64(length) > UInt64(XHCIFuzzTests.ramSize) { outsideRAM += 1 }
        }, clock: clock, scheduler: scheduler)
        controller.configWrite(offset: PCIConfig.command, value: UInt32(PCICommand.memorySpace | PCICommand.busMaster), size: .word)
        _ = try space.map("xhci", at: UInt64(XHCIFuzzTests.window), size: UInt64(XHCI.registerBytes),
                          kind: .mmio(controller.registerWindow))
        let tablet = USBTablet(), keyboard = USBKeyboard(), mouse = USBMouse()
        controller.attach(tablet, port: 0)
        controller.attach(keyboard, port: 1)
        controller.attach(mouse, port: 3)
        let window = controller.registerWindow
        var random = Generator(state: 0x0C_0330)

        /// Pointers: mostly 16-byte aligned into the first 64 KiB (so rings,
        /// contexts and buffers meet), some anywhere in 64 bits, some at the window.
        func randomPointer() -> UInt64 {
            switch random.next() % 10 {
            case 0: return random.next()
            case 1: return UInt64(UInt32.random(in: 0...UInt32.max, using: &random))
            case 2: return UInt64(XHCIFuzzTests.window) + UInt64.random(in: 0..<0x4000, using: &random) & ~0xF
            default: return UInt64.random(in: 0..<0x10000, using: &random) & ~0xF
            }
        }
        func randomTRB(at offset: Int) {
            let type = random.next() % 4 == 0 ? UInt32.random(in: 0...63, using: &random) : UInt32.random(in: 1...23, using: &random)
            let length = random.next() % 8 == 0 ? UInt32.random(in: 0...UInt32.max, using: &random) : UInt32.random(in: 0...80, using: &random)
            var control = type << 10 | UInt32.random(in: 0...0x3FF, using: &random) | UInt32.random(in: 0...255, using: &random) << 24
            control |= UInt32.random(in: 0...31, using: &random) << 16
            // Often a small slot ID and a real DCI, so commands and transfers find something.
            if random.next() % 2 == 0 { control = control & 0x00E0_FFFF | UInt32.random(in: 1...4, using: &random) << 24 | UInt32.random(in: 1...5, using: &random) << 16 }
            if random.next() % 2 == 0 { control |= 1 }
            var parameter = randomPointer()
            if type == 2 { parameter = random.next() }
            ram.base.storeBytes(of: parameter, toByteOffset: offset, as: UInt64.self)
            ram.base.storeBytes(of: length, toByteOffset: offset + 8, as: UInt32.self)
            ram.base.storeBytes(of: control, toByteOffset: offset + 12, as: UInt32.self)
        }
        /// Garbage over the first 64 KiB: TRBs, and now and then context- and table-shaped words.
        func scribble(_ count: Int) {
            for _ in 0..<count {
                let offset = Int.random(in: 0..<0x1000, using: &random) * 16
                if random.next() % 4 == 0 {
                    ram.base.storeBytes(of: randomPointer(), toByteOffset: offset, as: UInt64.self)
                    ram.base.storeBytes(of: random.next(), toByteOffset: offset + 8, as: UInt64.self)
                } else {
                    randomTRB(at: offset)
                }
            }
        }
        func write(_ offset: UInt32, _ value: UInt32) { window.write(offset: offset, value: value, size: .dword) }
        func write64(_ offset: UInt32, _ value: UInt64) {
            write(offset, UInt32(truncatingIfNeeded: value))
            write(offset + 4, UInt32(truncatingIfNeeded: value >> 32))
        }
        /// Registers worth writing: operational, ports, interrupters, doorbells.
        let interesting: [UInt32] = [0x40, 0x44, 0x58, 0x5C, 0x70, 0x74, 0x78, 0x440, 0x450, 0x470, 0x480,
                                     0x1020, 0x1024, 0x1028, 0x1030, 0x1034, 0x1038, 0x103C, 0x1040, 0x1048, 0x1050]

        func poke32(_ address: Int, _ value: UInt32) { ram.base.storeBytes(of: value, toByteOffset: address, as: UInt32.self) }
        func poke64(_ address: Int, _ value: UInt64) { ram.base.storeBytes(of: value, toByteOffset: address, as: UInt64.self) }
        func trb(_ address: Int, _ parameter: UInt64, _ status: UInt32, _ control: UInt32) {
            poke64(address, parameter)
            poke32(address + 8, status)
            poke32(address + 12, control | 1)
            ram.base.storeBytes(of: UInt64(0), toByteOffset: address + 16, as: UInt64.self)
            ram.base.storeBytes(of: UInt64(0), toByteOffset: address + 24, as: UInt64.self)
        }
        /// A well-formed start, so the garbage that follows meets addressed
        /// and configured slots with running endpoints: rings and contexts in
        /// the first 64 KiB, where `scribble` then writes over them.
        func enumerate() {
            write(0x40, 2)
            write(0x78, 8)
            write64(0x70, 0x8000)
            ram.base.initializeMemory(as: UInt8.self, repeating: 0, count: 0x10000)
            poke64(0x9000, 0xA000)
            poke32(0x9008, 64)
            write(0x1028, 1)
            write64(0x1038, 0xA000)
            write64(0x1030, 0x9000)
            write(0x1020, 2)
            write(0x40, 5)
            write(0x440, 0x210)
            poke64(0x8008, 0xE000)
            poke32(0xC004, 3)
            poke32(0xC024, 1 << 16)
            poke32(0xC044, 64 << 16 | 4 << 3)
            poke64(0xC048, 0xF001)
            trb(0xB000, 0, 0, 9 << 10)
            trb(0xB010, 0xC000, 0, 11 << 10 | 1 << 24)
            write64(0x58, 0xB001)
            write(0x2000, 0)
            trb(0xF000, 0x0001_0900, 8, 2 << 10 | 1 << 6)
            trb(0xF010, 0, 0, 4 << 10 | 1 << 16 | 1 << 5)
            write(0x2004, 1)
            poke32(0xD004, 1 | 1 << 3 | 1 << 5)
            poke32(0xD020, 3 << 27)
            poke32(0xD084, 6 << 16 | 7 << 3)
            poke64(0xD088, 0x7001)
            poke32(0xD0C4, 8 << 16 | 7 << 3)
            poke64(0xD0C8, 0x6001)
            trb(0xB020, 0xD000, 0, 12 << 10 | 1 << 24)
            write(0x2000, 0)
            for index in 0..<8 { trb(0x7000 + 16 * index, 0x5000 + 8 * UInt64(index), 6, 1 << 10 | 1 << 5 | 1 << 2) }
            write(0x2004, 3)
        }

        let started = Date()
        var configured = 0
        for round in 0..<2000 {
            if round % 2 == 0 {
                enumerate()
                if tablet.configuration == 1 { configured += 1 }
            }
            scribble(0x400)
            if round % 2 == 1 {
                // Bring-up with a mix of sane and random pointers.
                write(0x40, 2)
                write(0x78, UInt32.random(in: 0...255, using: &random))
                write64(0x70, randomPointer())
                write64(0x58, randomPointer() | UInt64(random.next() & 1))
                write(0x1028, UInt32.random(in: 0...20, using: &random))
                write64(0x1038, randomPointer())
                write64(0x1030, randomPointer())
                write(0x1020, 2)
                write(0x1024, UInt32.random(in: 0...200, using: &random))
                write(0x40, 5)
                for port in 0..<8 { write(0x440 + 0x10 * UInt32(port), 0x210) }
            }
            for _ in 0..<60 {
                switch random.next() % 6 {
                case 0:
                    let offset = random.next() % 2 == 0 ? interesting[Int(random.next() % UInt64(interesting.count))]
                        : UInt32.random(in: 0..<0x4000, using: &random) & ~3
                    write(offset, UInt32(truncatingIfNeeded: random.next()))
                case 1:
                    window.write(offset: UInt32.random(in: 0..<0x4000, using: &random), value: UInt32(truncatingIfNeeded: random.next()),
                                 size: [.byte, .word][Int(random.next() % 2)])
                case 2:
                    // The handler read some events.
                    write64(0x1038, 0xA000 + 16 * UInt64.random(in: 0..<64, using: &random) | 8)
                default:
                    // Doorbells: the command ring or an endpoint of a small slot.
                    let slot = UInt32.random(in: 0...5, using: &random)
                    write(0x2000 + 4 * slot, slot == 0 ? 0 : UInt32.random(in: 0...32, using: &random))
                }
                _ = window.read(offset: UInt32.random(in: 0..<0x4000, using: &random), size: .dword)
                tablet.pointerChanged(x: Int.random(in: 0...32767, using: &random), y: 7, buttons: [])
                keyboard.keyChanged(usage: Int.random(in: 4...100, using: &random), pressed: random.next() % 2 == 0)
                mouse.moved(dx: 3, dy: -2, wheel: 0, buttons: [])
                scribble(32)
                if window.read(offset: 0x40, size: .dword) & 1 == 0 { write(0x40, 5) }
                clock.skip(to: clock.now + Int64.random(in: 0...2_000_000, using: &random))
                scheduler.runExpired(now: clock.now)
            }
            if round % 50 == 0 { controller.reset() }
        }
        XCTAssertEqual(writesPastTheSpace, 0, "nothing written past the physical address space")
        XCTAssertEqual(configured, 1000, "each well-formed start configured the tablet")
        XCTAssertGreaterThan(controller.trbsProcessed, 50_000, "the garbage was really walked")
        XCTAssertGreaterThan(controller.eventsPosted, 20_000, "and answered")
        XCTAssertGreaterThan(outsideRAM, 0, "some rings pointed outside RAM, to no harm")
        XCTAssertLessThan(Date().timeIntervalSince(started), 60, "bounded work per doorbell")
    }

    /// A command ring of Link TRBs each pointing at itself, and a transfer
    /// ring that links to itself: each doorbell stops at the limit.
    func testSelfLinkedRingsStopAtTheLimit() throws {
        let (ram, space, clock, scheduler) = try makeMachine()
        let controller = XHCI(memory: space, memoryWritten: { _, _ in }, clock: clock, scheduler: scheduler)
        controller.configWrite(offset: PCIConfig.command, value: UInt32(PCICommand.memorySpace | PCICommand.busMaster), size: .word)
        let window = controller.registerWindow
        // A Link TRB at 0x1000 to itself, cycle one, no toggle.
        ram.base.storeBytes(of: UInt64(0x1000), toByteOffset: 0x1000, as: UInt64.self)
        ram.base.storeBytes(of: UInt32(6 << 10 | 1), toByteOffset: 0x100C, as: UInt32.self)
        window.write(offset: 0x58, value: 0x1001, size: .dword)
        window.write(offset: 0x40, value: 1, size: .dword)
        for _ in 0..<10 { window.write(offset: 0x2000, value: 0, size: .dword) }
        XCTAssertEqual(controller.trbsProcessed, 10 * XHCI.maximumCommandTRBs, "each doorbell stops at the limit")
        XCTAssertEqual(controller.eventsPosted, 0)
        // A Link TRB that toggles the cycle onto itself stops the walk at once the second time round.
        ram.base.storeBytes(of: UInt32(6 << 10 | 3), toByteOffset: 0x100C, as: UInt32.self)
        window.write(offset: 0x2000, value: 0, size: .dword)
        XCTAssertEqual(controller.trbsProcessed, 10 * XHCI.maximumCommandTRBs + 1)
    }
}

import Memory
import Timing
import XCTest
@testable import Devices

/// A guest programming the controller with garbage: random frame lists,
/// TDs and QHs, pointers outside RAM, absurd lengths, schedules that loop
/// back on themselves. The controller must neither crash nor hang, must
/// write nothing outside the guest's memory, and must bound its work per frame.
final class UHCIFuzzTests: XCTestCase {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testRandomSchedulesNeitherCrashNorHang() throws {
        let ramSize = 1 << 20
        let ram = try GuestRAM(size: ramSize)
        let space = AddressSpace(ram: ram)
        _ = try space.map("ram", at: 0, size: UInt64(ramSize), kind: .ram(offset: 0))
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        let scheduler = EventScheduler()
        var writesOutside = 0
        let controller = UHCI(memory: space, memoryWritten: { address, length in
            if UInt64(address) + UInt64(length) > UInt64(ramSize) { writesOutside += 1 }
        }, clock: clock, scheduler: scheduler)
        controller.configWrite(offset: PCIConfig.command, value: UInt32(PCICommand.ioSpace | PCICommand.busMaster), size: .word)
        let tablet = USBTablet(), keyboard = USBKeyboard()
        controller.attach(tablet, port: 0)
        controller.attach(keyboard, port: 1)
        let registers = controller.registers
        var random = Generator(state: 0x5EED)

        /// Link pointers: mostly into a small area (so TDs and QHs meet and
        /// loop), some anywhere in 4 GiB, some terminating.
        func randomLink() -> UInt32 {
            switch random.next() % 8 {
            case 0: return UInt32.random(in: 0...UInt32.max, using: &random)
            case 1: return 1
            default: return UInt32.random(in: 0..<0x2000, using: &random) & ~0xF | UInt32.random(in: 0...3, using: &random) << 1
            }
        }
        func randomToken() -> UInt32 {
            // Now and then a PID or a length no TD may have (the controller halts on those).
            let pids: [UInt32] = [0x2D, 0x69, 0xE1, random.next() % 16 == 0 ? UInt32.random(in: 0...255, using: &random) : 0x69]
            let length = random.next() % 16 == 0 ? UInt32.random(in: 0...0x7FF, using: &random)
                : random.next() % 2 == 0 ? UInt32.random(in: 0...0x4FF, using: &random) : UInt32.random(in: 0...16, using: &random)
            return length << 21 | UInt32.random(in: 0...1, using: &random) << 19 | UInt32.random(in: 0...2, using: &random) << 15
                | UInt32.random(in: 0...6, using: &random) << 8 | pids[Int(random.next() % 4)]
        }

        /// TD/QH-shaped garbage with active bits often set, in `count` random slots of the schedule area.
        func scribble(_ count: Int) {
            for _ in 0..<count {
                let slot = Int.random(in: 0..<0x200, using: &random) * 16
                ram.base.storeBytes(of: randomLink(), toByteOffset: slot, as: UInt32.self)
                ram.base.storeBytes(of: random.next() % 3 == 0 ? UInt32.random(in: 0...UInt32.max, using: &random) : randomLink(),
                                    toByteOffset: slot + 4, as: UInt32.self)
                ram.base.storeBytes(of: randomToken(), toByteOffset: slot + 8, as: UInt32.self)
                ram.base.storeBytes(of: random.next() % 4 == 0 ? UInt32.random(in: 0...UInt32.max, using: &random)
                                        : UInt32.random(in: 0..<UInt32(ramSize), using: &random),
                                    toByteOffset: slot + 12, as: UInt32.self)
                if random.next() % 2 == 0 {
                    let control = ram.base.load(fromByteOffset: slot + 4, as: UInt32.self)
                    ram.base.storeBytes(of: control | 1 << 23, toByteOffset: slot + 4, as: UInt32.self)
                }
            }
        }

        let started = Date()
        for round in 0..<1000 {
            scribble(0x400)
            // The frame list: at 0x4000 in RAM, or somewhere outside it.
            let listBase: UInt32 = random.next() % 4 == 0 ? UInt32.random(in: 0...UInt32.max, using: &random) & ~0xFFF : 0x4000
            for entry in 0..<1024 {
                ram.base.storeBytes(of: randomLink(), toByteOffset: 0x4000 + 4 * entry, as: UInt32.self)
            }
            registers.write(offset: 0x08, value: listBase, size: .dword)
            registers.write(offset: 0x04, value: 0xF, size: .word)
            for port: UInt16 in [0x10, 0x12] {
                registers.write(offset: port, value: 0x200, size: .word)
                registers.write(offset: port, value: 0x4, size: .word)
            }
            registers.write(offset: 0x00, value: 0x1, size: .word)
            for _ in 0..<40 {
                // Random register writes now and then, and input to the devices.
                if random.next() % 8 == 0 {
                    registers.write(offset: UInt16.random(in: 0..<32, using: &random), value: UInt32(truncatingIfNeeded: random.next()),
                                    size: [.byte, .word, .dword][Int(random.next() % 3)])
                }
                tablet.pointerChanged(x: Int.random(in: -10...40000, using: &random), y: 5, buttons: [])
                keyboard.keyChanged(usage: Int.random(in: 0...300, using: &random), pressed: random.next() % 2 == 0)
                scribble(64)
                if registers.read(offset: 0x00, size: .word) & 1 == 0 { registers.write(offset: 0x00, value: 0x1, size: .word) }
                clock.skip(to: clock.now + Int64.random(in: 0...40_000_000, using: &random))
                scheduler.runExpired(now: clock.now)
                controller.idleTimer.runIfDue(now: clock.now)
            }
            if round % 10 == 0 { registers.write(offset: 0x00, value: 0x2, size: .word) }  // HCRESET
        }
        XCTAssertEqual(writesOutside, 0, "no DMA write beyond guest RAM reached memory")
        XCTAssertGreaterThan(controller.framesProcessed, 250_000)
        XCTAssertGreaterThan(controller.transactions, 40_000, "the garbage was really walked")
        XCTAssertLessThan(Date().timeIntervalSince(started), 60, "bounded work per frame")
    }
}

extension UHCIFuzzTests {
    /// TDs linked in a ring outside any queue head, all NAKed: the walk
    /// stops at its step limit in each frame.
    func testARingOfWaitingTDsIsCutOffEachFrame() throws {
        let ram = try GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        _ = try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        let scheduler = EventScheduler()
        let controller = UHCI(memory: space, memoryWritten: { _, _ in }, clock: clock, scheduler: scheduler)
        controller.configWrite(offset: PCIConfig.command, value: UInt32(PCICommand.ioSpace | PCICommand.busMaster), size: .word)
        let tablet = USBTablet()
        controller.attach(tablet, port: 0)
        let registers = controller.registers
        registers.write(offset: 0x10, value: 0x4, size: .word)
        // SET_CONFIGURATION straight to the device, so endpoint 1 NAKs rather than stalls.
        let setup = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer { setup.deallocate() }
        USBSetup(requestType: 0, request: 9, value: 1, index: 0, length: 0).bytes.withUnsafeBytes { setup.copyMemory(from: $0) }
        _ = tablet.transaction(.setup, endpoint: 0, buffer: setup)
        _ = tablet.transaction(.input, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: setup[0..<0]))
        XCTAssertEqual(tablet.configuration, 1)
        for frame in 0..<1024 { ram.base.storeBytes(of: UInt32(0x2000), toByteOffset: 0x1000 + 4 * frame, as: UInt32.self) }
        for td in 0..<4 {
            let address = 0x2000 + 16 * td
            ram.base.storeBytes(of: UInt32(0x2000 + 16 * ((td + 1) % 4)), toByteOffset: address, as: UInt32.self)
            ram.base.storeBytes(of: UInt32(1 << 23), toByteOffset: address + 4, as: UInt32.self)
            ram.base.storeBytes(of: UInt32(5) << 21 | 1 << 15 | 0x69, toByteOffset: address + 8, as: UInt32.self)
            ram.base.storeBytes(of: UInt32(0x3000), toByteOffset: address + 12, as: UInt32.self)
        }
        registers.write(offset: 0x08, value: 0x1000, size: .dword)
        registers.write(offset: 0x00, value: 0x1, size: .word)
        for _ in 0..<10 {
            clock.skip(to: clock.now + 1_000_000)
            scheduler.runExpired(now: clock.now)
        }
        XCTAssertEqual(controller.framesProcessed, 11)
        XCTAssertEqual(controller.transactions, 11 * UHCI.maximumStepsPerFrame, "each frame stops at the step limit")
    }
}

import Memory
import Timing
@testable import Devices

/// A port bus, a deterministic clock and a scheduler, with helpers that read
/// like guest code: `out(0x20, 0x11)`, `inb(0x21)`.
final class PortHarness {
    let bus = IOPortBus()
    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
    let scheduler = EventScheduler()

    func out(_ port: UInt16, _ value: UInt8) {
        bus.write(port, value: UInt32(value), size: .byte)
    }

    func inb(_ port: UInt16) -> UInt8 {
        UInt8(truncatingIfNeeded: bus.read(port, size: .byte))
    }

    func outw(_ port: UInt16, _ value: UInt16) {
        bus.write(port, value: UInt32(value), size: .word)
    }

    func inw(_ port: UInt16) -> UInt16 {
        UInt16(truncatingIfNeeded: bus.read(port, size: .word))
    }

    func outl(_ port: UInt16, _ value: UInt32) {
        bus.write(port, value: value, size: .dword)
    }

    func inl(_ port: UInt16) -> UInt32 {
        bus.read(port, size: .dword)
    }

    /// PCI configuration mechanism #1 as SeaBIOS's pci_config_* do it.
    func pciAddress(slot: Int, function: Int, offset: Int, bus: Int = 0) -> UInt32 {
        0x8000_0000 | UInt32(bus) << 16 | UInt32(slot) << 11 | UInt32(function) << 8 | UInt32(offset & 0xFC)
    }

    func pciReadl(slot: Int, function: Int = 0, _ offset: Int) -> UInt32 {
        outl(0xCF8, pciAddress(slot: slot, function: function, offset: offset))
        return inl(0xCFC)
    }

    func pciReadw(slot: Int, function: Int = 0, _ offset: Int) -> UInt16 {
        outl(0xCF8, pciAddress(slot: slot, function: function, offset: offset))
        return inw(0xCFC + UInt16(offset & 2))
    }

    func pciReadb(slot: Int, function: Int = 0, _ offset: Int) -> UInt8 {
        outl(0xCF8, pciAddress(slot: slot, function: function, offset: offset))
        return inb(0xCFC + UInt16(offset & 3))
    }

    func pciWritel(slot: Int, function: Int = 0, _ offset: Int, _ value: UInt32) {
        outl(0xCF8, pciAddress(slot: slot, function: function, offset: offset))
        outl(0xCFC, value)
    }

    func pciWritew(slot: Int, function: Int = 0, _ offset: Int, _ value: UInt16) {
        outl(0xCF8, pciAddress(slot: slot, function: function, offset: offset))
        outw(0xCFC + UInt16(offset & 2), value)
    }

    func pciWriteb(slot: Int, function: Int = 0, _ offset: Int, _ value: UInt8) {
        outl(0xCF8, pciAddress(slot: slot, function: function, offset: offset))
        out(0xCFC + UInt16(offset & 3), value)
    }

    /// Moves guest time to `nanoseconds` and fires every timer due by then, in
    /// deadline order, with the clock at each timer's deadline as it fires.
    func run(until nanoseconds: Int64) {
        while let deadline = scheduler.nextDeadline, deadline <= nanoseconds {
            clock.skip(to: deadline)
            scheduler.runExpired(now: deadline)
        }
        clock.skip(to: nanoseconds)
    }

    /// Moves guest time forward by `nanoseconds`, firing timers on the way.
    func advance(by nanoseconds: Int64) {
        run(until: clock.now + nanoseconds)
    }
}

/// Records every level an interrupt line was driven to.
final class LineProbe {
    private(set) var levels: [Bool] = []
    private(set) var line: InterruptLine!

    init() {
        line = InterruptLine { [unowned self] level in self.levels.append(level) }
    }

    var level: Bool { line.level }
    var risingEdges: Int {
        var count = 0, previous = false
        for level in levels { if level && !previous { count += 1 }; previous = level }
        return count
    }
}

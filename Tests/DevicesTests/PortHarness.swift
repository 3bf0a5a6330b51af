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

/// One interrupt wire from a device to an interrupt controller input. The
/// device drives the level; the controller sees it through `sink`, which is
/// called only when the level actually changes (controllers detect edges
/// themselves, so repeating a level would tell them nothing).
public final class InterruptLine {
    private let sink: (Bool) -> Void
    public private(set) var level = false

    /// `sink` receives each new level; it is fixed when the machine is wired.
    public init(sink: @escaping (Bool) -> Void) {
        self.sink = sink
    }

    /// A wire to input `line` (0-15) of the PIC pair.
    public convenience init(pic: PIC8259, line: Int) {
        self.init { [unowned pic] level in pic.setIRQ(line, level: level) }
    }

    /// A wire going nowhere, for devices whose interrupt is not connected.
    public static func unconnected() -> InterruptLine {
        InterruptLine { _ in }
    }

    @inline(__always)
    public func set(_ newLevel: Bool) {
        guard newLevel != level else { return }
        level = newLevel
        sink(newLevel)
    }

    public func raise() { set(true) }
    public func lower() { set(false) }

    /// A rising edge and back low: what an edge-triggered input latches.
    public func pulse() {
        if level { lower() }
        raise()
        lower()
    }
}

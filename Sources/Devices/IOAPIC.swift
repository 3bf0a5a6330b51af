import Memory
import PCEmuSupport

/// The 82093AA I/O APIC at 0xFEC00000: 24 interrupt inputs, each with a
/// redirection entry (vector, delivery and destination mode, polarity,
/// edge or level trigger, mask, destination), reached through the
/// IOREGSEL index at offset 0x00 and the IOWIN window at 0x10. An edge
/// input sends a message on each active edge; a level input sends one and
/// sets its remote IRR until the local APIC's EOI for that vector comes
/// back, then sends again if the input is still active.
public final class IOAPIC: MMIOHandler {
    public static let defaultBase: UInt32 = 0xFEC0_0000
    public static let pageSize: UInt64 = 0x1000
    public static let pinCount = 24
    /// Version 0x11 (82093AA), maximum redirection entry 23.
    static let versionValue: UInt32 = 0x0017_0011

    enum Offset {
        static let select: UInt32 = 0x00
        static let window: UInt32 = 0x10
    }

    enum Register {
        static let id: UInt32 = 0x00
        static let version: UInt32 = 0x01
        static let arbitration: UInt32 = 0x02
        static let redirectionFirst: UInt32 = 0x10
        static let redirectionLast: UInt32 = 0x10 + 2 * UInt32(IOAPIC.pinCount) - 1
    }

    enum EntryBit {
        static let vector: UInt64 = 0xFF
        static let deliveryModeShift: UInt64 = 8
        static let logicalDestination: UInt64 = 1 << 11
        static let deliveryStatus: UInt64 = 1 << 12
        static let polarityLow: UInt64 = 1 << 13
        static let remoteIRR: UInt64 = 1 << 14
        static let levelTriggered: UInt64 = 1 << 15
        static let masked: UInt64 = 1 << 16
        static let destinationShift: UInt64 = 56
        /// What software may write (delivery status and remote IRR are read-only).
        static let writable: UInt64 = 0xFF00_0000_0001_AFFF
    }

    private let bus: APICBus
    var select: UInt32 = 0
    var id: UInt32 = 0
    var entries = [UInt64](repeating: EntryBit.masked, count: IOAPIC.pinCount)
    /// Each input's level as driven (active high, before the polarity bit).
    var levels = [Bool](repeating: false, count: IOAPIC.pinCount)
    /// Rising edges driven on each input, for the monitor's `info irq`:
    /// statistics, not chip state, so neither reset nor saved.
    public private(set) var raisedCounts = [UInt64](repeating: 0, count: IOAPIC.pinCount)

    public init(bus: APICBus) {
        self.bus = bus
        super.init()
        bus.onEOI { [unowned self] vector in self.endOfInterrupt(vector: vector) }
    }

    /// Every entry masked, edge, vector 0; the inputs keep their levels.
    public func reset() {
        select = 0
        id = 0
        entries = [UInt64](repeating: EntryBit.masked, count: IOAPIC.pinCount)
    }

    /// The redirection entry of `pin`, for tests and the debugger.
    public func entry(_ pin: Int) -> UInt64 { entries[pin] }

    // MARK: inputs

    /// Drives input `pin` (0-23).
    public func setPin(_ pin: Int, level: Bool) {
        guard (0..<IOAPIC.pinCount).contains(pin) else { return }
        let wasActive = isActive(pin)
        if level && !levels[pin] { raisedCounts[pin] &+= 1 }
        levels[pin] = level
        let active = isActive(pin)
        if entries[pin] & EntryBit.levelTriggered != 0 {
            if active { deliver(pin) }
        } else if active && !wasActive {
            deliver(pin)
        }
    }

    /// The input as the entry's polarity reads it.
    private func isActive(_ pin: Int) -> Bool {
        levels[pin] != (entries[pin] & EntryBit.polarityLow != 0)
    }

    /// Sends `pin`'s message unless masked, or (level) while its remote IRR
    /// says the last one has not been EOI'd.
    private func deliver(_ pin: Int) {
        let entry = entries[pin]
        guard entry & EntryBit.masked == 0 else { return }
        let level = entry & EntryBit.levelTriggered != 0
        if level {
            guard entry & EntryBit.remoteIRR == 0 else { return }
            entries[pin] |= EntryBit.remoteIRR
        }
        guard let mode = DeliveryMode(rawValue: UInt32((entry >> EntryBit.deliveryModeShift) & 7)) else {
            Log.write(.guestErrors, "ioapic: pin \(pin) has a reserved delivery mode")
            return
        }
        let message = APICMessage(vector: UInt8(entry & EntryBit.vector), deliveryMode: mode, levelTriggered: level)
        bus.send(message, destination: UInt8(truncatingIfNeeded: entry >> EntryBit.destinationShift),
                 logical: entry & EntryBit.logicalDestination != 0)
    }

    /// A local APIC's EOI of a level-triggered vector: the entries with that
    /// vector lose their remote IRR, and an input still active sends again.
    func endOfInterrupt(vector: UInt8) {
        for pin in 0..<IOAPIC.pinCount where entries[pin] & EntryBit.vector == UInt64(vector)
            && entries[pin] & EntryBit.remoteIRR != 0 {
            entries[pin] &= ~EntryBit.remoteIRR
            if entries[pin] & EntryBit.levelTriggered != 0 && isActive(pin) { deliver(pin) }
        }
    }

    // MARK: registers

    public override func read(offset: UInt32, size: AccessSize) -> UInt32 {
        switch offset & 0xFF {
        case Offset.select: return select & size.mask
        case Offset.window: return readRegister(select) & size.mask
        default: return 0
        }
    }

    public override func write(offset: UInt32, value: UInt32, size: AccessSize) {
        switch offset & 0xFF {
        case Offset.select: select = value & 0xFF
        case Offset.window:
            guard size == .dword else {
                Log.write(.guestErrors, "ioapic: \(size) write to the window ignored")
                return
            }
            writeRegister(select, value)
        default: break
        }
    }

    func readRegister(_ index: UInt32) -> UInt32 {
        switch index {
        case Register.id: return id
        case Register.version: return IOAPIC.versionValue
        case Register.arbitration: return id
        case Register.redirectionFirst...Register.redirectionLast:
            let entry = entries[Int(index - Register.redirectionFirst) / 2]
            return UInt32(truncatingIfNeeded: index & 1 == 0 ? entry : entry >> 32)
        default: return 0
        }
    }

    func writeRegister(_ index: UInt32, _ value: UInt32) {
        switch index {
        case Register.id: id = value & 0x0F00_0000
        case Register.redirectionFirst...Register.redirectionLast:
            let pin = Int(index - Register.redirectionFirst) / 2
            let old = entries[pin]
            let wasActive = isActive(pin)
            let half: UInt64 = index & 1 == 0 ? 0x0000_0000_FFFF_FFFF : 0xFFFF_FFFF_0000_0000
            let shifted = index & 1 == 0 ? UInt64(value) : UInt64(value) << 32
            var new = (old & ~(half & EntryBit.writable)) | (shifted & half & EntryBit.writable)
            // An edge entry has no remote IRR.
            if new & EntryBit.levelTriggered == 0 { new &= ~EntryBit.remoteIRR }
            entries[pin] = new
            // An active level input now unmasked sends at once; so does an
            // edge that a polarity change just made.
            if new & EntryBit.levelTriggered != 0 && isActive(pin) {
                deliver(pin)
            } else if new & EntryBit.levelTriggered == 0 && isActive(pin) && !wasActive {
                deliver(pin)
            }
        default:
            break
        }
    }
}

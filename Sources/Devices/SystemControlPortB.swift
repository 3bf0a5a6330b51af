import Memory
import Timing

/// Port 0x61, "system control port B": counter 2's gate and the speaker
/// enable (written), the DRAM refresh toggle and counter 2's output (read).
public final class SystemControlPortB: PortHandler {
    public static let port: UInt16 = 0x61

    enum Bit {
        static let timer2Gate: UInt8 = 0x01
        static let speakerData: UInt8 = 0x02
        static let parityCheckDisable: UInt8 = 0x04
        static let channelCheckDisable: UInt8 = 0x08
        static let refreshToggle: UInt8 = 0x10
        static let timer2Output: UInt8 = 0x20
        /// The bits the guest can write; the rest are status.
        static let writable: UInt8 = 0x0F
    }

    /// DRAM refresh requests come every 15.085 µs; the bit flips with each.
    static let refreshPeriodNanoseconds: Int64 = 15_085

    struct State {
        var control: UInt8 = 0
    }

    private let pit: PIT8254
    private let clock: VirtualClock
    var state = State()
    /// Called when the speaker is switched on or off (gate 2 and data both set).
    public var speakerChanged: (Bool) -> Void

    public init(pit: PIT8254, clock: VirtualClock, speakerChanged: @escaping (Bool) -> Void = { _ in }) {
        self.pit = pit
        self.clock = clock
        self.speakerChanged = speakerChanged
    }

    public func reset() {
        let wasOn = speakerEnabled
        state = State()
        pit.setGate(ofCounter: 2, false)
        if wasOn { speakerChanged(false) }
    }

    /// The speaker sounds counter 2's output only when both bits are set.
    public var speakerEnabled: Bool {
        state.control & (Bit.timer2Gate | Bit.speakerData) == Bit.timer2Gate | Bit.speakerData
    }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        let refresh = (clock.now / SystemControlPortB.refreshPeriodNanoseconds) & 1 != 0
        return UInt32(state.control | (refresh ? Bit.refreshToggle : 0)
            | (pit.output(ofCounter: 2) ? Bit.timer2Output : 0))
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let wasOn = speakerEnabled
        state.control = UInt8(truncatingIfNeeded: value) & Bit.writable
        pit.setGate(ofCounter: 2, state.control & Bit.timer2Gate != 0)
        if speakerEnabled != wasOn { speakerChanged(speakerEnabled) }
    }
}

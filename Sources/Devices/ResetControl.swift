import Memory
import PCEmuSupport

/// Port 0x92, "system control port A" (the PS/2 fast A20 gate and fast reset).
public final class SystemControlPortA: PortHandler {
    public static let port: UInt16 = 0x92

    enum Bit {
        static let fastReset: UInt8 = 0x01
        static let a20Enable: UInt8 = 0x02
    }

    struct State {
        var value: UInt8 = 0
    }

    var state = State()
    private let setA20: (Bool) -> Void
    private let requestReset: () -> Void

    /// `setA20` gates address line 20; `requestReset` resets the machine (the
    /// CPU thread performs it after the current instruction).
    public init(setA20: @escaping (Bool) -> Void, requestReset: @escaping () -> Void) {
        self.setA20 = setA20
        self.requestReset = requestReset
    }

    public func reset() { state = State() }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        UInt32(state.value)
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        let old = state.value
        state.value = byte
        if (byte ^ old) & Bit.a20Enable != 0 { setA20(byte & Bit.a20Enable != 0) }
        // The reset is triggered by bit 0 going from 0 to 1.
        if byte & Bit.fastReset != 0 && old & Bit.fastReset == 0 {
            Log.write(.cpuReset, "port 0x92: fast reset")
            requestReset()
        }
    }
}

/// Port 0xCF9, the PIIX reset control register: writing with bit 2 set
/// resets the machine (0x06 soft, 0x0E hard; both are a full reset here).
public final class ResetControlRegister: PortHandler {
    public static let port: UInt16 = 0xCF9

    enum Bit {
        static let systemReset: UInt8 = 0x02
        static let resetCPU: UInt8 = 0x04
        static let fullReset: UInt8 = 0x08
        static let stored: UInt8 = systemReset | fullReset
    }

    struct State {
        var value: UInt8 = 0
    }

    var state = State()
    private let requestReset: () -> Void

    public init(requestReset: @escaping () -> Void) {
        self.requestReset = requestReset
    }

    public func reset() { state = State() }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        UInt32(state.value)
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let byte = UInt8(truncatingIfNeeded: value)
        if byte & Bit.resetCPU != 0 {
            Log.write(.cpuReset, "port 0xcf9: reset 0x\(String(byte, radix: 16))")
            requestReset()
            return
        }
        state.value = byte & Bit.stored
    }
}

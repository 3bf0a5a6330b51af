/// The copper PHY behind the e1000's MDIC register: a Marvell 88E1011 at
/// PHY address 1, as Linux's e1000 driver expects on an 82540EM, with the
/// link always up at 1000 Mb/s full duplex once auto-negotiation ran.
public struct E1000PHY {
    public static let address: UInt32 = 1

    enum Register {
        static let control = 0x00, status = 0x01, identifier1 = 0x02, identifier2 = 0x03
        static let advertisement = 0x04, partnerAbility = 0x05, gigabitControl = 0x09, gigabitStatus = 0x0A
        static let specificControl = 0x10, specificStatus = 0x11, extendedSpecificControl = 0x14
    }

    enum Control {
        static let reset: UInt16 = 0x8000
        static let restartAutoNegotiation: UInt16 = 0x0200
    }

    var registers = [UInt16](repeating: 0, count: 32)

    public init() { reset() }

    /// Power-on values: auto-negotiation on, and its result (1000 full duplex, link up).
    public mutating func reset() {
        registers = [UInt16](repeating: 0, count: 32)
        registers[Register.control] = 0x1140
        // 10/100 capable, extended status, preamble suppression, negotiation complete, link up.
        registers[Register.status] = 0x796D
        registers[Register.identifier1] = 0x0141
        registers[Register.identifier2] = 0x0C20
        registers[Register.advertisement] = 0x0DE1
        registers[Register.partnerAbility] = 0x45E1
        registers[Register.gigabitControl] = 0x0E00
        registers[Register.gigabitStatus] = 0x3C00
        registers[Register.specificControl] = 0x0068
        // 1000 Mb/s, full duplex, resolved, link up.
        registers[Register.specificStatus] = 0xAC00
        registers[Register.extendedSpecificControl] = 0x0C60
    }

    public func read(_ register: Int) -> UInt16 { registers[register & 31] }

    public mutating func write(_ register: Int, _ value: UInt16) {
        let index = register & 31
        switch index {
        case Register.control:
            if value & Control.reset != 0 { return reset() }
            // Restart is immediate: the link comes back negotiated.
            registers[index] = value & ~(Control.reset | Control.restartAutoNegotiation)
        case Register.status, Register.identifier1, Register.identifier2, Register.partnerAbility,
             Register.gigabitStatus, Register.specificStatus:
            break  // read-only
        default:
            registers[index] = value
        }
    }
}

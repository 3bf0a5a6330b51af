import PCEmuSupport

/// The root ports' PORTSC registers. A port with a device shows it
/// connected at full speed in the Polling state; a port reset completes at
/// once and enables it in U0. Each change bit going to one writes a Port
/// Status Change Event (while the controller runs) and sets USBSTS.PCD.
extension XHCI {
    public enum PortStatus {
        public static let connected: UInt32 = 1 << 0
        public static let enabled: UInt32 = 1 << 1
        public static let reset: UInt32 = 1 << 4
        static let linkStateShift: UInt32 = 5
        static let linkStateMask: UInt32 = 0xF << 5
        public static let power: UInt32 = 1 << 9
        static let speedShift: UInt32 = 10
        static let indicatorMask: UInt32 = 3 << 14
        static let linkStateWriteStrobe: UInt32 = 1 << 16
        public static let connectChange: UInt32 = 1 << 17
        public static let enableChange: UInt32 = 1 << 18
        public static let warmResetChange: UInt32 = 1 << 19
        public static let overCurrentChange: UInt32 = 1 << 20
        public static let resetChange: UInt32 = 1 << 21
        public static let linkStateChange: UInt32 = 1 << 22
        public static let configErrorChange: UInt32 = 1 << 23
        static let wakeBits: UInt32 = 7 << 25
        static let warmReset: UInt32 = 1 << 31
        static let changeBits: UInt32 = 0x7F << 17
    }

    /// Port link states.
    enum LinkState {
        static let u0: UInt32 = 0
        static let u3: UInt32 = 3
        static let rxDetect: UInt32 = 5
        static let polling: UInt32 = 7
        static let resume: UInt32 = 15
    }

    static let fullSpeed: UInt32 = 1

    static func initialPortStatus(port: Int, connected: Bool) -> UInt32 {
        guard connected else { return PortStatus.power | LinkState.rxDetect << PortStatus.linkStateShift }
        return PortStatus.power | PortStatus.connected | PortStatus.connectChange
            | XHCI.fullSpeed << PortStatus.speedShift | LinkState.polling << PortStatus.linkStateShift
    }

    func writePortStatus(_ port: Int, _ value: UInt32) {
        let old = portStatus[port]
        var new = old & ~(value & PortStatus.changeBits)
        new = new & ~(PortStatus.wakeBits | PortStatus.indicatorMask) | value & (PortStatus.wakeBits | PortStatus.indicatorMask)
        // PED: writing one disables the port.
        if value & PortStatus.enabled != 0 { new &= ~PortStatus.enabled }
        if value & PortStatus.linkStateWriteStrobe != 0 && new & PortStatus.enabled != 0 {
            let state = (value & PortStatus.linkStateMask) >> PortStatus.linkStateShift
            let current = (new & PortStatus.linkStateMask) >> PortStatus.linkStateShift
            switch state {
            case LinkState.u3:
                new = new & ~PortStatus.linkStateMask | LinkState.u3 << PortStatus.linkStateShift
            case LinkState.u0, LinkState.resume:
                // Resume completes at once: back in U0, told by PLC.
                new = new & ~PortStatus.linkStateMask | LinkState.u0 << PortStatus.linkStateShift
                if current == LinkState.u3 { new |= PortStatus.linkStateChange }
            default:
                break
            }
        }
        portStatus[port] = new
        let usb3 = port >= XHCI.usb2Ports
        if value & PortStatus.reset != 0 || (usb3 && value & PortStatus.warmReset != 0) {
            resetPort(port, warm: value & PortStatus.warmReset != 0)
        }
        if portStatus[port] & PortStatus.changeBits & ~old != 0 { portChanged(port) }
    }

    /// A bus reset of the port's device: the port comes out enabled in U0.
    private func resetPort(_ port: Int, warm: Bool) {
        guard let device = devices[port] else { return }
        device.reset()
        var status = portStatus[port] & ~(PortStatus.reset | PortStatus.linkStateMask)
        status |= PortStatus.enabled | PortStatus.resetChange | LinkState.u0 << PortStatus.linkStateShift
        if warm { status |= PortStatus.warmResetChange }
        portStatus[port] = status
    }

    /// A change bit went to one: USBSTS.PCD and a Port Status Change Event.
    func portChanged(_ port: Int) {
        guard isRunning else { return }
        status |= Status.portChange
        guard canWork else { return }
        postEvent(XHCITRB(parameter: UInt64(port + 1) << 24, status: XHCICompletion.success.rawValue << 24,
                          control: XHCITRBType.portStatusChangeEvent << 10))
    }
}

/// `-device usb-mouse`: a relative pointer with three buttons and a wheel,
/// a boot-protocol mouse (BIOSes drive it with three-byte reports).
/// Motion accumulates and goes out in steps of at most 127; each change of
/// the buttons goes out in a report of its own.
public final class USBMouse: USBHIDDevice {
    static let reportBytes = 4

    static let reportDescriptor: [UInt8] = {
        typealias I = HIDItem
        let axes = I.usagePage(I.pageGenericDesktop) + I.usage(I.usageX) + I.usage(I.usageY)
            + I.logicalMinimum(-127) + I.logicalMaximum(127)
            + I.reportSize(8) + I.reportCount(2) + I.input(I.dataVariableRelative)
        return I.usagePage(I.pageGenericDesktop) + I.usage(I.usageMouse) + I.collection(I.collectionApplication)
            + I.usage(I.usagePointer) + I.collection(I.collectionPhysical)
            + I.threeButtons + axes + I.wheel
            + I.endCollection + I.endCollection
    }()

    var dx = 0, dy = 0, wheel = 0
    var buttons = USBPointerButtons()
    /// Buttons as last reported: a change goes out even without motion.
    var reportedButtons = USBPointerButtons()
    /// The host has read the interrupt endpoint since the last bus reset
    /// (the machine then sends relative motion here, not to the PS/2 mouse).
    public internal(set) var polled = false

    public init() {
        super.init(name: "usb-mouse", product: "PCEmu USB Mouse", serial: "PCEMU-MOUSE-1",
                   subclass: USBHIDDevice.subclassBoot, interfaceProtocol: USBHIDDevice.protocolMouse,
                   reportDescriptor: USBMouse.reportDescriptor, reportBytes: USBMouse.reportBytes, interval: 10)
    }

    public override func reset() {
        super.reset()
        dx = 0; dy = 0; wheel = 0
        reportedButtons = buttons
        polled = false
    }

    /// Relative motion (dy positive down the screen), wheel clicks, and the buttons held.
    public func moved(dx: Int, dy: Int, wheel: Int = 0, buttons: USBPointerButtons) {
        if buttons != self.buttons && self.buttons != reportedButtons {
            // The last button change has not gone out: queue it with the motion so
            // far, or a click shorter than the host's polling interval is lost.
            reportedButtons = self.buttons
            enqueue(makeReport())
        }
        // Bounded, so a flood of motion cannot overflow the accumulators.
        self.dx = min(max(self.dx + dx, -1 << 20), 1 << 20)
        self.dy = min(max(self.dy + dy, -1 << 20), 1 << 20)
        self.wheel = min(max(self.wheel + wheel, -1 << 20), 1 << 20)
        self.buttons = buttons
        if self.dx != 0 || self.dy != 0 || self.wheel != 0 || buttons != reportedButtons { dataAvailable() }
    }

    private func take(_ value: inout Int) -> UInt8 {
        let step = min(max(value, -127), 127)
        value -= step
        return UInt8(bitPattern: Int8(step))
    }

    public override func transferData(_ token: USBToken, endpoint: Int, buffer: UnsafeMutableRawBufferPointer) -> USBHandshake {
        if token == .input && endpoint == 1 { polled = true }
        return super.transferData(token, endpoint: endpoint, buffer: buffer)
    }

    override func nextReport() -> [UInt8]? {
        if let queued = super.nextReport() { return queued }
        guard dx != 0 || dy != 0 || wheel != 0 || buttons != reportedButtons else { return nil }
        reportedButtons = buttons
        return makeReport()
    }

    private func makeReport() -> [UInt8] {
        let report = [buttons.rawValue, take(&dx), take(&dy), take(&wheel)]
        // The boot protocol's report stops before the wheel.
        return protocolMode == .boot ? Array(report.prefix(3)) : report
    }

    override func currentReport() -> [UInt8] {
        protocolMode == .boot ? [buttons.rawValue, 0, 0] : [buttons.rawValue, 0, 0, 0]
    }
}

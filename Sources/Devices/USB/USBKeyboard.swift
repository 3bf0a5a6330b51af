/// `-device usb-kbd`: a boot-protocol keyboard. Keys arrive as USB HID
/// usages (page 7, which is how the window reports them); each change is
/// one eight-byte report: the modifier bits, a reserved byte, up to six
/// keys held (all six ErrorRollOver beyond that). The LEDs come back from
/// the host in output reports.
public final class USBKeyboard: USBHIDDevice {
    static let reportBytes = 8
    static let firstModifier = 0xE0, lastModifier = 0xE7
    static let errorRollOver: UInt8 = 0x01
    static let maximumKeys = 6

    static let reportDescriptor: [UInt8] = {
        typealias I = HIDItem
        let modifiers = I.usagePage(I.pageKeyboard) + I.usageMinimum(UInt8(firstModifier)) + I.usageMaximum(UInt8(lastModifier))
            + I.logicalMinimum(0) + I.logicalMaximum(1) + I.reportSize(1) + I.reportCount(8) + I.input(I.dataVariableAbsolute)
        let reserved = I.reportCount(1) + I.reportSize(8) + I.input(I.constant)
        let leds = I.usagePage(I.pageLEDs) + I.usageMinimum(1) + I.usageMaximum(5)
            + I.reportCount(5) + I.reportSize(1) + I.output(I.dataVariableAbsolute)
            + I.reportCount(1) + I.reportSize(3) + I.output(I.constant)
        let keys = I.usagePage(I.pageKeyboard) + I.usageMinimum(0) + I.usageMaximum(0xFF)
            + I.logicalMinimum(0) + I.logicalMaximum16(0xFF) + I.reportCount(UInt8(maximumKeys)) + I.reportSize(8)
            + I.input(I.dataArray)
        return I.usagePage(I.pageGenericDesktop) + I.usage(I.usageKeyboard) + I.collection(I.collectionApplication)
            + modifiers + reserved + leds + keys + I.endCollection
    }()

    /// LEDs as the host last set them: bit 0 Num Lock, 1 Caps Lock, 2 Scroll Lock.
    public internal(set) var leds: UInt8 = 0
    var modifiers: UInt8 = 0
    /// Keys held, in the order pressed.
    var keys: [UInt8] = []

    public init() {
        super.init(name: "usb-kbd", product: "PCEmu USB Keyboard", serial: "PCEMU-KEYBOARD-1",
                   subclass: USBHIDDevice.subclassBoot, interfaceProtocol: USBHIDDevice.protocolKeyboard,
                   reportDescriptor: USBKeyboard.reportDescriptor, reportBytes: USBKeyboard.reportBytes, interval: 10)
    }

    override func currentReport() -> [UInt8] {
        var report: [UInt8] = [modifiers, 0]
        if keys.count > USBKeyboard.maximumKeys {
            report += [UInt8](repeating: USBKeyboard.errorRollOver, count: USBKeyboard.maximumKeys)
        } else {
            report += keys + [UInt8](repeating: 0, count: USBKeyboard.maximumKeys - keys.count)
        }
        return report
    }

    /// A key, by its HID usage, went down or up; usages outside the page's
    /// byte range and repeats of the same state are ignored.
    public func keyChanged(usage: Int, pressed: Bool) {
        guard (1...0xFF).contains(usage) else { return }
        if (USBKeyboard.firstModifier...USBKeyboard.lastModifier).contains(usage) {
            let bit = UInt8(1) << UInt8(usage - USBKeyboard.firstModifier)
            let new = pressed ? modifiers | bit : modifiers & ~bit
            guard new != modifiers else { return }
            modifiers = new
        } else if pressed {
            guard !keys.contains(UInt8(usage)), keys.count < 32 else { return }
            keys.append(UInt8(usage))
        } else {
            guard let index = keys.firstIndex(of: UInt8(usage)) else { return }
            keys.remove(at: index)
        }
        enqueue(currentReport())
    }

    override func outputReport(_ data: [UInt8]) {
        if let first = data.first { leds = first & 0x1F }
    }
}

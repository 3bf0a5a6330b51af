/// `-device usb-tablet`: an absolute pointer. X and Y run from 0 to 32767
/// across the guest's screen whatever its resolution, so the guest's
/// pointer lands where the host's is, with no grab and no acceleration in
/// between. Reports: buttons, X and Y (16 bits each), wheel (the same
/// layout as QEMU's tablet, which guests' generic HID drivers take as is).
public final class USBTablet: USBHIDDevice {
    public static let maximumCoordinate = 32767
    static let reportBytes = 6

    static let reportDescriptor: [UInt8] = {
        typealias I = HIDItem
        let axes = I.usagePage(I.pageGenericDesktop) + I.usage(I.usageX) + I.usage(I.usageY)
            + I.logicalMinimum(0) + I.logicalMaximum16(Int16(maximumCoordinate))
            + I.physicalMinimum(0) + I.physicalMaximum16(Int16(maximumCoordinate))
            + I.reportSize(16) + I.reportCount(2) + I.input(I.dataVariableAbsolute)
        return I.usagePage(I.pageGenericDesktop) + I.usage(I.usageMouse) + I.collection(I.collectionApplication)
            + I.usage(I.usagePointer) + I.collection(I.collectionPhysical)
            + I.threeButtons + axes + I.wheel
            + I.endCollection + I.endCollection
    }()

    var x = 0, y = 0
    var buttons = USBPointerButtons()

    public init() {
        super.init(name: "usb-tablet", product: "PCEmu USB Tablet", serial: "PCEMU-TABLET-1",
                   subclass: USBHIDDevice.subclassNone, interfaceProtocol: USBHIDDevice.protocolNone,
                   reportDescriptor: USBTablet.reportDescriptor, reportBytes: USBTablet.reportBytes, interval: 10)
    }

    private func report(wheel: Int) -> [UInt8] {
        [buttons.rawValue] + le16(UInt16(x)) + le16(UInt16(y)) + [UInt8(bitPattern: Int8(clamping: wheel))]
    }

    override func currentReport() -> [UInt8] { report(wheel: 0) }

    /// The pointer is at (x, y) in 0...32767 with these buttons; `wheel` clicks
    /// turned meanwhile (positive away from the user). A report goes out when
    /// something changed.
    public func pointerChanged(x newX: Int, y newY: Int, buttons newButtons: USBPointerButtons, wheel: Int = 0) {
        let clampedX = min(max(newX, 0), USBTablet.maximumCoordinate)
        let clampedY = min(max(newY, 0), USBTablet.maximumCoordinate)
        guard clampedX != x || clampedY != y || newButtons != buttons || wheel != 0 else { return }
        x = clampedX
        y = clampedY
        buttons = newButtons
        enqueue(report(wheel: wheel))
    }
}

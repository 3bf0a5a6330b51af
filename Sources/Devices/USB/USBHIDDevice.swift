/// A USB human interface device: the HID descriptor and report descriptor,
/// the HID class requests (GET_REPORT, GET/SET_IDLE, GET/SET_PROTOCOL,
/// SET_REPORT) and input reports on interrupt IN endpoint 1, NAKed while
/// there is nothing new. Subclasses say what a report holds.
public class USBHIDDevice: USBDevice {
    enum ClassRequest {
        static let getReport: UInt8 = 0x01
        static let getIdle: UInt8 = 0x02
        static let getProtocol: UInt8 = 0x03
        static let setReport: UInt8 = 0x09
        static let setIdle: UInt8 = 0x0A
        static let setProtocol: UInt8 = 0x0B
    }

    enum ReportType {
        static let input: UInt8 = 1
        static let output: UInt8 = 2
    }

    public enum ProtocolMode: UInt8 {
        case boot = 0
        case report = 1
    }

    static let interfaceClassHID: UInt8 = 3
    static let subclassNone: UInt8 = 0
    static let subclassBoot: UInt8 = 1
    static let protocolNone: UInt8 = 0
    static let protocolKeyboard: UInt8 = 1
    static let protocolMouse: UInt8 = 2
    /// HID 1.11, no country.
    static let hidRelease: UInt16 = 0x0111
    /// QEMU's vendor and product IDs for its HID devices, kept so that what
    /// guests were set up to do with QEMU's tablet, mouse and keyboard
    /// (udev and X rules, Windows's stored driver bindings) applies here.
    static let vendorQEMU: UInt16 = 0x0627
    static let productQEMUHID: UInt16 = 0x0001
    /// How many reports wait for the host before the newest replaces the last.
    static let queueCapacity = 32

    let reportDescriptor: [UInt8]
    public internal(set) var protocolMode = ProtocolMode.report
    /// The idle rate set by the host, in 4 ms units (0: report only on change).
    /// Reports go out on change; an unchanged state is not repeated.
    public internal(set) var idleRate: UInt8 = 0
    /// Reports not yet read by the host, oldest first.
    var queue: [[UInt8]] = []

    init(name: String, product: String, serial: String, subclass: UInt8, interfaceProtocol: UInt8,
         reportDescriptor: [UInt8], reportBytes: Int, interval: UInt8) {
        self.reportDescriptor = reportDescriptor
        let hid: [UInt8] = [9, USBDescriptorType.hid] + le16(USBHIDDevice.hidRelease) + [0, 1, USBDescriptorType.hidReport]
            + le16(UInt16(reportDescriptor.count))
        let descriptors = USBDescriptorSet(
            vendorID: USBHIDDevice.vendorQEMU, productID: USBHIDDevice.productQEMUHID, deviceRelease: 0x0000,
            manufacturer: "PCEmu", product: product, serialNumber: serial,
            interfaceClass: USBHIDDevice.interfaceClassHID, interfaceSubclass: subclass, interfaceProtocol: interfaceProtocol,
            classDescriptor: hid, endpointAddress: 0x81, endpointMaxPacket: UInt16(reportBytes), endpointInterval: interval)
        super.init(name: name, descriptors: descriptors)
    }

    public override func reset() {
        super.reset()
        protocolMode = .report
        idleRate = 0
        queue.removeAll()
    }

    // MARK: For subclasses

    /// The state now, as an input report in the current protocol.
    func currentReport() -> [UInt8] { [] }

    /// An output report from the host (the keyboard's LEDs).
    func outputReport(_ data: [UInt8]) {}

    /// The report to send now, if any; the default takes the queue's oldest.
    func nextReport() -> [UInt8]? {
        queue.isEmpty ? nil : queue.removeFirst()
    }

    /// Queues a report for the host (the newest replaces the last when full)
    /// and tells the controller.
    func enqueue(_ report: [UInt8]) {
        if queue.count >= USBHIDDevice.queueCapacity { queue[queue.count - 1] = report } else { queue.append(report) }
        dataAvailable()
    }

    // MARK: USBDevice

    public override func transferData(_ token: USBToken, endpoint: Int, buffer: UnsafeMutableRawBufferPointer) -> USBHandshake {
        guard token == .input, endpoint == 1 else { return .stall }
        guard let report = nextReport() else { return .nak }
        let count = min(report.count, buffer.count)
        report.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
        return .ack(count)
    }

    public override func interfaceDescriptor(type: UInt8, index: UInt8) -> [UInt8]? {
        switch type {
        case USBDescriptorType.hidReport: return reportDescriptor
        case USBDescriptorType.hid: return Array(descriptors.classDescriptor)
        default: return nil
        }
    }

    public override func classRequestIn(_ setup: USBSetup) -> [UInt8]? {
        switch setup.request {
        case ClassRequest.getReport:
            return UInt8(setup.value >> 8) == ReportType.input ? currentReport() : nil
        case ClassRequest.getIdle: return [idleRate]
        case ClassRequest.getProtocol: return [protocolMode.rawValue]
        default: return nil
        }
    }

    public override func classRequestOut(_ setup: USBSetup, data: [UInt8]) -> Bool {
        switch setup.request {
        case ClassRequest.setIdle:
            idleRate = UInt8(setup.value >> 8)
            return true
        case ClassRequest.setProtocol:
            guard let mode = ProtocolMode(rawValue: UInt8(truncatingIfNeeded: setup.value)) else { return false }
            protocolMode = mode
            queue.removeAll()
            return true
        case ClassRequest.setReport:
            guard UInt8(setup.value >> 8) == ReportType.output else { return false }
            outputReport(data)
            return true
        default:
            return false
        }
    }
}

/// The buttons a pointing device reports, bit 0 left, 1 right, 2 middle (HID's button 1, 2, 3).
public struct USBPointerButtons: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 7 }
    public static let left = USBPointerButtons(rawValue: 1)
    public static let right = USBPointerButtons(rawValue: 2)
    public static let middle = USBPointerButtons(rawValue: 4)
}

/// Report descriptor items (HID 1.11, section 6.2.2), named so the
/// descriptors below read as what they declare.
enum HIDItem {
    static func usagePage(_ page: UInt8) -> [UInt8] { [0x05, page] }
    static func usage(_ usage: UInt8) -> [UInt8] { [0x09, usage] }
    static func usageMinimum(_ value: UInt8) -> [UInt8] { [0x19, value] }
    static func usageMaximum(_ value: UInt8) -> [UInt8] { [0x29, value] }
    static func logicalMinimum(_ value: Int8) -> [UInt8] { [0x15, UInt8(bitPattern: value)] }
    static func logicalMaximum(_ value: Int8) -> [UInt8] { [0x25, UInt8(bitPattern: value)] }
    static func logicalMaximum16(_ value: Int16) -> [UInt8] { [0x26] + le16(UInt16(bitPattern: value)) }
    static func physicalMinimum(_ value: Int8) -> [UInt8] { [0x35, UInt8(bitPattern: value)] }
    static func physicalMaximum16(_ value: Int16) -> [UInt8] { [0x46] + le16(UInt16(bitPattern: value)) }
    static func reportSize(_ bits: UInt8) -> [UInt8] { [0x75, bits] }
    static func reportCount(_ count: UInt8) -> [UInt8] { [0x95, count] }
    static func collection(_ kind: UInt8) -> [UInt8] { [0xA1, kind] }
    static let endCollection: [UInt8] = [0xC0]
    /// Main items' flags: bit 0 constant, bit 1 variable, bit 2 relative.
    static func input(_ flags: UInt8) -> [UInt8] { [0x81, flags] }
    static func output(_ flags: UInt8) -> [UInt8] { [0x91, flags] }

    static let pageGenericDesktop: UInt8 = 0x01
    static let pageKeyboard: UInt8 = 0x07
    static let pageLEDs: UInt8 = 0x08
    static let pageButton: UInt8 = 0x09
    static let usagePointer: UInt8 = 0x01
    static let usageMouse: UInt8 = 0x02
    static let usageKeyboard: UInt8 = 0x06
    static let usageX: UInt8 = 0x30
    static let usageY: UInt8 = 0x31
    static let usageWheel: UInt8 = 0x38
    static let collectionPhysical: UInt8 = 0x00
    static let collectionApplication: UInt8 = 0x01
    static let constant: UInt8 = 0x01
    static let dataVariableAbsolute: UInt8 = 0x02
    static let dataVariableRelative: UInt8 = 0x06
    static let dataArray: UInt8 = 0x00

    /// Three buttons in the first byte, five bits of padding.
    static let threeButtons: [UInt8] =
        usagePage(pageButton) + usageMinimum(1) + usageMaximum(3) + logicalMinimum(0) + logicalMaximum(1)
        + reportCount(3) + reportSize(1) + input(dataVariableAbsolute)
        + reportCount(1) + reportSize(5) + input(constant)

    /// A wheel byte: relative, -127 to 127.
    static let wheel: [UInt8] =
        usagePage(pageGenericDesktop) + usage(usageWheel) + logicalMinimum(-127) + logicalMaximum(127)
        + reportSize(8) + reportCount(1) + input(dataVariableRelative)
}

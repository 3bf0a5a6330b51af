/// The descriptors of a one-configuration, one-interface full-speed device
/// with one interrupt IN endpoint (every HID device here), laid out byte by
/// byte as chapter 9 of the USB specification and the HID class
/// specification define them.
struct USBDescriptorSet {
    var vendorID: UInt16
    var productID: UInt16
    var deviceRelease: UInt16
    var manufacturer: String
    var product: String
    var serialNumber: String
    var maxPacketSize0: UInt8 = 64
    let configurationValue: UInt8 = 1
    var interfaceClass: UInt8
    var interfaceSubclass: UInt8
    var interfaceProtocol: UInt8
    /// Bytes of the class descriptor between the interface and the endpoint (HID's), if any.
    var classDescriptor: [UInt8]
    var endpointAddress: UInt8
    var endpointMaxPacket: UInt16
    /// Frames between polls of the interrupt endpoint.
    var endpointInterval: UInt8

    static let stringIndexManufacturer: UInt8 = 1
    static let stringIndexProduct: UInt8 = 2
    static let stringIndexSerial: UInt8 = 3
    /// US English, the one language of the strings.
    static let languageEnglishUS: UInt16 = 0x0409
    static let usbRelease: UInt16 = 0x0110
    /// bmAttributes: bit 7 must be one; bus-powered, no remote wakeup.
    static let attributesBusPowered: UInt8 = 0x80
    /// 100 mA, in units of 2 mA.
    static let maxPower: UInt8 = 50
    static let transferTypeInterrupt: UInt8 = 3

    var device: [UInt8] {
        [18, USBDescriptorType.device] + le16(USBDescriptorSet.usbRelease) + [0, 0, 0, maxPacketSize0]
            + le16(vendorID) + le16(productID) + le16(deviceRelease)
            + [USBDescriptorSet.stringIndexManufacturer, USBDescriptorSet.stringIndexProduct,
               USBDescriptorSet.stringIndexSerial, 1]
    }

    /// The configuration with its interface, class and endpoint descriptors.
    var configuration: [UInt8] {
        let interface: [UInt8] = [9, USBDescriptorType.interface, 0, 0, 1, interfaceClass, interfaceSubclass, interfaceProtocol, 0]
        let endpoint: [UInt8] = [7, USBDescriptorType.endpoint, endpointAddress, USBDescriptorSet.transferTypeInterrupt]
            + le16(endpointMaxPacket) + [endpointInterval]
        let total = 9 + interface.count + classDescriptor.count + endpoint.count
        return [9, USBDescriptorType.configuration] + le16(UInt16(total))
            + [1, configurationValue, 0, USBDescriptorSet.attributesBusPowered, USBDescriptorSet.maxPower]
            + interface + classDescriptor + endpoint
    }

    /// String `index` in UTF-16LE; index 0 lists the languages.
    func string(_ index: UInt8) -> [UInt8]? {
        let text: String
        switch index {
        case 0: return [4, USBDescriptorType.string] + le16(USBDescriptorSet.languageEnglishUS)
        case USBDescriptorSet.stringIndexManufacturer: text = manufacturer
        case USBDescriptorSet.stringIndexProduct: text = product
        case USBDescriptorSet.stringIndexSerial: text = serialNumber
        default: return nil
        }
        let units = Array(text.utf16.prefix(126))
        return [UInt8(2 + 2 * units.count), USBDescriptorType.string] + units.flatMap(le16)
    }

    /// A standard GET_DESCRIPTOR to the device; nil stalls (other speeds'
    /// descriptors, which a full-speed-only device does not have).
    func descriptor(type: UInt8, index: UInt8) -> [UInt8]? {
        switch type {
        case USBDescriptorType.device: return device
        case USBDescriptorType.configuration: return index == 0 ? configuration : nil
        case USBDescriptorType.string: return string(index)
        default: return nil
        }
    }
}

@inline(__always) func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }

/// A PCI Message Signalled Interrupt as the x86 chipset reads it: a dword
/// written to 0xFEExxxxx whose address holds the destination APIC ID (bits
/// 19:12) and the destination mode (bit 2, logical), and whose data holds
/// the vector (7:0), the delivery mode (10:8) and the trigger mode (bit 15).
public struct MSIMessage {
    public let message: APICMessage
    public let destination: UInt8
    public let logical: Bool

    static let addressWindow: UInt32 = 0xFEE0_0000
    static let addressWindowMask: UInt32 = 0xFFF0_0000

    /// nil for an address outside the APIC window or a reserved delivery mode.
    public init?(address: UInt32, data: UInt16) {
        guard address & MSIMessage.addressWindowMask == MSIMessage.addressWindow,
              let mode = DeliveryMode(rawValue: UInt32(data >> 8) & 7) else { return nil }
        message = APICMessage(vector: UInt8(truncatingIfNeeded: data), deliveryMode: mode, levelTriggered: data & 0x8000 != 0)
        destination = UInt8(truncatingIfNeeded: address >> 12)
        logical = address & 0x4 != 0
    }
}

import Lifecycle

/// The selected item and the offset reached in it, and the DMA address's
/// high half waiting for its low half (a DMA request completes within the
/// guest's write, so none is ever in flight). The items are the machine's
/// configuration, built again by the loading machine; the selected item's
/// length is saved to catch a machine built otherwise.
extension FirmwareConfig: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "fw-cfg"
    /// Far past any item: the offset only grows by reads, copies and skips.
    static let maximumOffset = 1 << 48

    public func save(into record: inout StateRecord) {
        record.put("selector", state.selector)
        record.put("selectedLength", state.current.count)
        record.put("offset", state.offset)
        record.put("dmaAddressHigh", state.dmaAddressHigh)
    }

    public func load(from record: StateRecord) throws {
        let selector: UInt16 = try record.unsigned("selector")
        // Nothing selected since reset reads as an empty item, whatever item 0 holds.
        let length = try record.int("selectedLength", in: 0...Int.max)
        let current = length == 0 ? [] : items[selector] ?? []
        guard current.count == length else {
            throw StateRecordError.configurationMismatch(
                record: FirmwareConfig.stateName, reason: "item 0x\(String(selector, radix: 16)) held \(length) bytes, here \(current.count)")
        }
        let offset = try record.int("offset", in: 0...FirmwareConfig.maximumOffset)
        let high: UInt32 = try record.unsigned("dmaAddressHigh")
        state = State(selector: selector, current: current, offset: offset, dmaAddressHigh: high)
    }
}

import Lifecycle

/// The register window's byte order and the EDID the guest reads (the
/// VGA and VBE registers it shows are those devices' own).
extension StandardVGAMMIO: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "vga-mmio"

    public func save(into record: inout StateRecord) {
        record.put("byteOrder", byteOrder)
        record.put("edid", edid)
    }

    public func load(from record: StateRecord) throws {
        let order: UInt32 = try record.unsigned("byteOrder")
        let blob = try record.bytes("edid")
        guard blob.count <= Int(Region.edidSize) else { throw StateRecordError.outOfRange(record: StandardVGAMMIO.stateName, field: "edid") }
        byteOrder = order
        edid = blob
    }
}

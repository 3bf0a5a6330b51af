import Lifecycle
@testable import Devices

/// A record as a load sees it: written in the byte form and read back.
func throughBytes(_ record: StateRecord) throws -> StateRecord {
    try StateRecordCodec.decode(StateRecordCodec.encode(record))
}

/// A PCI function's record as the bus saves it, through the byte form.
func functionRecord<F: PCIFunctionState>(_ function: F) throws -> StateRecord {
    var record = StateRecord(name: function.name, version: F.functionStateVersion)
    function.saveFunction(into: &record)
    return try throughBytes(record)
}

import Lifecycle

extension StandardVGAFunction: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1

    /// Its configuration space only: the VGA's registers and memory are the `vga` device's.
    public func saveFunction(into record: inout StateRecord) { saveConfigSpace(into: &record) }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        let saved = try checkedConfigSpace(record)
        return { [unowned self] in
            apply(saved)
            updateROMMapping()
        }
    }
}

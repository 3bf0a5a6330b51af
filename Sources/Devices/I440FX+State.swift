import Lifecycle

/// The host bridge's state is its configuration space: PAM0-6, SMRAM with
/// its lock, the DRAM registers. Loading remaps every shadow area whose
/// mode differs (through `pamChanged`).
extension I440FX: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1

    public func saveFunction(into record: inout StateRecord) { saveConfigSpace(into: &record) }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        let saved = try checkedConfigSpace(record)
        let smram = saved.config[Register.smram]
        // C_BASE_SEG is hard-wired; nothing else outside the writable bits.
        guard smram & ~SMRAM.writable == SMRAM.baseSegment, saved.config[Register.pamFirst] & ~PAMBit.pam0Writable == 0 else {
            throw StateRecordError.outOfRange(record: record.name, field: "config")
        }
        return { [unowned self] in
            let pamBefore = pamRegisters
            apply(saved)
            if pamRegisters != pamBefore { reportPAMChanges(from: pamBefore) }
        }
    }
}

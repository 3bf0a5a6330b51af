import Lifecycle

/// The PIRQ routes (in the configuration space), how many functions assert
/// each PIRQ, and the ISA IRQ levels it drives, which a load drives again.
extension PIIX3: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1

    public func saveFunction(into record: inout StateRecord) {
        saveConfigSpace(into: &record)
        record.put("pirqAssertions", words: state.pirqAssertions.map { UInt8(clamping: $0) })
        record.put("irqOutputs", state.irqOutputs)
    }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        let saved = try checkedConfigSpace(record)
        // A byte each: far more than the functions that can share a PIRQ.
        let counts = try record.words("pirqAssertions", count: PIIX3.pirqCount, as: UInt8.self).map(Int.init)
        let outputs: UInt16 = try record.unsigned("irqOutputs")
        return { [unowned self] in
            let before = state.irqOutputs
            apply(saved)
            state.pirqAssertions = counts
            state.irqOutputs = outputs
            let changed = before ^ outputs
            for irq in 0..<16 where changed & (1 << irq) != 0 { setISAIRQ(irq, outputs & (1 << irq) != 0) }
            // The routes may have moved: outputs follow them and the counts.
            updateOutputs()
        }
    }
}

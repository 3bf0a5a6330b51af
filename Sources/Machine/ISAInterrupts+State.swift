import Devices
import Lifecycle

/// The IRQ wiring's own state: which drivers hold each IRQ, which are cut
/// off, the resulting levels and the I/O APIC pins driven directly. Loading
/// only restores this bookkeeping: the PIC pair and the I/O APIC keep their
/// inputs' levels in their own records, and the drivers loaded after it find
/// their lines already at the saved level.
extension ISAInterrupts: StatefulDevice {
    static let stateVersion: UInt32 = 1
    static let stateName = "isa-irqs"

    /// The levels follow the drivers, which reset themselves.
    func reset() {}

    var busParts: [AnyObject] { [] }

    func save(into record: inout StateRecord) {
        record.put("asserted", words: asserted)
        record.put("cutOff", words: cutOff)
        record.put("levels", flags: levels)
        record.put("directPins", flags: directPins)
    }

    func load(from record: StateRecord) throws {
        let newAsserted = try record.words("asserted", count: 16, as: UInt32.self)
        let newCutOff = try record.words("cutOff", count: 16, as: UInt32.self)
        // Only the drivers this machine wired (another wiring is another configuration).
        let wired = nextDriver.map { $0 >= 32 ? UInt32.max : (UInt32(1) << UInt32($0)) &- 1 }
        for irq in 0..<16 where newAsserted[irq] & ~wired[irq] != 0 || newCutOff[irq] & ~wired[irq] != 0 {
            throw StateRecordError.outOfRange(record: ISAInterrupts.stateName, field: "asserted")
        }
        let newLevels = try record.flags("levels", count: 16)
        guard (0..<16).allSatisfy({ newLevels[$0] == (newAsserted[$0] & ~newCutOff[$0] != 0) }) else {
            throw StateRecordError.outOfRange(record: ISAInterrupts.stateName, field: "levels")
        }
        let newDirect = try record.flags("directPins", count: IOAPIC.pinCount)
        asserted = newAsserted
        cutOff = newCutOff
        levels = newLevels
        directPins = newDirect
    }
}

import Lifecycle

/// The MSRs of the MTRR, PAT and machine-check features, which CPUID
/// declares with the P6 models. PCEmu has one memory type (all guest memory
/// behaves as write-back), so they are registers that keep what firmware and
/// the OS write, with the hardware's checks on what may be written: a
/// reserved bit or an undefined memory type is #GP.
struct CacheControlMSRs {
    static let mtrrCapabilities: UInt32 = 0xFE
    static let variableBase: UInt32 = 0x200      // 0x200-0x20F: base/mask pairs
    static let variableCount = 8
    static let fixed64K: UInt32 = 0x250
    static let fixed16K: ClosedRange<UInt32> = 0x258...0x259
    static let fixed4K: ClosedRange<UInt32> = 0x268...0x26F
    static let pat: UInt32 = 0x277
    static let mtrrDefaultType: UInt32 = 0x2FF
    static let machineCheckCapabilities: UInt32 = 0x179
    static let machineCheckStatus: UInt32 = 0x17A
    /// MC0_CTL, MC0_STATUS, MC0_ADDR, MC0_MISC: the one error-reporting bank.
    static let bank0: ClosedRange<UInt32> = 0x400...0x403

    /// Eight variable ranges, fixed ranges, write-combining.
    static let mtrrCapabilityValue: UInt64 = UInt64(variableCount) | 1 << 8 | 1 << 10
    /// One bank, no MCG_CTL.
    static let machineCheckCapabilityValue: UInt64 = 1
    static let patAtReset: UInt64 = 0x0007_0406_0007_0406
    /// Physical-address bits above MAXPHYADDR are reserved in the range registers.
    static let addressMask: UInt64 = (1 << UInt64(X86CPU.physicalAddressBits)) - 1

    var variable = [UInt64](repeating: 0, count: 2 * variableCount)
    var fixed = [UInt64](repeating: 0, count: 11)
    var defaultType: UInt64 = 0
    var pat = patAtReset
    var bankControl: UInt64 = 0
    var bankStatus: UInt64 = 0

    /// Memory types: UC, WC, WT, WP, WB (2, 3 and 7+ are reserved; PAT adds UC- as 7).
    static func isMemoryType(_ type: UInt64, pat: Bool = false) -> Bool {
        [0, 1, 4, 5, 6].contains(type) || pat && type == 7
    }

    static func bytesAreMemoryTypes(_ value: UInt64, pat: Bool = false) -> Bool {
        (0..<8).allSatisfy { isMemoryType(value >> (8 * UInt64($0)) & 0xFF, pat: pat) }
    }

    static func fixedIndex(_ index: UInt32) -> Int? {
        if index == fixed64K { return 0 }
        if fixed16K.contains(index) { return 1 + Int(index - fixed16K.lowerBound) }
        if fixed4K.contains(index) { return 3 + Int(index - fixed4K.lowerBound) }
        return nil
    }

    /// Nil when the MSR is not one of these.
    func read(_ index: UInt32) -> UInt64? {
        switch index {
        case Self.mtrrCapabilities: return Self.mtrrCapabilityValue
        case Self.variableBase..<Self.variableBase + UInt32(2 * Self.variableCount):
            return variable[Int(index - Self.variableBase)]
        case Self.mtrrDefaultType: return defaultType
        case Self.pat: return pat
        case Self.machineCheckCapabilities: return Self.machineCheckCapabilityValue
        case Self.machineCheckStatus: return 0
        case Self.bank0.lowerBound: return bankControl
        case Self.bank0.lowerBound + 1: return bankStatus
        case Self.bank0.lowerBound + 2, Self.bank0.lowerBound + 3: return 0
        default: return Self.fixedIndex(index).map { fixed[$0] }
        }
    }

    /// Nil when the MSR is not one of these; false when the value is refused (#GP).
    mutating func write(_ index: UInt32, _ value: UInt64) -> Bool? {
        switch index {
        case Self.mtrrCapabilities, Self.machineCheckCapabilities:
            return false
        case Self.variableBase..<Self.variableBase + UInt32(2 * Self.variableCount):
            let slot = Int(index - Self.variableBase)
            if slot & 1 == 0 {
                // PHYSBASE: type in bits 7:0, base from bit 12.
                guard value & ~(Self.addressMask & ~0xF00) == 0, Self.isMemoryType(value & 0xFF) else { return false }
            } else {
                // PHYSMASK: valid in bit 11, mask from bit 12.
                guard value & ~(Self.addressMask & ~0x7FF) == 0 else { return false }
            }
            variable[slot] = value
        case Self.mtrrDefaultType:
            // Type in bits 7:0, fixed ranges enabled (10), MTRRs enabled (11).
            guard value & ~0xCFF == 0, Self.isMemoryType(value & 0xFF) else { return false }
            defaultType = value
        case Self.pat:
            guard Self.bytesAreMemoryTypes(value, pat: true) else { return false }
            pat = value
        case Self.machineCheckStatus:
            guard value == 0 else { return false }
        case Self.bank0.lowerBound:
            bankControl = value
        case Self.bank0.lowerBound + 1:
            // Only zero may be written to a bank's status.
            guard value == 0 else { return false }
            bankStatus = 0
        case Self.bank0.lowerBound + 2, Self.bank0.lowerBound + 3:
            guard value == 0 else { return false }
        default:
            guard let slot = Self.fixedIndex(index) else { return nil }
            guard Self.bytesAreMemoryTypes(value) else { return false }
            fixed[slot] = value
        }
        return true
    }

    func save() -> StateRecord {
        var record = StateRecord(name: "cache-control-msrs", version: 1)
        record.put("variable", words: variable)
        record.put("fixed", words: fixed)
        record.put("defaultType", defaultType)
        record.put("pat", pat)
        record.put("bankControl", bankControl)
        return record
    }

    /// Every value goes back through `write`'s checks, so a record cannot set what a guest could not.
    static func load(_ record: StateRecord) throws -> CacheControlMSRs {
        var msrs = CacheControlMSRs()
        var writes: [(UInt32, UInt64)] = []
        for (slot, value) in try record.words("variable", count: 2 * variableCount, as: UInt64.self).enumerated() { writes.append((variableBase + UInt32(slot), value)) }
        let fixedIndices = [fixed64K] + Array(fixed16K) + Array(fixed4K)
        for (index, value) in zip(fixedIndices, try record.words("fixed", count: 11, as: UInt64.self)) { writes.append((index, value)) }
        writes.append((mtrrDefaultType, try record.unsigned("defaultType")))
        writes.append((pat, try record.unsigned("pat")))
        writes.append((bank0.lowerBound, try record.unsigned("bankControl")))
        for (index, value) in writes where msrs.write(index, value) != true {
            throw StateRecordError.outOfRange(record: X86CPU.stateName, field: "msr 0x\(String(index, radix: 16))")
        }
        return msrs
    }
}
